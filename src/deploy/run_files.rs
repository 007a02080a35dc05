//! The run files that deployment reads: `gate.json` ([`GateFile`]) and
//! `manifest.json` ([`Manifest`]).
//!
//! These structs are the single definition of both formats: the nightly run
//! writes them with the same types and deployment reads them back, so a
//! renamed field breaks the build instead of a promotion. Reading tolerates
//! fields it does not know (a newer writer may add some); `schema_version`
//! says when the meaning of an existing field changes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The schema version every run file carries; deployment accepts only this.
pub const SCHEMA_VERSION: u32 = 1;

/// `gate.json`: the acceptance gate's verdict on a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateFile {
    pub schema_version: u32,
    pub run_id: String,
    /// True when every rule passed.
    pub passed: bool,
    pub rules: Vec<GateRule>,
}

/// One gate rule and how the run fared against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateRule {
    /// Short stable name such as `acc@10`.
    pub name: String,
    /// The measured value; `None` (JSON `null`) when it could not be computed,
    /// since JSON has no NaN.
    pub value: Option<f64>,
    /// The condition as text, such as `>= 0.55`.
    pub threshold: String,
    pub passed: bool,
    /// Free text for people: sample size, interval, why it failed.
    #[serde(default)]
    pub detail: String,
}

impl GateFile {
    /// Names of the rules that failed, in file order.
    pub fn failed_rules(&self) -> Vec<String> {
        self.rules.iter().filter(|r| !r.passed).map(|r| r.name.clone()).collect()
    }
}

/// `manifest.json`: what a run read and wrote, with sizes and hashes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub run_id: String,
    pub tool_version: String,
    pub git_commit: String,
    /// Where the config came from (a path, or "built-in defaults").
    #[serde(default)]
    pub config_source: String,
    /// SHA-256 of the config the run used (as YAML), lower-case hex.
    pub config_sha256: String,
    /// Seed of the run's randomness (synthetic data, bootstrap).
    #[serde(default)]
    pub seed: u64,
    /// UTC, RFC 3339.
    pub started_at: String,
    pub finished_at: String,
    pub inputs: Vec<FileEntry>,
    /// Paths relative to the run directory.
    pub outputs: Vec<FileEntry>,
}

impl Manifest {
    /// The output entry whose relative path is exactly `rel`.
    pub fn output(&self, rel: &str) -> Option<&FileEntry> {
        self.outputs.iter().find(|e| e.path == rel)
    }
}

/// One file in a manifest: where it is, how long and its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
}

impl FileEntry {
    /// Describes `base/rel`, recording `rel` as the path.
    pub fn of_file(base: &Path, rel: &str) -> std::io::Result<FileEntry> {
        let bytes = std::fs::read(base.join(rel))?;
        Ok(FileEntry::of_bytes(rel, &bytes))
    }

    /// Describes in-memory `bytes` that will be (or were) written at `rel`.
    pub fn of_bytes(rel: &str, bytes: &[u8]) -> FileEntry {
        FileEntry { path: rel.to_string(), bytes: bytes.len() as u64, sha256: sha256_hex(bytes) }
    }
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_the_fips_test_vector() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn gate_file_reads_null_values_and_missing_detail() {
        let text = r#"{"schema_version":1,"run_id":"r1","passed":false,"rules":[
            {"name":"acc@10","value":0.61,"threshold":">= 0.55","passed":true},
            {"name":"events","value":null,"threshold":">= 100","passed":false,"detail":"x"}]}"#;
        let gate: GateFile = serde_json::from_str(text).unwrap();
        assert_eq!(gate.rules[0].detail, "");
        assert_eq!(gate.rules[1].value, None);
        assert_eq!(gate.failed_rules(), vec!["events".to_string()]);
    }

    #[test]
    fn manifest_round_trips_and_finds_outputs_by_exact_path() {
        let m = Manifest {
            schema_version: 1,
            run_id: "r1".into(),
            tool_version: "0.1.0".into(),
            git_commit: "abc".into(),
            config_source: "config/divtune.yaml".into(),
            config_sha256: sha256_hex(b""),
            seed: 7,
            started_at: "2024-01-01T00:00:00Z".into(),
            finished_at: "2024-01-01T00:10:00Z".into(),
            inputs: vec![],
            outputs: vec![FileEntry::of_bytes("best_global.yaml", b"x: 1\n")],
        };
        let back: Manifest = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.output("best_global.yaml").unwrap().bytes, 5);
        assert!(back.output("global.yaml").is_none());
    }
}
