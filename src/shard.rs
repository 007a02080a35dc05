//! Shards: one run's grid search split over many jobs and merged back.
//!
//! `divtune tune --shard K/N` takes the plan units at positions i with
//! i mod N == K (round-robin over the plan, which is sorted by symbol and
//! date: deterministic, balanced, and needing no coordination), replays
//! the grid on them and writes a [`ShardFile`] to
//! `OUT/shard-KKKK-of-NNNN/partial.bin`, with a readable `shard.json`
//! beside it. `divtune merge` reads the N shard files back, refuses a set
//! that is incomplete, duplicated or mixed (version, config, input tree),
//! and hands the combined [`Partial`] to the same reduction a single run
//! uses. See docs/scale.md.
//!
//! `partial.bin` is postcard-encoded: f64 values round-trip bit for bit
//! (JSON would lose NaN, which the liquidity measure contains) and no
//! schema code has to be kept in step with the types. The file is private
//! to one divtune version, which its header records and `merge` checks.

use crate::artifacts::{self, WriteError};
use crate::config::Config;
use crate::data::DataPlan;
use crate::deploy::run_files::{sha256_hex, FileEntry};
use crate::tune::partial::Partial;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Layout version of `partial.bin`.
const FORMAT: u32 = 1;
pub const PARTIAL_FILE: &str = "partial.bin";
pub const SUMMARY_FILE: &str = "shard.json";

/// Which share of the plan a job takes: `index` of `count`, 0-based.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for ShardSpec {
    type Err = String;

    /// Parses `K/N` with 0 <= K < N.
    fn from_str(text: &str) -> Result<ShardSpec, String> {
        let usage = || {
            format!(
                "--shard {text:?}: write K/N with 0 <= K < N, e.g. 0/4 for the first of four \
                 shards (K is 0-based, like JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_ID)"
            )
        };
        let (k, n) = text.split_once('/').ok_or_else(usage)?;
        let index: usize = k.trim().parse().map_err(|_| usage())?;
        let count: usize = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(ShardSpec { index, count })
    }
}

impl ShardSpec {
    /// Positions of the plan units this shard takes.
    pub fn units(&self, plan: &DataPlan) -> Vec<usize> {
        (0..plan.units.len()).filter(|i| i % self.count == self.index).collect()
    }

    /// `shard-0003-of-0010`.
    pub fn dir_name(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

/// Identifies the whole input tree a plan was made from: every unit's
/// symbol, date partition and files (path and size), in plan order.
/// Shards that saw different trees would split different unit lists, so
/// their results cannot be merged.
pub fn plan_fingerprint(plan: &DataPlan) -> String {
    let mut text = String::new();
    for (i, unit) in plan.units.iter().enumerate() {
        let date = unit.unit.partition_date.as_deref().unwrap_or("-");
        text.push_str(&format!("{i}\t{}\t{date}\n", unit.unit.symbol));
        for f in &unit.files {
            text.push_str(&format!("\t{}\t{}\n", f.file.path.display(), f.file.bytes));
        }
    }
    sha256_hex(text.as_bytes())
}

/// What one shard hands to `merge`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardFile {
    pub header: ShardHeader,
    /// The config the shard ran with, as YAML, and where it came from.
    pub config_yaml: String,
    pub config_source: String,
    /// `symbol date` of each unit taken, for people reading shard.json.
    pub unit_names: Vec<String>,
    /// Input files of this shard's units (unit position, entry), hashed
    /// when the shard ran.
    pub inputs: Vec<(u32, FileEntry)>,
    pub partial: Partial,
}

/// The part of a shard that identifies it; it comes first in the file so
/// that a file from another version is recognised before decoding the rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardHeader {
    pub format: u32,
    pub tool_version: String,
    pub shard: ShardSpec,
    pub config_sha256: String,
    pub plan_fingerprint: String,
    /// Units in the whole plan, and the positions this shard took.
    pub plan_units: usize,
    pub units: Vec<usize>,
}

impl ShardFile {
    pub fn new(
        spec: ShardSpec,
        config: &Config,
        config_source: &str,
        plan: &DataPlan,
        inputs: Vec<(u32, FileEntry)>,
        partial: Partial,
    ) -> Result<ShardFile, String> {
        let config_yaml = serde_yaml::to_string(config).map_err(|e| e.to_string())?;
        let unit_names = spec
            .units(plan)
            .into_iter()
            .map(|i| {
                let u = &plan.units[i].unit;
                format!("{} {}", u.symbol, u.partition_date.as_deref().unwrap_or("-"))
            })
            .collect();
        Ok(ShardFile {
            header: ShardHeader {
                format: FORMAT,
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                shard: spec,
                config_sha256: sha256_hex(config_yaml.as_bytes()),
                plan_fingerprint: plan_fingerprint(plan),
                plan_units: plan.units.len(),
                units: spec.units(plan),
            },
            config_yaml,
            config_source: config_source.to_string(),
            unit_names,
            inputs,
            partial,
        })
    }

    /// Writes `out/shard-KKKK-of-NNNN/` (partial.bin, then shard.json),
    /// each file atomically, and returns the directory. A retried shard
    /// replaces its own files.
    pub fn write(&self, out: &Path) -> Result<PathBuf, WriteError> {
        let dir = out.join(self.header.shard.dir_name());
        std::fs::create_dir_all(&dir)
            .map_err(|e| WriteError { path: dir.clone(), message: e.to_string() })?;
        // Encoded straight into the file: a shard can hold gigabytes.
        artifacts::write_with(&dir.join(PARTIAL_FILE), |w| {
            postcard::to_io(self, w).map(|_| ()).map_err(|e| e.to_string())
        })?;
        artifacts::write_json(&dir.join(SUMMARY_FILE), &self.summary())?;
        Ok(dir)
    }

    /// The readable description written to shard.json.
    pub fn summary(&self) -> serde_json::Value {
        let p = &self.partial;
        serde_json::json!({
            "header": self.header,
            "config_source": self.config_source,
            "series": p.series.len(),
            "bars": p.total_bars(),
            "input_rows": p.total_rows(),
            "grid_events": p.event_count(),
            "units": self.unit_names,
            "input_files": self.inputs.iter().map(|(_, f)| f).collect::<Vec<_>>(),
        })
    }

    /// Reads a shard directory's partial.bin.
    /// Reads a shard directory's header and checks that this divtune
    /// version wrote it.
    pub fn read_header(dir: &Path) -> Result<ShardHeader, String> {
        let path = dir.join(PARTIAL_FILE);
        let mut scratch = vec![0u8; 1 << 10];
        let (header, _) =
            postcard::from_io::<ShardHeader, _>((open_shard(&path)?, &mut scratch))
                .map_err(|e| format!("{}: not a divtune shard file ({e})", path.display()))?;
        let mine = env!("CARGO_PKG_VERSION");
        if header.format != FORMAT || header.tool_version != mine {
            return Err(format!(
                "{}: written by divtune {} (format {}); this is divtune {mine} (format {FORMAT}). \
                 Re-run every shard with the same divtune version.",
                path.display(),
                header.tool_version,
                header.format
            ));
        }
        Ok(header)
    }

    /// Reads a whole shard directory's partial.bin.
    pub fn read(dir: &Path) -> Result<ShardFile, String> {
        Self::read_header(dir)?;
        let path = dir.join(PARTIAL_FILE);
        // Decoded as the file is read, so that a large shard is not held
        // twice. The scratch buffer holds one string at a time (the config
        // is the longest).
        let mut scratch = vec![0u8; 1 << 20];
        postcard::from_io((open_shard(&path)?, &mut scratch))
            .map(|(file, _)| file)
            .map_err(|e| format!("{}: damaged shard file ({e}); re-run this shard", path.display()))
    }

    pub fn config(&self) -> Result<Config, String> {
        let config: Config = serde_yaml::from_str(&self.config_yaml).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }
}

fn open_shard(path: &Path) -> Result<std::io::BufReader<std::fs::File>, String> {
    std::fs::File::open(path).map(std::io::BufReader::new).map_err(|e| {
        format!(
            "{}: cannot read ({e}); is this a directory written by `divtune tune --shard`?",
            path.display()
        )
    })
}

/// Shard directories named by `paths`: each path is a shard directory
/// (it holds partial.bin) or a directory of shard directories.
pub fn find_shards(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for path in paths {
        if path.join(PARTIAL_FILE).is_file() {
            found.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|e| {
            format!(
                "{}: cannot read ({e}); give shard directories written by `divtune tune --shard`",
                path.display()
            )
        })?;
        let mut inside: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join(PARTIAL_FILE).is_file())
            .collect();
        if inside.is_empty() {
            return Err(format!(
                "{}: no shard here (no {PARTIAL_FILE} in it or in its subdirectories)",
                path.display()
            ));
        }
        inside.sort();
        found.extend(inside);
    }
    Ok(found)
}

/// A complete, consistent set of shards, combined.
pub struct Merged {
    pub config: Config,
    pub config_source: String,
    /// Input files of every unit, in plan order.
    pub inputs: Vec<FileEntry>,
    pub partial: Partial,
    pub shards: usize,
}

/// Reads and checks every shard in `dirs`, then combines them. Every
/// shard must come from the same divtune version, config and input tree,
/// agree on N, and each index 0..N must appear exactly once.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, String> {
    // Headers first: a mismatched set is refused before gigabytes of
    // partials are decoded.
    let mut headers: Vec<(PathBuf, ShardHeader)> = Vec::new();
    for dir in dirs {
        headers.push((dir.clone(), ShardFile::read_header(dir)?));
    }
    let (first_dir, expect) = headers.first().ok_or("no shard directories given")?;
    for (dir, h) in &headers[1..] {
        let clash = |what: &str| {
            format!(
                "{} and {} differ in {what}; every shard of a run must use the same \
                 divtune version, config and input tree, and the same N",
                first_dir.display(),
                dir.display()
            )
        };
        if h.shard.count != expect.shard.count {
            return Err(clash(&format!("N ({} vs {})", expect.shard.count, h.shard.count)));
        }
        if h.config_sha256 != expect.config_sha256 {
            return Err(clash("config"));
        }
        if h.plan_fingerprint != expect.plan_fingerprint {
            return Err(clash("input tree (files were added, removed or changed between shards)"));
        }
    }
    check_complete(&headers, expect.shard.count)?;

    headers.sort_by_key(|(_, h)| h.shard.index);
    let n = headers.len();
    let (mut config, mut config_source) = (None, String::new());
    let mut inputs: Vec<(u32, FileEntry)> = Vec::new();
    let mut parts = Vec::with_capacity(n);
    for (dir, _) in &headers {
        let shard = ShardFile::read(dir)?;
        if config.is_none() {
            config = Some(shard.config()?);
            config_source = shard.config_source.clone();
        }
        inputs.extend(shard.inputs);
        parts.push(shard.partial);
    }
    let partial = Partial::concat(parts);
    // Stable: a unit's files keep their plan order.
    inputs.sort_by_key(|(unit, _)| *unit);
    Ok(Merged {
        config: config.expect("at least one shard"),
        config_source,
        inputs: inputs.into_iter().map(|(_, f)| f).collect(),
        partial: partial.into_run_order(),
        shards: n,
    })
}

fn check_complete(shards: &[(PathBuf, ShardHeader)], count: usize) -> Result<(), String> {
    let mut seen: Vec<Option<&Path>> = vec![None; count];
    for (dir, header) in shards {
        let k = header.shard.index;
        if k >= count {
            return Err(format!("{}: shard index {k} is not below N = {count}", dir.display()));
        }
        if let Some(other) = seen[k] {
            return Err(format!(
                "shard {k}/{count} appears twice: {} and {}; give each shard once",
                other.display(),
                dir.display()
            ));
        }
        seen[k] = Some(dir);
    }
    let missing: Vec<String> =
        (0..count).filter(|k| seen[*k].is_none()).map(|k| format!("{k}/{count}")).collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing shard{} {}: run `divtune tune --shard K/{count}` for {} and merge again",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "each" }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_spec_reads_k_of_n_and_refuses_k_outside_zero_to_n() {
        assert_eq!("2/5".parse::<ShardSpec>(), Ok(ShardSpec { index: 2, count: 5 }));
        assert_eq!("0/1".parse::<ShardSpec>(), Ok(ShardSpec { index: 0, count: 1 }));
        for bad in ["5/5", "1/0", "3", "a/2", "-1/2", ""] {
            let err = bad.parse::<ShardSpec>().unwrap_err();
            assert!(err.contains("0 <= K < N"), "{bad}: {err}");
        }
    }

    fn empty_shard(version: &str) -> ShardFile {
        ShardFile {
            header: ShardHeader {
                format: FORMAT,
                tool_version: version.to_string(),
                shard: ShardSpec { index: 0, count: 1 },
                config_sha256: String::new(),
                plan_fingerprint: String::new(),
                plan_units: 0,
                units: Vec::new(),
            },
            config_yaml: String::new(),
            config_source: String::new(),
            unit_names: Vec::new(),
            inputs: Vec::new(),
            partial: Partial::default(),
        }
    }

    #[test]
    fn a_shard_round_trips_and_one_from_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = empty_shard(env!("CARGO_PKG_VERSION"));
        file.partial.detector_block_ns = vec![f64::NAN, 1.5];
        let written = file.write(dir.path()).unwrap();
        let back = ShardFile::read(&written).unwrap();
        assert_eq!(back.header, file.header);
        assert!(back.partial.detector_block_ns[0].is_nan());
        assert_eq!(back.partial.detector_block_ns[1], 1.5);

        let old = empty_shard("0.0.0").write(&dir.path().join("old")).unwrap();
        let err = ShardFile::read(&old).unwrap_err();
        assert!(err.contains("written by divtune 0.0.0"), "{err}");
        assert!(err.contains("same divtune version"), "{err}");
    }

    #[test]
    fn shard_directories_sort_by_index() {
        let a = ShardSpec { index: 2, count: 10 }.dir_name();
        let b = ShardSpec { index: 10, count: 12 }.dir_name();
        assert_eq!(a, "shard-0002-of-0010");
        assert_eq!(b, "shard-0010-of-0012");
    }
}
