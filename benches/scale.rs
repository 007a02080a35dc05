//! Scale benchmark: every stage of the nightly job timed on one data tree in
//! one process, against a bare polars read of the same Parquet columns.
//!
//! `scripts/bench.sh` runs it on synthetic markets of 1, 10 and 50 million
//! ticks; `cargo bench --bench scale` runs it on the shipped sample. Stages,
//! each timed with [`Instant`] as the fastest of `--repeats` passes (3 by
//! default) unless said otherwise:
//!
//! - bare scan: the columns divtune reads from every trades and quotes file,
//!   decoded by polars on the calling thread as `divtune::data::read` does;
//! - data stage: `data::load_unit` over every unit, one after another;
//! - features: `features::bars_from_ticks` over every tick segment;
//! - pipeline load: `pipeline::load` (plan, load and features, in parallel
//!   on the rayon pool), timed once; its bars feed the stages below;
//! - detector: `detector::replay` of the config's `detector:` parameters
//!   over every series;
//! - full grid and one set: `tune::run` with the config's grid and with a
//!   grid of the single point `detector:`.
//!
//! Throughput is in ticks (trade + quote rows kept by the data stage) per
//! second for every stage, so that stages compare directly; the detector
//! also gives bars per second. Figures go to stdout as a table and, with
//! `--json`, to a flat JSON object (one key per line) that the script reads.

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use divtune::config::Config;
use divtune::data::{self, DataPlan, SegmentData};
use divtune::pipeline;
use divtune::series::Prepared;
use divtune::{detector, features, tune};
use polars::prelude::{ParallelStrategy, ParquetReader, SerReader};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Times each stage of divtune on one data tree.
#[derive(Parser, Debug)]
struct Args {
    /// Data tree or Parquet files to load [default: the shipped sample]
    #[arg(long)]
    data: Option<PathBuf>,
    /// Config file [default: config/divtune.yaml when it exists]
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write the figures here as JSON
    #[arg(long)]
    json: Option<PathBuf>,
    /// Passes per cheap stage; the fastest counts
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: u32,
    /// Added by `cargo bench`; ignored
    #[arg(long, hide = true)]
    bench: bool,
}

/// Everything measured, flat so that a shell script can read it by key.
#[derive(Debug, Default, Serialize)]
struct Figures {
    data: String,
    config_source: String,
    rayon_threads: usize,
    repeats: u32,
    files: usize,
    units: usize,
    series: usize,
    /// Rows the bare scan decoded (trades + quotes files).
    rows_read: usize,
    /// Trade + quote rows kept by the data stage: the throughput numerator.
    ticks: usize,
    trades: usize,
    bars: usize,
    grid_points: usize,
    detector_events: usize,
    bare_scan_s: f64,
    data_stage_s: f64,
    features_s: f64,
    pipeline_load_s: f64,
    detector_s: f64,
    grid_full_s: f64,
    grid_one_s: f64,
    bare_scan_ticks_per_s: f64,
    data_stage_ticks_per_s: f64,
    features_ticks_per_s: f64,
    detector_ticks_per_s: f64,
    detector_bars_per_s: f64,
    grid_full_ticks_per_s: f64,
    grid_one_ticks_per_s: f64,
    data_stage_over_bare_scan: f64,
    grid_full_over_one: f64,
    /// Peak resident set of this process (VmHWM), when the OS reports it.
    peak_rss_kib: Option<u64>,
}

/// Exit status 0 when every stage ran, 2 on any error (its chain printed
/// once), as divtune's own commands do.
fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let data_path =
        args.data.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"));
    let (config, config_source) = Config::resolve(args.config.as_deref())?;
    let mut fig = Figures {
        data: data_path.display().to_string(),
        config_source,
        rayon_threads: rayon::current_num_threads(),
        repeats: args.repeats,
        ..Figures::default()
    };
    let paths = [data_path];

    // Phase 1: files and columns as the data stage plans them.
    let plan = data::plan(&paths, &config.data)?;
    fig.files = plan.file_count();
    fig.units = plan.units.len();
    eprintln!("scale: {} files in {} units from {}", fig.files, fig.units, fig.data);

    // Phase 2: bare scan, data stage and features, on the calling thread.
    (fig.rows_read, fig.bare_scan_s) = best_of(args.repeats, || bare_scan(&plan))?;
    let passes = stage_passes(&plan, &config, args.repeats)?;
    (fig.ticks, fig.trades) = (passes.ticks, passes.trades);
    (fig.data_stage_s, fig.features_s) = (passes.data_s, passes.features_s);

    // Phase 3: the bars the tuning stage sees, then detector and grid.
    let started = Instant::now();
    let (_, prepared) = pipeline::load(&config, &paths)?;
    fig.pipeline_load_s = started.elapsed().as_secs_f64();
    fig.series = prepared.series.len();
    fig.bars = prepared.total_bars();
    (fig.detector_events, fig.detector_s) =
        best_of(args.repeats, || replay_all(&prepared, &config))?;
    time_grids(&mut fig, &prepared, &config, args.repeats)?;

    // Phase 4: rates, ratios, output.
    fig.fill_rates();
    fig.peak_rss_kib = peak_rss_kib();
    println!("{}", fig.table());
    if let Some(path) = &args.json {
        write_json(path, &fig)?;
        eprintln!("scale: figures written to {}", path.display());
    }
    Ok(())
}

/// Runs `f` `repeats` times; returns the last result and the fastest time.
fn best_of<T>(repeats: u32, mut f: impl FnMut() -> Result<T>) -> Result<(T, f64)> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeats {
        let started = Instant::now();
        let value = f()?;
        best = best.min(started.elapsed().as_secs_f64());
        last = Some(value);
    }
    Ok((last.expect("repeats >= 1"), best))
}

/// Decodes the columns divtune reads from every trades and quotes file, on
/// the calling thread (like `divtune::data::read::read_columns`). Returns
/// the rows decoded.
fn bare_scan(plan: &DataPlan) -> Result<usize> {
    let mut rows = 0;
    for planned in plan.units.iter().flat_map(|u| &u.files) {
        if !matches!(planned.file.role, data::Role::Trades | data::Role::Quotes) {
            continue;
        }
        let mut columns: Vec<String> = planned.columns.fields.values().cloned().collect();
        columns.extend(planned.columns.depth.iter().flatten().cloned());
        let path = &planned.file.path;
        let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
        let df = ParquetReader::new(file)
            .read_parallel(ParallelStrategy::None)
            .with_columns(Some(columns))
            .finish()
            .with_context(|| format!("{}: bare polars read", path.display()))?;
        rows += std::hint::black_box(df).height();
    }
    Ok(rows)
}

/// What the data-stage and feature passes counted and took.
struct Passes {
    ticks: usize,
    trades: usize,
    /// Fastest pass of each stage.
    data_s: f64,
    features_s: f64,
}

/// `repeats` passes of data stage then features, unit by unit, so that only
/// one unit's ticks are in memory at a time.
fn stage_passes(plan: &DataPlan, config: &Config, repeats: u32) -> Result<Passes> {
    let mut best = Passes { ticks: 0, trades: 0, data_s: f64::INFINITY, features_s: f64::INFINITY };
    for _ in 0..repeats {
        let mut pass = Passes { ticks: 0, trades: 0, data_s: 0.0, features_s: 0.0 };
        for unit in &plan.units {
            let started = Instant::now();
            let loaded = data::load_unit(plan, unit)?;
            pass.data_s += started.elapsed().as_secs_f64();

            let started = Instant::now();
            for segment in &loaded.segments {
                if let SegmentData::Ticks { trades, quotes } = &segment.data {
                    let bars = features::bars_from_ticks(
                        trades,
                        quotes,
                        &config.features,
                        segment.channels,
                    );
                    std::hint::black_box(bars);
                    pass.ticks += trades.len() + quotes.len();
                    pass.trades += trades.len();
                }
            }
            pass.features_s += started.elapsed().as_secs_f64();
        }
        best = Passes {
            data_s: best.data_s.min(pass.data_s),
            features_s: best.features_s.min(pass.features_s),
            ..pass
        };
    }
    Ok(best)
}

/// One detector with the config's `detector:` parameters over every series.
/// Returns the number of events.
fn replay_all(prepared: &Prepared, config: &Config) -> Result<usize> {
    let mut events = 0;
    for s in &prepared.series {
        let fired = detector::replay(&s.bars, config.detector.clone(), s.channels)
            .map_err(|e| anyhow!("detector: {e}"))?;
        events += fired.len();
    }
    Ok(events)
}

/// Times `tune::run` with the config's grid and with the single point
/// `detector:`.
fn time_grids(fig: &mut Figures, prepared: &Prepared, config: &Config, repeats: u32) -> Result<()> {
    let one = one_point(config)?;
    let run = |c: &Config| {
        let inputs = tune::TuneInputs {
            base: &c.detector,
            tune: &c.tune,
            buckets: &c.buckets,
            labels: &c.labels,
        };
        tune::run(prepared, &inputs).map(|o| o.grid.points.len()).map_err(|e| anyhow!("tune: {e}"))
    };
    (fig.grid_points, fig.grid_full_s) = best_of(repeats, || run(config))?;
    let (one_points, one_s) = best_of(repeats, || run(&one))?;
    if one_points != 1 {
        return Err(anyhow!("the one-set grid expanded to {one_points} points, not 1"));
    }
    fig.grid_one_s = one_s;
    Ok(())
}

/// The config with every gridded parameter reduced to its `detector:`
/// value and no constraints. Goes through the config's own serialised
/// form, so it depends only on the file format.
fn one_point(config: &Config) -> Result<Config> {
    let mut value = serde_json::to_value(config)?;
    let detector = value["detector"].clone();
    let grid = &mut value["tune"]["grid"];
    let params = grid["params"].as_object_mut().ok_or_else(|| anyhow!("tune.grid.params"))?;
    for (name, values) in params.iter_mut() {
        let base = detector.get(name).ok_or_else(|| anyhow!("detector.{name} is not set"))?;
        *values = serde_json::json!([base]);
    }
    grid["constraints"] = serde_json::json!([]);
    Ok(serde_json::from_value(value)?)
}

impl Figures {
    fn fill_rates(&mut self) {
        let ticks = self.ticks as f64;
        let rate = |s: f64| ticks / s;
        self.bare_scan_ticks_per_s = rate(self.bare_scan_s);
        self.data_stage_ticks_per_s = rate(self.data_stage_s);
        self.features_ticks_per_s = rate(self.features_s);
        self.detector_ticks_per_s = rate(self.detector_s);
        self.detector_bars_per_s = self.bars as f64 / self.detector_s;
        self.grid_full_ticks_per_s = rate(self.grid_full_s);
        self.grid_one_ticks_per_s = rate(self.grid_one_s);
        self.data_stage_over_bare_scan = self.data_stage_s / self.bare_scan_s;
        self.grid_full_over_one = self.grid_full_s / self.grid_one_s;
    }

    /// A Markdown table of the stages.
    fn table(&self) -> String {
        let mut t = format!(
            "{} ticks kept of {} rows read ({} trades), {} bars in {} series; {} rayon threads\n\n",
            self.ticks, self.rows_read, self.trades, self.bars, self.series, self.rayon_threads
        );
        t.push_str("| stage | seconds | M ticks/s |\n|---|---:|---:|\n");
        let rows = [
            ("bare polars scan", self.bare_scan_s),
            ("data stage", self.data_stage_s),
            ("features", self.features_s),
            ("pipeline::load (data + features)", self.pipeline_load_s),
            ("detector, one set", self.detector_s),
            (&format!("tune, full grid ({} points)", self.grid_points), self.grid_full_s),
            ("tune, one set", self.grid_one_s),
        ];
        for (name, s) in rows {
            t.push_str(&format!("| {name} | {s:.3} | {:.2} |\n", self.ticks as f64 / s / 1e6));
        }
        t.push_str(&format!(
            "\ndetector {:.1} M bars/s; data stage / bare scan {:.2}x; full grid / one set {:.2}x",
            self.detector_bars_per_s / 1e6,
            self.data_stage_over_bare_scan,
            self.grid_full_over_one
        ));
        t
    }
}

/// Peak resident set size of this process from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes pretty JSON through a temporary file in the same directory, so
/// a reader never sees half a file.
fn write_json(path: &Path, fig: &Figures) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(fig)? + "\n";
    std::fs::write(&tmp, text).with_context(|| tmp.display().to_string())?;
    std::fs::rename(&tmp, path).with_context(|| path.display().to_string())?;
    Ok(())
}
