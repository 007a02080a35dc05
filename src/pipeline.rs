//! The stages in order, as the commands run them: check the inputs, load
//! and build bars, create the run directory, tune, and write the
//! artifacts. A data problem stops the run before the run directory
//! exists, so a failed run leaves nothing behind.

use crate::artifacts;
use crate::config::Config;
use crate::data;
use crate::detector::{Detector, DetectorParams};
use crate::events;
use crate::run::{self, FileEntry, Manifest, SCHEMA_VERSION};
use crate::series::{self, BarSeries, Prepared};
use crate::shard::{self, ShardFile, ShardSpec};
use crate::stats;
use crate::tune::partial::{self, Partial, SeriesLedger};
use crate::tune::report::{RunFacts, Timings};
use crate::tune::{self, TuneInputs, TuneOutcome};
use crate::ui;
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where a run reads from and writes to.
pub struct RunRequest<'a> {
    pub config: &'a Config,
    pub config_source: &'a str,
    pub data: &'a [PathBuf],
    pub out_root: &'a Path,
    pub reports_root: &'a Path,
    /// Name of the run directory; None: the start time.
    pub run_id: Option<&'a str>,
}

/// A finished tuning run.
pub struct TuneRun {
    pub run_id: String,
    pub dir: PathBuf,
    pub facts: RunFacts,
    pub outcome: TuneOutcome,
    pub timings: Timings,
    pub plan: data::DataPlan,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// Checks and loads the data: every fatal data problem surfaces here.
pub fn load(config: &Config, paths: &[PathBuf]) -> Result<(data::DataPlan, Prepared)> {
    let plan = plan_inputs(config, paths)?;
    let prepared = series::prepare(&plan, &config.features)?;
    if prepared.series.is_empty() {
        return Err(no_bars(paths));
    }
    log_loaded(prepared.total_rows(), prepared.total_bars(), prepared.series.len());
    log_quality(&prepared.quality);
    Ok((plan, prepared))
}

/// Discovers and checks the input files.
pub fn plan_inputs(config: &Config, paths: &[PathBuf]) -> Result<data::DataPlan> {
    let plan = data::plan(paths, &config.data)?;
    ui::info(format!(
        "data: {} files ({:.1} MB) in {} units; symbols {}",
        plan.file_count(),
        plan.total_bytes() as f64 / 1e6,
        plan.units.len(),
        plan.symbols().join(", ")
    ));
    Ok(plan)
}

fn no_bars(paths: &[PathBuf]) -> anyhow::Error {
    anyhow!("no bars could be built from {}; check the bar size and the data", show(paths))
}

fn log_loaded(rows: usize, bars: usize, series: usize) {
    ui::info(format!("data: {rows} rows -> {bars} bars in {series} series"));
}

fn log_quality(units: &[data::UnitQuality]) {
    for unit in units {
        for f in &unit.files {
            ui::detail(format!(
                "{} [{}]: read {}, kept {}, dropped {}",
                f.path.display(),
                f.role,
                f.rows_read,
                f.rows_kept,
                f.dropped.summary()
            ));
        }
        ui::detail(format!(
            "{}: {} segments, {} gap splits, {}",
            unit.symbol, unit.segments, unit.gap_splits, unit.channels
        ));
    }
}

/// The per-unit half of tuning over the plan units at `units`: load each
/// unit, build its bars and replay the whole grid on them, one unit per
/// worker at a time.
pub fn replay_units(config: &Config, plan: &data::DataPlan, units: &[usize]) -> Result<Partial> {
    let grid = config.tune.grid.expand(&config.detector).map_err(|e| anyhow!("tune.grid: {e}"))?;
    let parts = series::map_units(plan, units, &config.features, |u, series, quality| {
        let mut part = Partial::of_unit(u as u32, &series, &grid.points, &config.buckets);
        for s in &series {
            part.detector_block_ns.extend(partial::time_detector(s, &config.detector));
        }
        part.quality.push((u as u32, quality));
        part
    })?;
    Ok(Partial::concat(parts))
}

/// Runs the tuning stage, writes its artifacts into a new run directory,
/// and closes the run with its manifest.
pub fn tune(request: &RunRequest<'_>) -> Result<TuneRun> {
    let run = tune_stage(request)?;
    close_run(&run, request)?;
    Ok(run)
}

/// Writes the manifest of a run tuned in this process, hashing its inputs.
fn close_run(run: &TuneRun, request: &RunRequest<'_>) -> Result<Manifest> {
    let inputs = hash_inputs(&run.plan, &all_units(&run.plan))?;
    let inputs: Vec<FileEntry> = inputs.into_iter().map(|(_, f)| f).collect();
    let config = (request.config, request.config_source);
    write_manifest(&run.dir, &run.run_id, config, &inputs, run.started_at)
}

fn all_units(plan: &data::DataPlan) -> Vec<usize> {
    (0..plan.units.len()).collect()
}

/// The tuning stage without the manifest, for callers that write more
/// artifacts into the run before closing it.
fn tune_stage(request: &RunRequest<'_>) -> Result<TuneRun> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let plan = plan_inputs(request.config, request.data)?;
    let partial = replay_units(request.config, &plan, &all_units(&plan))?.into_run_order();
    if partial.series.is_empty() {
        return Err(no_bars(request.data));
    }
    let units_s = started.elapsed().as_secs_f64();
    // Only now, with every input checked, does the run get a directory.
    let (run_id, dir) = create_run_dir(request.out_root, request.run_id, started_at)?;
    let (outcome, facts, timings) =
        finish_tune(&dir, &run_id, &partial, request.config, units_s, started)?;
    Ok(TuneRun { run_id, dir, facts, outcome, timings, plan, started_at })
}

/// The run directory: `root/ID` for a given id (which must not exist yet),
/// otherwise named after the start time.
fn create_run_dir(
    root: &Path,
    id: Option<&str>,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<(String, PathBuf)> {
    let (run_id, dir) = match id {
        Some(id) => {
            run::check_run_id(id).map_err(|e| anyhow!("--run-id: {e}"))?;
            let (got, dir) = run::create_run_dir(root, id)?;
            if got != id {
                std::fs::remove_dir(&dir).ok();
                return Err(anyhow!(
                    "--run-id {id}: {} already exists; choose another id or remove it",
                    root.join(id).display()
                ));
            }
            (got, dir)
        }
        None => run::create_run_dir(root, &run::run_id(started_at))?,
    };
    ui::info(format!("run {run_id}: writing to {}", dir.display()));
    Ok((run_id, dir))
}

/// The global half of tuning over a partial in run order, and the tuning
/// artifacts it leads to.
fn finish_tune(
    dir: &Path,
    run_id: &str,
    partial: &Partial,
    config: &Config,
    units_s: f64,
    started: Instant,
) -> Result<(TuneOutcome, RunFacts, Timings)> {
    log_loaded(partial.total_rows(), partial.total_bars(), partial.series.len());
    let quality: Vec<data::UnitQuality> = partial.quality.iter().map(|(_, q)| q.clone()).collect();
    log_quality(&quality);
    let facts = facts(run_id, partial);
    let reduce_started = Instant::now();
    let inputs = TuneInputs {
        base: &config.detector,
        tune: &config.tune,
        buckets: &config.buckets,
        labels: &config.labels,
    };
    let outcome = tune::reduce(partial, &inputs).map_err(|e| anyhow!("tuning: {e}"))?;
    let reduce_s = reduce_started.elapsed().as_secs_f64();
    for b in &outcome.buckets {
        let choice = b
            .fallback
            .as_deref()
            .map_or(format!("point {:?}", b.point), |f| format!("global ({f})"));
        ui::detail(format!("bucket {}: {choice}", b.bucket));
    }
    ui::info(format!(
        "tune: {} grid points x {} series; chosen point {:?}",
        outcome.grid.points.len(),
        partial.series.len(),
        outcome.global.point
    ));
    let timings = Timings {
        units_s,
        reduce_s,
        total_s: started.elapsed().as_secs_f64(),
        ..detector_timings(&partial.detector_block_ns)
    };
    write_tune_artifacts(dir, &outcome, &facts, partial, &quality, config, &timings)?;
    Ok((outcome, facts, timings))
}

fn write_tune_artifacts(
    dir: &Path,
    outcome: &TuneOutcome,
    facts: &RunFacts,
    partial: &Partial,
    quality: &[data::UnitQuality],
    config: &Config,
    timings: &Timings,
) -> Result<()> {
    let horizons = &config.labels.horizons;
    events::write(dir, &outcome.chosen_events, horizons, false)?;
    write_timeline(dir, partial, outcome)?;
    let quality = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "run_id": facts.run_id,
        "units": quality,
    });
    artifacts::write_json(&dir.join("data_quality.json"), &quality)?;
    tune::report::write_all(
        dir,
        outcome,
        facts,
        &config.buckets,
        outcome.chosen_events.len(),
        timings,
    )?;
    Ok(())
}

/// Bars shown on the report's event timelines: per symbol, the first
/// `TIMELINE_BARS` bars of its first test-period series (or of its last
/// series when none is in the test period).
const TIMELINE_BARS: usize = 1800;

fn write_timeline(dir: &Path, partial: &Partial, outcome: &TuneOutcome) -> Result<()> {
    let test_start = outcome.folds.last().map(|f| f.test_start);
    let (mut symbol, mut ts, mut price) = (Vec::new(), Vec::new(), Vec::new());
    for sym in partial.symbols() {
        let of_symbol: Vec<&SeriesLedger> =
            partial.series.iter().filter(|s| s.symbol == sym).collect();
        let in_test =
            of_symbol.iter().find(|s| s.start().zip(test_start).is_some_and(|(a, b)| a >= b));
        let Some(series) = in_test.or(of_symbol.last()) else { continue };
        for (t, p) in series.ts.iter().zip(&series.prices).take(TIMELINE_BARS) {
            symbol.push(sym.clone());
            ts.push(t.0);
            price.push(*p);
        }
    }
    use polars::prelude::{Column, DataFrame};
    let height = ts.len();
    let columns = vec![
        Column::new("symbol".into(), symbol),
        Column::new("ts_ns".into(), ts),
        Column::new("price".into(), price),
    ];
    let mut df = DataFrame::new(height, columns)?;
    artifacts::write_parquet(&dir.join("timeline.parquet"), &mut df)?;
    Ok(())
}

/// Runs one shard: the per-unit half over this shard's share of the plan,
/// written to `out/shard-KKKK-of-NNNN/` for `divtune merge`.
pub fn tune_shard(request: &RunRequest<'_>, spec: ShardSpec) -> Result<(PathBuf, ShardFile)> {
    let plan = plan_inputs(request.config, request.data)?;
    let units = spec.units(&plan);
    ui::info(format!(
        "shard {}/{}: {} of {} units",
        spec.index,
        spec.count,
        units.len(),
        plan.units.len()
    ));
    let partial = replay_units(request.config, &plan, &units)?;
    log_loaded(partial.total_rows(), partial.total_bars(), partial.series.len());
    let inputs = hash_inputs(&plan, &units)?;
    let file = ShardFile::new(spec, request.config, request.config_source, &plan, inputs, partial)
        .map_err(|e| anyhow!("shard: {e}"))?;
    let dir = file.write(request.out_root)?;
    ui::info(format!("shard {}/{}: wrote {}", spec.index, spec.count, dir.display()));
    Ok((dir, file))
}

/// What `merge` produced: a run directory as `tune` would write it.
pub struct MergedRun {
    pub run_id: String,
    pub dir: PathBuf,
    pub outcome: TuneOutcome,
}

/// Checks and combines the shards in `shard_dirs` and writes the run
/// directory a single `tune` over the same data would.
pub fn merge(shard_dirs: &[PathBuf], out_root: &Path, run_id: Option<&str>) -> Result<MergedRun> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let dirs = shard::find_shards(shard_dirs).map_err(|e| anyhow!("merge: {e}"))?;
    let merged = shard::merge(&dirs).map_err(|e| anyhow!("merge: {e}"))?;
    if merged.partial.series.is_empty() {
        return Err(anyhow!("merge: the shards hold no bars; check the data and the bar size"));
    }
    ui::info(format!("merge: {} shards, {} series", merged.shards, merged.partial.series.len()));
    let units_s = started.elapsed().as_secs_f64();
    let (run_id, dir) = create_run_dir(out_root, run_id, started_at)?;
    let (outcome, _, _) =
        finish_tune(&dir, &run_id, &merged.partial, &merged.config, units_s, started)?;
    let config = (&merged.config, merged.config_source.as_str());
    write_manifest(&dir, &run_id, config, &merged.inputs, started_at)?;
    Ok(MergedRun { run_id, dir, outcome })
}

/// Input files of the plan units at `units`, hashed, with their unit.
fn hash_inputs(plan: &data::DataPlan, units: &[usize]) -> Result<Vec<(u32, FileEntry)>> {
    let mut entries = Vec::new();
    for &u in units {
        for f in &plan.units[u].files {
            let bytes = std::fs::read(&f.file.path)
                .with_context(|| format!("hashing the input file {}", f.file.path.display()))?;
            entries
                .push((u as u32, FileEntry::of_bytes(&f.file.path.display().to_string(), &bytes)));
        }
    }
    Ok(entries)
}

/// Writes manifest.json last, hashing every output written so far.
/// `config` is the config and where it came from.
pub fn write_manifest(
    dir: &Path,
    run_id: &str,
    (config, config_source): (&Config, &str),
    inputs: &[FileEntry],
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<Manifest> {
    let config_text = serde_yaml::to_string(config).context("serialising the config")?;
    let manifest = Manifest {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: run::git_commit(),
        config_source: config_source.to_string(),
        config_sha256: run::sha256_hex(config_text.as_bytes()),
        seed: config.synth.seed,
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        inputs: inputs.to_vec(),
        outputs: Vec::new(),
    };
    Ok(run::finish_manifest(manifest, dir)?)
}

/// Re-hashes a run's outputs after a stage command (calibrate, gate,
/// monitoring) added files to it, so that the manifest lists them and
/// `promote` accepts the run. Warns when the stage's config is not the one
/// the run was tuned with.
pub fn refresh_manifest(dir: &Path, config: &Config) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read; is this a run directory written by `divtune tune`?",
            path.display()
        )
    })?;
    let mut manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a run manifest", path.display()))?;
    let config_text = serde_yaml::to_string(config).context("serialising the config")?;
    if run::sha256_hex(config_text.as_bytes()) != manifest.config_sha256 {
        ui::warn(format!(
            "{}: this config differs from the one the run was tuned with ({}); \
             pass that config with --config",
            dir.display(),
            manifest.config_source
        ));
    }
    manifest.finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    manifest.outputs.clear();
    Ok(run::finish_manifest(manifest, dir)?)
}

fn facts(run_id: &str, partial: &Partial) -> RunFacts {
    let (start, end) = partial.time_range().expect("at least one bar");
    RunFacts {
        run_id: run_id.to_string(),
        data_start: start.to_rfc3339(),
        data_end: end.to_rfc3339(),
        symbols: partial.symbols(),
        input_rows: partial.total_rows(),
        bars: partial.total_bars(),
        series: partial.series.len(),
    }
}

/// Quantiles of the detector's per-bar compute time over timed blocks.
fn detector_timings(block_ns: &[f64]) -> Timings {
    let q = |p: f64| stats::quantile(block_ns, p).unwrap_or(f64::NAN);
    Timings {
        detector_ns_per_bar_p50: q(0.5),
        detector_ns_per_bar_p95: q(0.95),
        detector_ns_per_bar_p99: q(0.99),
        ..Timings::default()
    }
}

fn show(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The parts of tuning_report.json that later stages read back.
#[derive(serde::Deserialize)]
pub struct SavedTuning {
    pub run: RunFacts,
    pub global: SavedChoice,
    pub chosen_events: usize,
}

/// The deployed global choice as saved.
#[derive(serde::Deserialize)]
pub struct SavedChoice {
    pub params: DetectorParams,
    pub test: Vec<tune::HorizonFigures>,
}

impl SavedTuning {
    pub fn read(dir: &Path) -> Result<SavedTuning> {
        let path = dir.join("tuning_report.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: cannot read; is this a run directory written by `divtune tune`?",
                path.display()
            )
        })?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a tuning report", path.display()))
    }
}

/// Calibrates the score on a run's held-out events and writes the map,
/// the monotonicity report and its plots.
pub fn calibrate_run(dir: &Path, config: &Config) -> Result<crate::calibrate::MonotonicityReport> {
    let saved = SavedTuning::read(dir)?;
    let horizons = &config.labels.horizons;
    let events = events::read_for_calibration(&dir.join("events.parquet"), horizons, "test")
        .map_err(|e| anyhow!("reading the held-out events: {e}"))?;
    let meta = crate::calibrate::CalibrationMeta {
        run_id: saved.run.run_id.clone(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source_period: "test".to_string(),
        data_start: saved.run.data_start.clone(),
        data_end: saved.run.data_end.clone(),
        params: serde_json::to_value(&saved.global.params)?,
        n_events_total: events.len(),
    };
    let report = crate::calibrate::calibrate(&events, horizons, &config.calibrate, meta)
        .map_err(|e| anyhow!("calibrate: {e}"))?;
    crate::calibrate::write_calibration(dir, &report)?;
    crate::plots::calibration::draw_all(&report.calibration_report(), dir)
        .map_err(|e| anyhow!("drawing the calibration plots: {e}"))?;
    ui::info(format!("calibrate: {} held-out events; verdict {:?}", events.len(), report.verdict));
    Ok(report)
}

/// Applies the gate to a run's saved figures and writes gate.json and the
/// JUnit file.
pub fn gate_run(dir: &Path, config: &Config) -> Result<crate::gate::GateReport> {
    let saved = SavedTuning::read(dir)?;
    let path = dir.join(crate::calibrate::CALIBRATION_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read; run `divtune calibrate --run {}` first",
            path.display(),
            dir.display()
        )
    })?;
    let calibration: crate::calibrate::CalibrationReport = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a calibration report", path.display()))?;
    let horizons = saved
        .global
        .test
        .iter()
        .map(|f| {
            let spearman = calibration.horizon(f.horizon).map(|h| &h.spearman_return);
            crate::gate::HorizonEvidence {
                horizon: f.horizon,
                accuracy: f.metrics.accuracy,
                labelled: f.metrics.labelled,
                p_corrected: f.p_corrected,
                spearman_rho: spearman.map_or(f64::NAN, |s| s.rho),
                spearman_p: spearman.map_or(f64::NAN, |s| s.p_greater),
            }
        })
        .collect();
    let first = saved.global.test.first().map(|f| f.metrics.clone()).unwrap_or_default();
    let evidence = crate::gate::Evidence {
        run_id: saved.run.run_id.clone(),
        horizons,
        events_per_hour: first.events_per_hour,
        median_score: first.median_score,
    };
    let report = crate::gate::evaluate(&evidence, &config.gate);
    crate::gate::write(dir, &report)?;
    Ok(report)
}

/// What one nightly run produced.
pub struct NightlyOutcome {
    pub run: TuneRun,
    pub calibration: crate::calibrate::MonotonicityReport,
    pub gate: crate::gate::GateReport,
    pub report: PathBuf,
    pub elapsed_s: f64,
}

/// Tune, calibrate, gate, monitoring files and report in one process. The
/// manifest is written once the run directory is complete, so that it
/// hashes every artifact (and every input only once); the report (outside the run directory) is drawn
/// from those artifacts.
pub fn nightly(request: &RunRequest<'_>) -> Result<NightlyOutcome> {
    let started = Instant::now();
    ui::info(format!(
        "divtune nightly {}: config {}, data {}",
        env!("CARGO_PKG_VERSION"),
        request.config_source,
        show(request.data)
    ));
    let run = tune_stage(request)?;
    let calibration = calibrate_run(&run.dir, request.config)?;
    let gate = gate_run(&run.dir, request.config)?;
    monitoring_run(&run.dir, request.config)?;
    close_run(&run, request)?;
    let report = report_run(&run.dir, request.reports_root)?;
    let elapsed_s = started.elapsed().as_secs_f64();
    write_nightly_status(request.out_root, &run, &gate, elapsed_s)?;
    Ok(NightlyOutcome { run, calibration, gate, report, elapsed_s })
}

/// Prometheus config, alert rules (levels set from the run's own test
/// figures where the config asks for it) and the dashboard, in metrics/.
pub fn monitoring_run(dir: &Path, config: &Config) -> Result<Vec<PathBuf>> {
    let slo = if config.monitor.levels_from_run {
        let horizon = config.labels.horizons[0];
        let from_run =
            crate::monitor::slo::run_figures_from_report(&dir.join("tuning_report.json"), horizon)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    crate::monitor::SloConfig::from_run_figures(&f).map_err(|e| e.to_string())
                });
        from_run.unwrap_or_else(|e| {
            ui::warn(format!("monitoring: alert levels from the config, not the run ({e})"));
            config.monitor.slo.clone()
        })
    } else {
        config.monitor.slo.clone()
    };
    let written =
        crate::monitor::write_monitoring(&dir.join("metrics"), &slo, &config.monitor.target)?;
    Ok(written)
}

/// Draws reports/RUN_ID/index.html from the run's saved artifacts.
pub fn report_run(dir: &Path, reports_root: &Path) -> Result<PathBuf> {
    let inputs = crate::report::load_inputs(dir).map_err(|e| anyhow!("report: {e}"))?;
    let run_id = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let path = crate::report::render(&inputs, &reports_root.join(run_id))?;
    ui::info(format!("report: {}", path.display()));
    Ok(path)
}

/// The nightly job's own figures for a Prometheus textfile collector,
/// written next to the runs (runs/divtune_nightly.prom).
fn write_nightly_status(
    root: &Path,
    run: &TuneRun,
    gate: &crate::gate::GateReport,
    elapsed_s: f64,
) -> Result<()> {
    let status = crate::monitor::NightlyStatus {
        run_id: run.run_id.clone(),
        duration_s: elapsed_s,
        finished_at_unix_s: chrono::Utc::now().timestamp() as f64,
        completed: true,
        gate_passed: Some(gate.passed),
        accuracy: run.outcome.global.test.iter().map(|f| (f.horizon, f.metrics.accuracy)).collect(),
    };
    crate::monitor::write_textfile(&root.join("divtune_nightly.prom"), &status)?;
    Ok(())
}

/// Replays one parameter set bar by bar, at `bars_per_s` (0: as fast as
/// possible), and feeds every event to the exporter as the live service
/// would report it. Detection latency is the measured time of the
/// `update` call that emitted the event.
pub fn replay_to_exporter(
    series: &[BarSeries],
    params: &DetectorParams,
    label_params: &crate::labels::LabelParams,
    state: &crate::monitor::ExporterState,
    bars_per_s: f64,
) -> Result<usize> {
    use crate::monitor::ExportEvent;
    let pace = (bars_per_s > 0.0).then(|| std::time::Duration::from_secs_f64(1.0 / bars_per_s));
    let mut emitted = 0;
    for s in series {
        let mut detector = Detector::new(params.clone(), s.channels).map_err(|e| anyhow!("{e}"))?;
        let prices = s.prices();
        for bar in &s.bars {
            let t = Instant::now();
            let event = detector.update(bar);
            let latency = t.elapsed().as_secs_f64();
            state.add_requests(1);
            if let Some(e) = event {
                let labels = crate::labels::label_events(&[e], &prices, label_params)
                    .map_err(|e| anyhow!("{e}"))?;
                let forward_returns = labels[0]
                    .horizons
                    .iter()
                    .map(|h| (h.horizon, h.ret.map(|r| r * e.side.sign()), h.hit()))
                    .collect();
                state.record_event(&ExportEvent {
                    source: crate::tune::buckets::Source::of(e.channels),
                    side: e.side,
                    kind: e.kind,
                    score: e.score,
                    detection_latency_s: latency,
                    pairing_gap_bars: e
                        .pivot_a
                        .zip(e.pivot_b)
                        .map_or(0, |(a, b)| (b.index - a.index) as usize),
                    forward_returns,
                });
                emitted += 1;
            }
            if let Some(p) = pace {
                std::thread::sleep(p);
            }
        }
    }
    Ok(emitted)
}
