//! The tuning stage's artifacts: best_global.yaml, best_by_bucket.yaml,
//! summary.csv and summary.parquet, and tuning_report.json. Their schemas
//! are documented in docs/artifacts.md; every document carries
//! `schema_version`.

use super::buckets::{BucketConfig, BucketKey, Liquidity, Session, Source};
use super::evaluate::LiquidityThreshold;
use super::split::Fold;
use super::{ChosenFigures, HorizonFigures, TuneOutcome};
use crate::artifacts::{self, WriteError};
use crate::detector::DetectorParams;
use crate::run::SCHEMA_VERSION;
use polars::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What the run was made from, for the headers of every document.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct RunFacts {
    pub run_id: String,
    pub data_start: String,
    pub data_end: String,
    pub symbols: Vec<String>,
    pub input_rows: usize,
    pub bars: usize,
    pub series: usize,
}

/// best_global.yaml.
#[derive(Serialize)]
struct BestGlobal<'a> {
    schema_version: u32,
    run_id: &'a str,
    point: Option<usize>,
    params: &'a DetectorParams,
    constraints_met: bool,
    grid_points: usize,
    folds: Vec<FoldChoice>,
    train: &'a [HorizonFigures],
    test: &'a [HorizonFigures],
}

#[derive(Serialize)]
struct FoldChoice {
    fold: usize,
    point: usize,
    objective: f64,
    eligible: usize,
}

/// best_by_bucket.yaml.
#[derive(Serialize)]
struct BestByBucket<'a> {
    schema_version: u32,
    run_id: &'a str,
    session: &'a super::buckets::SessionConfig,
    liquidity: LiquidityRule<'a>,
    overrides: Vec<Override<'a>>,
}

#[derive(Serialize)]
struct LiquidityRule<'a> {
    measure: &'static str,
    window: usize,
    quantile: f64,
    /// Threshold per symbol (or `*`), from the last fold's training bars.
    thresholds: BTreeMap<&'a str, f64>,
}

#[derive(Serialize)]
struct Override<'a> {
    when: BTreeMap<&'static str, String>,
    set: &'a DetectorParams,
    /// Why the bucket uses the global parameters, when it does.
    fallback: Option<&'a str>,
    point: Option<usize>,
    train: &'a [HorizonFigures],
    test: &'a [HorizonFigures],
}

/// tuning_report.json.
#[derive(Serialize)]
struct TuningReport<'a> {
    schema_version: u32,
    run: &'a RunFacts,
    grid: GridFacts<'a>,
    folds: &'a [Fold],
    liquidity_thresholds: &'a [LiquidityThreshold],
    global: &'a ChosenFigures,
    buckets: &'a [ChosenFigures],
    chosen_events: usize,
    timings: &'a Timings,
}

#[derive(Serialize)]
struct GridFacts<'a> {
    parameters: &'a [String],
    points_tried: usize,
    points_rejected_by_constraints: usize,
    horizons: &'a [usize],
}

/// Wall-clock figures; the only part of the tuning artifacts that differs
/// between two runs on the same input.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timings {
    /// Loading, features and the grid replay, unit by unit (in a merged
    /// run: reading the shards).
    pub units_s: f64,
    /// Folds, thresholds, cells and selection over everything.
    pub reduce_s: f64,
    pub total_s: f64,
    /// Detector compute time per bar for the configured base parameters,
    /// measured over blocks of bars (one clock read per block), in
    /// nanoseconds.
    pub detector_ns_per_bar_p50: f64,
    pub detector_ns_per_bar_p95: f64,
    pub detector_ns_per_bar_p99: f64,
}

/// Writes every tuning artifact into `dir`.
pub fn write_all(
    dir: &Path,
    outcome: &TuneOutcome,
    facts: &RunFacts,
    buckets: &BucketConfig,
    chosen_events: usize,
    timings: &Timings,
) -> Result<(), WriteError> {
    let g = &outcome.global;
    let folds = g
        .fold_choices
        .iter()
        .enumerate()
        .map(|(fold, c)| FoldChoice {
            fold,
            point: c.point,
            objective: c.objective,
            eligible: c.eligible,
        })
        .collect();
    let constraints_met = g.fold_choices.last().is_some_and(|c| c.constraints_met);
    let best = BestGlobal {
        schema_version: SCHEMA_VERSION,
        run_id: &facts.run_id,
        point: g.point,
        params: &g.params,
        constraints_met,
        grid_points: outcome.grid.points.len(),
        folds,
        train: &g.train,
        test: &g.test,
    };
    artifacts::write_yaml(&dir.join("best_global.yaml"), &best)?;
    artifacts::write_yaml(&dir.join("best_by_bucket.yaml"), &by_bucket(outcome, facts, buckets))?;
    write_summary(dir, outcome)?;
    let report = TuningReport {
        schema_version: SCHEMA_VERSION,
        run: facts,
        grid: GridFacts {
            parameters: &outcome.grid.names,
            points_tried: outcome.grid.points.len(),
            points_rejected_by_constraints: outcome.grid.rejected,
            horizons: &outcome.horizons,
        },
        folds: &outcome.folds,
        liquidity_thresholds: &outcome.thresholds,
        global: g,
        buckets: &outcome.buckets,
        chosen_events,
        timings,
    };
    artifacts::write_json(&dir.join("tuning_report.json"), &report)
}

fn by_bucket<'a>(
    outcome: &'a TuneOutcome,
    facts: &'a RunFacts,
    buckets: &'a BucketConfig,
) -> BestByBucket<'a> {
    let last_fold = outcome.folds.len() - 1;
    let last: Vec<&LiquidityThreshold> =
        outcome.thresholds.iter().filter(|t| t.fold == last_fold).collect();
    let liquidity = LiquidityRule {
        measure: last.first().map_or("none", |t| t.measure),
        window: buckets.liquidity.window,
        quantile: buckets.liquidity.quantile,
        thresholds: last.iter().map(|t| (t.symbol.as_str(), t.threshold)).collect(),
    };
    let overrides = outcome
        .buckets
        .iter()
        .map(|b| Override {
            when: when(&b.key),
            set: &b.params,
            fallback: b.fallback.as_deref(),
            point: b.point,
            train: &b.train,
            test: &b.test,
        })
        .collect();
    BestByBucket {
        schema_version: SCHEMA_VERSION,
        run_id: &facts.run_id,
        session: &buckets.session,
        liquidity,
        overrides,
    }
}

/// The set dimensions of a bucket, as the service matches them.
fn when(key: &BucketKey) -> BTreeMap<&'static str, String> {
    let mut when = BTreeMap::new();
    if let Some(s) = key.session {
        when.insert("session", s.as_str().to_string());
    }
    if let Some(l) = key.liquidity {
        when.insert("liquidity", l.as_str().to_string());
    }
    if let Some(c) = key.source {
        when.insert("source", c.as_str().to_string());
    }
    when
}

/// summary.csv and summary.parquet: one row per cell, every detector
/// parameter in its own column.
fn write_summary(dir: &Path, outcome: &TuneOutcome) -> Result<(), WriteError> {
    let path = dir.join("summary.parquet");
    let mut df = summary_frame(outcome)
        .map_err(|e| WriteError { path: path.clone(), message: e.to_string() })?;
    artifacts::write_parquet(&path, &mut df)?;
    artifacts::write_bytes(&dir.join("summary.csv"), crate::events::to_csv(&df).as_bytes())
}

fn summary_frame(outcome: &TuneOutcome) -> PolarsResult<DataFrame> {
    let rows = &outcome.rows;
    let params: Vec<&DetectorParams> =
        rows.iter().map(|r| &outcome.grid.points[r.point].params).collect();
    let int = |f: &dyn Fn(usize) -> i64| -> Vec<i64> { (0..rows.len()).map(f).collect() };
    let num = |f: &dyn Fn(usize) -> f64| -> Vec<f64> { (0..rows.len()).map(f).collect() };
    let text = |f: &dyn Fn(usize) -> String| -> Vec<String> { (0..rows.len()).map(f).collect() };
    let mut columns = vec![Column::new("point".into(), int(&|i| rows[i].point as i64))];
    for name in DetectorParams::NAMES {
        columns
            .push(Column::new((*name).into(), num(&|i| params[i].get(name).unwrap_or(f64::NAN))));
    }
    let key = |i: usize| &rows[i].bucket;
    columns.extend([
        Column::new("fold".into(), int(&|i| rows[i].fold as i64)),
        Column::new("period".into(), text(&|i| rows[i].period.as_str().to_string())),
        Column::new(
            "session".into(),
            text(&|i| key(i).session.map_or("all", Session::as_str).to_string()),
        ),
        Column::new(
            "liquidity".into(),
            text(&|i| key(i).liquidity.map_or("all", Liquidity::as_str).to_string()),
        ),
        Column::new(
            "source".into(),
            text(&|i| key(i).source.map_or("all", Source::as_str).to_string()),
        ),
        Column::new("horizon".into(), int(&|i| rows[i].horizon as i64)),
    ]);
    let m = |i: usize| &rows[i].metrics;
    columns.extend([
        Column::new("events".into(), int(&|i| m(i).events as i64)),
        Column::new("labelled".into(), int(&|i| m(i).labelled as i64)),
        Column::new("unlabelled".into(), int(&|i| m(i).unlabelled as i64)),
        Column::new("hits".into(), int(&|i| m(i).hits as i64)),
        Column::new("flats".into(), int(&|i| m(i).flats as i64)),
        Column::new("accuracy".into(), num(&|i| m(i).accuracy)),
        Column::new("wilson_lo".into(), num(&|i| m(i).wilson_lo)),
        Column::new("wilson_hi".into(), num(&|i| m(i).wilson_hi)),
        Column::new("base_rate".into(), num(&|i| m(i).base_rate)),
        Column::new("n_eff".into(), num(&|i| m(i).n_eff)),
        Column::new("p_value".into(), num(&|i| m(i).p_value)),
        Column::new("mean_ret_bps".into(), num(&|i| m(i).mean_ret_bps)),
        Column::new("median_ret_bps".into(), num(&|i| m(i).median_ret_bps)),
        Column::new("median_score".into(), num(&|i| m(i).median_score)),
        Column::new("hours".into(), num(&|i| m(i).hours)),
        Column::new("events_per_hour".into(), num(&|i| m(i).events_per_hour)),
    ]);
    DataFrame::new(rows.len(), columns)
}
