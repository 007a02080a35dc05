//! The command line: parse, build a checked plan, call the stages, map the
//! outcome to an exit code. No stage logic lives here.
//!
//! Exit codes are a contract: 0 success (or gate passed), 1 gate failed,
//! 2 usage, data or runtime error.

use crate::config::Config;
use crate::data::timestamps::TsUnit;
use crate::detector::DetectorParams;
use crate::ui::{self, Verbosity};
use crate::{events, inspect, pipeline, synth};
use anyhow::{anyhow, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Exit code for success, or a gate that passed.
pub const EXIT_OK: u8 = 0;
/// Exit code for a gate that failed.
pub const EXIT_GATE_FAILED: u8 = 1;
/// Exit code for a usage, data or runtime error.
pub const EXIT_ERROR: u8 = 2;

/// Offline tuning, calibration and acceptance gate for a price/order-flow
/// divergence detector.
#[derive(Debug, Parser)]
#[command(
    name = "divtune",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success or gate passed, 1 gate failed, 2 usage, data or runtime error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print only errors on stderr.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print per-unit details on stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,

    /// Print a machine-readable JSON summary on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a seeded synthetic market (trades and quotes, hive layout).
    Synth(SynthArgs),
    /// Show what the data stage sees: rows, time range, channels, side
    /// source, drops by reason and bar counts, per symbol and day.
    Inspect(InspectArgs),
    /// Replay one parameter set over the data and write its labelled events.
    Replay(ReplayArgs),
    /// Grid-search detector parameters, globally and per bucket, choosing on
    /// training data and judging on held-out test data. With --shard K/N,
    /// do this job's share of the work for `merge`.
    Tune(TuneArgs),
    /// Combine the shards of `tune --shard` into the run directory a single
    /// `tune` over the same data would write.
    Merge(MergeArgs),
    /// Fit the score calibration map on a run's held-out events.
    Calibrate(StageArgs),
    /// Apply the acceptance rules to a run; exit 0 when all pass, 1 when any fails.
    Gate(StageArgs),
    /// Write a run's Prometheus scrape config, alert rules and Grafana
    /// dashboard into RUN/metrics/ (nightly does this itself).
    Monitoring(StageArgs),
    /// Tune, calibrate, gate and report in one command (the nightly job).
    Nightly(RunArgs),
    /// Redraw a run's HTML report from its saved artifacts.
    Report(ReportArgs),
    /// Pre-flight: the active deployment's files are present, valid, match
    /// their manifest, and their run passed the gate.
    Check(DeployArgs),
    /// Make a run the active deployment (refused when its gate failed).
    Promote(PromoteArgs),
    /// Make the previous deployment active again.
    Rollback(DeployArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run directory (runs/RUN_ID).
    #[arg(long)]
    pub run: PathBuf,

    /// Directory under which reports/RUN_ID/index.html is written.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

/// A stage that works on a finished run directory.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// The run directory (runs/RUN_ID).
    #[arg(long)]
    pub run: PathBuf,

    /// Config file [default: config/divtune.yaml when it exists].
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Where the input is and how to read it.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Config file [default: config/divtune.yaml when it exists].
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Map a field to a column, e.g. --column ts=exch_time (repeatable).
    #[arg(long = "column", value_name = "FIELD=NAME")]
    pub columns: Vec<String>,

    /// Force the unit of numeric timestamps (s, ms, us, ns).
    #[arg(long)]
    pub ts_unit: Option<TsUnit>,

    /// File-name pattern giving the symbol, e.g. '*_cvd_{symbol}_*'.
    #[arg(long)]
    pub symbol_pattern: Option<String>,
}

/// Input, config and output of a run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Parquet files or directories with the ticks.
    #[arg(long, default_value = "data")]
    pub data: Vec<PathBuf>,

    /// Directory under which the run directory (with --shard: the shard
    /// directory) is created.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,

    /// Directory under which the report directory is created (nightly).
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,

    /// Name of the run directory [default: the start time, e.g.
    /// 20240805T020000Z]; it must not exist yet.
    #[arg(long)]
    pub run_id: Option<String>,

    #[command(flatten)]
    pub input: DataArgs,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// Do shard K of N (K from 0): the units at positions K, K+N, K+2N, ...
    /// of the data plan, written to OUT/shard-KKKK-of-NNNN/ for `merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::ShardSpec>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard directories, or directories holding them.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,

    /// Directory under which the run directory is created.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,

    /// Name of the run directory [default: the start time]; it must not
    /// exist yet.
    #[arg(long)]
    pub run_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Parquet files or directories with the ticks.
    #[arg(long, default_value = "data")]
    pub data: Vec<PathBuf>,

    /// Detector parameters: a YAML file of parameters, or a best_global.yaml
    /// (its `params:`). Omitted: the config's `detector:` section.
    #[arg(long)]
    pub params: Option<PathBuf>,

    /// Output directory for events.parquet (created if missing).
    #[arg(long, required_unless_present = "serve")]
    pub out: Option<PathBuf>,

    /// Also write events.csv.
    #[arg(long)]
    pub csv: bool,

    /// Serve the replay's metrics on this address (e.g. 127.0.0.1:8003)
    /// instead of writing files, until interrupted.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,

    /// Replay speed with --serve, in bars per second (0: as fast as possible).
    #[arg(long, default_value_t = 0.0)]
    pub bars_per_s: f64,

    #[command(flatten)]
    pub input: DataArgs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Parquet files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output directory (written as symbol=S/date=D/{trades,quotes}.parquet).
    #[arg(long)]
    pub out: PathBuf,

    /// Config file whose `synth:` section gives the defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Seed; the same seed writes the same files.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Comma-separated symbols.
    #[arg(long, value_delimiter = ',')]
    pub symbols: Option<Vec<String>>,

    /// Number of days.
    #[arg(long)]
    pub days: Option<u32>,

    /// Strength of the planted effect, 0 to 1.
    #[arg(long)]
    pub strength: Option<f64>,

    /// A market with no planted effect: flow says nothing about the future.
    #[arg(long)]
    pub null: bool,
}

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    ui::set_verbosity(if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    });
    install_interrupt_handler();
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Command::Synth(args) => run_synth(args),
        Command::Inspect(args) => run_inspect(args, cli.json),
        Command::Replay(args) => run_replay(args, cli.json),
        Command::Tune(args) => run_tune(args, cli.json),
        Command::Merge(args) => run_merge(args, cli.json),
        Command::Calibrate(args) => run_calibrate(args, cli.json),
        Command::Gate(args) => run_gate(args, cli.json),
        Command::Monitoring(args) => {
            let config = stage_config(args.config.as_deref())?;
            let written = pipeline::monitoring_run(&args.run, &config)?;
            pipeline::refresh_manifest(&args.run, &config)?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(EXIT_OK)
        }
        Command::Nightly(args) => run_nightly(args, cli.json),
        Command::Check(args) => run_check(args, cli.json),
        Command::Promote(args) => run_promote(args),
        Command::Rollback(args) => run_rollback(args),
        Command::Report(args) => {
            let path = pipeline::report_run(&args.run, &args.out)?;
            println!("{}", path.display());
            Ok(EXIT_OK)
        }
    }
}

/// Reads the config and applies the data flags on top of it.
fn load_config(args: &DataArgs) -> Result<(Config, String)> {
    let (mut config, source) = Config::resolve(args.config.as_deref())?;
    for pair in &args.columns {
        let (field, name) = pair.split_once('=').ok_or_else(|| {
            anyhow!("--column {pair}: write FIELD=NAME, e.g. --column ts=exch_time")
        })?;
        config.data.columns.insert(field.trim().to_string(), name.trim().to_string());
    }
    if let Some(unit) = args.ts_unit {
        config.data.ts_unit = Some(unit);
    }
    if let Some(pattern) = &args.symbol_pattern {
        config.data.symbol_pattern = Some(pattern.clone());
    }
    config.validate().map_err(|e| anyhow!("{source}: {e}"))?;
    Ok((config, source))
}

fn run_inspect(args: &InspectArgs, json: bool) -> Result<u8> {
    let (config, _) = load_config(&args.data)?;
    let (_, prepared) = pipeline::load(&config, &args.paths)?;
    let report = inspect::inspect(&prepared);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", inspect::render(&report));
    }
    Ok(EXIT_OK)
}

fn run_synth(args: &SynthArgs) -> Result<u8> {
    let started = Instant::now();
    let (config, _) = Config::resolve(args.config.as_deref())?;
    let mut params = config.synth;
    if let Some(seed) = args.seed {
        params.seed = seed;
    }
    if let Some(symbols) = &args.symbols {
        params.symbols = symbols.clone();
    }
    if let Some(days) = args.days {
        params.days = days;
    }
    if let Some(strength) = args.strength {
        params.market.planted_strength = strength;
    }
    params.market.null |= args.null;
    params.validate().map_err(|e| anyhow!("synth: {e}"))?;
    let written = synth::write_market(&params, &args.out)
        .map_err(|e| anyhow!("writing the synthetic market to {}: {e}", args.out.display()))?;
    ui::info(format!(
        "synth: wrote {} files, {} trades and {} quotes to {} in {:.1}s",
        written.files,
        written.trades,
        written.quotes,
        args.out.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(EXIT_OK)
}

fn run_request<'a>(
    args: &'a RunArgs,
    config: &'a Config,
    source: &'a str,
) -> pipeline::RunRequest<'a> {
    pipeline::RunRequest {
        config,
        config_source: source,
        data: &args.data,
        out_root: &args.out,
        reports_root: &args.reports,
        run_id: args.run_id.as_deref(),
    }
}

fn run_tune(args: &TuneArgs, json: bool) -> Result<u8> {
    let (config, source) = load_config(&args.run.input)?;
    let request = run_request(&args.run, &config, &source);
    if let Some(spec) = args.shard {
        if args.run.run_id.is_some() {
            return Err(anyhow!("--run-id names a run; with --shard, give it to `merge`"));
        }
        let (dir, file) = pipeline::tune_shard(&request, spec)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&file.summary())?);
        } else {
            println!("shard {}/{} -> {}", spec.index, spec.count, dir.display());
        }
        return Ok(EXIT_OK);
    }
    let run = pipeline::tune(&request)?;
    print_tuned(&run.run_id, &run.dir, &run.outcome, json)?;
    Ok(EXIT_OK)
}

fn run_merge(args: &MergeArgs, json: bool) -> Result<u8> {
    let run = pipeline::merge(&args.shards, &args.out, args.run_id.as_deref())?;
    print_tuned(&run.run_id, &run.dir, &run.outcome, json)?;
    Ok(EXIT_OK)
}

/// What `tune` and `merge` print: the run and the chosen set's test figures.
fn print_tuned(
    run_id: &str,
    dir: &std::path::Path,
    outcome: &crate::tune::TuneOutcome,
    json: bool,
) -> Result<()> {
    if json {
        let summary = serde_json::json!({
            "run_id": run_id,
            "dir": dir,
            "point": outcome.global.point,
            "params": outcome.global.params,
            "test": outcome.global.test,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!("run {run_id} -> {}", dir.display());
    for f in &outcome.global.test {
        println!(
            "test acc@{}: {:.3} (n={}, base {:.3}, p={:.2e}, corrected {:.2e}), {:.1} events/h, median score {:.1}",
            f.horizon, f.metrics.accuracy, f.metrics.labelled, f.metrics.base_rate, f.metrics.p_value,
            f.p_corrected, f.metrics.events_per_hour, f.metrics.median_score
        );
    }
    Ok(())
}

/// Reads detector parameters from a plain parameter file or from the
/// `params:` of a best_global.yaml.
fn read_params(path: &std::path::Path) -> Result<DetectorParams> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("{}: cannot read: {e}", path.display()))?;
    let value: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let inner = value.get("params").cloned().unwrap_or(value);
    let params: DetectorParams =
        serde_yaml::from_value(inner).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    params.validate().map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(params)
}

fn run_replay(args: &ReplayArgs, json: bool) -> Result<u8> {
    let (config, _) = load_config(&args.input)?;
    let params = match &args.params {
        Some(path) => read_params(path)?,
        None => config.detector.clone(),
    };
    let (_, prepared) = pipeline::load(&config, &args.data)?;
    if let Some(addr) = &args.serve {
        return serve_replay(addr, &prepared, &params, &config, args.bars_per_s);
    }
    let out = args.out.as_ref().expect("clap requires --out without --serve");
    let untagged = |_: usize, _: usize| (String::new(), String::new(), String::new());
    let rows = events::collect(&prepared.series, &params, &config.labels, &untagged)
        .map_err(|e| anyhow!(e))?;
    events::write(out, &rows, &config.labels.horizons, args.csv)?;
    let counts = events::counts(&rows, &config.labels.horizons);
    if json {
        println!("{}", serde_json::to_string_pretty(&counts)?);
    } else {
        println!("events: {} {}", counts["events"], counts["by_type"]);
        for h in counts["horizons"].as_array().into_iter().flatten() {
            println!(
                "horizon {}: hits {}, misses {}, flats {}, unlabelled {}",
                h["horizon"], h["hits"], h["misses"], h["flats"], h["unlabelled"]
            );
        }
    }
    ui::info(format!("replay: {} events written to {}", rows.len(), out.display()));
    Ok(EXIT_OK)
}

/// On Ctrl-C, removes the temporary files being written (every finished
/// artifact is already complete) and exits with the error code.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        let removed = crate::artifacts::remove_in_flight();
        eprintln!(
            "interrupted: {removed} partial file(s) removed; finished artifacts are complete"
        );
        std::process::exit(i32::from(EXIT_ERROR));
    });
}

fn stage_config(path: Option<&std::path::Path>) -> Result<Config> {
    let (config, source) = Config::resolve(path)?;
    config.validate().map_err(|e| anyhow!("{source}: {e}"))?;
    Ok(config)
}

fn run_calibrate(args: &StageArgs, json: bool) -> Result<u8> {
    let config = stage_config(args.config.as_deref())?;
    let report = pipeline::calibrate_run(&args.run, &config)?;
    pipeline::refresh_manifest(&args.run, &config)?;
    let summary = report.calibration_report();
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for h in &summary.horizons {
            println!(
                "horizon {}: {:?}, rho {:.3} (p {:.2e}), n {}",
                h.horizon, h.verdict, h.spearman_return.rho, h.spearman_return.p_greater, h.n_used
            );
        }
    }
    Ok(EXIT_OK)
}

fn run_gate(args: &StageArgs, json: bool) -> Result<u8> {
    let config = stage_config(args.config.as_deref())?;
    let report = pipeline::gate_run(&args.run, &config)?;
    pipeline::refresh_manifest(&args.run, &config)?;
    print_gate(&report, json)?;
    Ok(if report.passed { EXIT_OK } else { EXIT_GATE_FAILED })
}

fn print_gate(report: &crate::gate::GateReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", crate::gate::render(report));
    }
    Ok(())
}

fn run_nightly(args: &RunArgs, json: bool) -> Result<u8> {
    let (config, source) = load_config(&args.input)?;
    let request = run_request(args, &config, &source);
    let outcome = pipeline::nightly(&request)?;
    let facts = &outcome.run.facts;
    if json {
        let summary = serde_json::json!({
            "run_id": facts.run_id,
            "dir": outcome.run.dir,
            "passed": outcome.gate.passed,
            "gate": outcome.gate,
            "facts": facts,
            "report": outcome.report,
            "elapsed_s": outcome.elapsed_s,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_gate(&outcome.gate, false)?;
        println!("report: {}", outcome.report.display());
    }
    ui::info(format!(
        "run {}: {} to {}, {} symbols, {} rows, {} bars, {} events, {} grid points, {:.1}s; gate {}",
        facts.run_id,
        facts.data_start,
        facts.data_end,
        facts.symbols.len(),
        facts.input_rows,
        facts.bars,
        outcome.run.outcome.chosen_events.len(),
        outcome.run.outcome.grid.points.len(),
        outcome.elapsed_s,
        if outcome.gate.passed { "PASSED" } else { "FAILED" }
    ));
    Ok(if outcome.gate.passed { EXIT_OK } else { EXIT_GATE_FAILED })
}

/// Serves /metrics while replaying, then keeps serving until interrupted.
fn serve_replay(
    addr: &str,
    prepared: &crate::series::Prepared,
    params: &DetectorParams,
    config: &Config,
    bars_per_s: f64,
) -> Result<u8> {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let addr: std::net::SocketAddr = addr.parse().map_err(|e| anyhow!("--serve {addr}: {e}"))?;
    let state = crate::monitor::ExporterState::new();
    state.set_config_info("replay", env!("CARGO_PKG_VERSION"));
    let stop = Arc::new(AtomicBool::new(false));
    let (bound, _server) = crate::monitor::serve(addr, state.clone(), stop)?;
    ui::info(format!("replay: serving metrics on http://{bound}/metrics; Ctrl-C stops"));
    let emitted =
        pipeline::replay_to_exporter(&prepared.series, params, &config.labels, &state, bars_per_s)?;
    ui::info(format!("replay: {emitted} events replayed; still serving"));
    loop {
        std::thread::park();
    }
}

/// Where deployments live.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The deployment directory the live service reads (`active` inside it).
    #[arg(long)]
    pub deploy: PathBuf,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The run directory to promote (runs/RUN_ID).
    #[arg(long)]
    pub run: PathBuf,

    /// The deployment directory.
    #[arg(long)]
    pub deploy: PathBuf,

    /// Comma-separated canary symbols; writes a read-only production overlay.
    #[arg(long, value_delimiter = ',')]
    pub canary: Option<Vec<String>>,

    /// Versions to keep (the active and previous ones are always kept).
    #[arg(long, default_value_t = 5)]
    pub keep: usize,
}

fn run_check(args: &DeployArgs, json: bool) -> Result<u8> {
    let report = crate::deploy::check(&args.deploy)?;
    if json {
        let checks: Vec<serde_json::Value> = report
            .checks
            .iter()
            .map(|c| serde_json::json!({"file": c.file, "what": c.what, "passed": c.passed, "message": c.message}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"passed": report.passed(), "checks": checks})
            )?
        );
    } else {
        print!("{report}");
    }
    Ok(if report.passed() { EXIT_OK } else { EXIT_ERROR })
}

fn run_promote(args: &PromoteArgs) -> Result<u8> {
    let options = crate::deploy::PromoteOptions {
        canary: args.canary.clone(),
        keep: args.keep,
        ..Default::default()
    };
    match crate::deploy::promote(&args.run, &args.deploy, &options) {
        Ok(p) => {
            println!(
                "promoted {} (run {}); previous {}",
                p.version,
                p.run_id,
                p.previous.as_deref().unwrap_or("none")
            );
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(u8::try_from(e.exit_code()).unwrap_or(EXIT_ERROR))
        }
    }
}

fn run_rollback(args: &DeployArgs) -> Result<u8> {
    let r = crate::deploy::rollback(&args.deploy, &crate::deploy::current_user())?;
    println!("rolled back from {} to {} (run {})", r.from, r.to, r.run_id);
    Ok(EXIT_OK)
}
