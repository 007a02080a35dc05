//! The grid search: find the detector parameters that predict best, for
//! the market as a whole and per bucket, choosing on training data and
//! judging on held-out test data.
//!
//! The search has two halves. The additive half replays the whole
//! [`grid::Grid`] over each batch of bar series and keeps what the global
//! decisions need ([`partial::Partial`]); batches are independent, which is
//! what lets a run be split into shards. [`reduce`] fixes the folds and
//! liquidity thresholds over everything, measures every cell (parameter
//! set x bucket x horizon x fold x period), selects on training cells
//! ([`select`]) and pools the chosen sets' test cells into the figures the
//! gate reads. [`run`] is both halves over series already in memory.
//!
//! Test p-values are Holm-adjusted over every test hypothesis reported;
//! the training winner's p-value is also given corrected for the number of
//! parameter sets tried (Sidak).

pub mod buckets;
pub mod evaluate;
pub mod grid;
pub mod partial;
pub mod report;
pub mod select;
pub mod split;

use crate::detector::DetectorParams;
use crate::labels::LabelParams;
use crate::series::Prepared;
use crate::stats;
use buckets::{BucketConfig, BucketKey, Dimension};
use evaluate::{BaseCounts, BaseKey, CellMetrics, EventRecord, LiquidityThreshold, SeriesInfo};
use grid::{Grid, GridConfig};
use partial::Partial;
use rayon::prelude::*;
use select::{Choice, SelectionConfig};
use serde::{Deserialize, Serialize};
use split::{Fold, Period, SplitConfig};
use std::collections::BTreeMap;

/// The `tune:` section of the config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuneConfig {
    pub grid: GridConfig,
    pub split: SplitConfig,
    pub selection: SelectionConfig,
}

impl TuneConfig {
    pub fn validate(&self, base: &DetectorParams) -> Result<(), String> {
        self.grid.expand(base)?;
        self.split.validate()?;
        self.selection.validate()
    }
}

/// One row of summary.csv: one cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryRow {
    pub point: usize,
    pub fold: usize,
    pub period: Period,
    pub bucket: BucketKey,
    pub horizon: usize,
    pub metrics: CellMetrics,
}

/// The figures of a chosen parameter set in one bucket.
#[derive(Clone, Debug, Serialize)]
pub struct ChosenFigures {
    pub bucket: String,
    /// The same bucket as a key, for the documents that need its parts.
    #[serde(skip)]
    pub key: BucketKey,
    /// Point chosen in the last fold (the one deployed), or None when the
    /// bucket falls back to the global parameters.
    pub point: Option<usize>,
    pub params: DetectorParams,
    pub fallback: Option<String>,
    /// Per fold: the point chosen on its training period.
    pub fold_choices: Vec<Choice>,
    /// Training figures of the deployed point in the last fold, per horizon.
    pub train: Vec<HorizonFigures>,
    /// Test figures pooled over folds (each fold judged with its own
    /// choice), per horizon.
    pub test: Vec<HorizonFigures>,
}

/// A cell's metrics for one horizon, with the corrected p-value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HorizonFigures {
    pub horizon: usize,
    #[serde(flatten)]
    pub metrics: CellMetrics,
    /// Training: Sidak-corrected for the grid size. Test: Holm-adjusted over
    /// every test hypothesis of the run.
    #[serde(with = "crate::stats::json_float")]
    pub p_corrected: f64,
}

/// Everything the tuning stage found.
#[derive(Clone, Debug)]
pub struct TuneOutcome {
    pub grid: Grid,
    pub folds: Vec<Fold>,
    pub horizons: Vec<usize>,
    pub thresholds: Vec<LiquidityThreshold>,
    pub rows: Vec<SummaryRow>,
    pub global: ChosenFigures,
    pub buckets: Vec<ChosenFigures>,
    /// Every event of the deployed global parameters, labelled and tagged
    /// with the last fold's period and its buckets.
    pub chosen_events: Vec<crate::events::EventRow>,
}

/// The settings the tuning stage reads.
pub struct TuneInputs<'a> {
    pub base: &'a DetectorParams,
    pub tune: &'a TuneConfig,
    pub buckets: &'a BucketConfig,
    pub labels: &'a LabelParams,
}

/// Runs the whole search over prepared bar series (both halves in one
/// process).
pub fn run(prepared: &Prepared, inputs: &TuneInputs<'_>) -> Result<TuneOutcome, String> {
    let grid = inputs.tune.grid.expand(inputs.base)?;
    let parts: Vec<Partial> = prepared
        .series
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            Partial::of_unit(i as u32, std::slice::from_ref(s), &grid.points, inputs.buckets)
        })
        .collect();
    reduce(&Partial::concat(parts).into_run_order(), inputs)
}

/// The global half: folds, thresholds, cells, choices and corrected
/// p-values from a partial in run order ([`Partial::into_run_order`]).
pub fn reduce(partial: &Partial, inputs: &TuneInputs<'_>) -> Result<TuneOutcome, String> {
    let grid = inputs.tune.grid.expand(inputs.base)?;
    let (start, end) = partial.time_range().ok_or("no bars to tune on")?;
    let folds = inputs.tune.split.folds(start, end);
    let horizons = inputs.labels.horizons.clone();
    let max_h = *horizons.last().ok_or("labels.horizons is empty")?;
    let (infos, thresholds) =
        evaluate::series_infos(&partial.series, &folds, inputs.buckets, max_h)?;

    // Phase 1: base rates; phase 2: measure every cell. A point's events
    // are labelled when its cells are measured, so that labelled records
    // of the whole grid never sit in memory at once.
    let base = evaluate::base_counts(&infos, &folds, inputs.labels);
    let by_point = events_by_point(partial, grid.points.len());
    let ctx =
        Context { infos: &infos, folds: &folds, base: &base, inputs, max_h, partial, by_point };
    let rows = ctx.all_rows(&grid);

    // Phase 3: choose on training cells, pool test cells, correct p-values.
    let mut global = ctx.choose(&grid, &rows, BucketKey::GLOBAL, None);
    let dims = &inputs.buckets.dimensions;
    let mut buckets: Vec<ChosenFigures> = full_bucket_keys(dims)
        .into_iter()
        .map(|key| ctx.choose(&grid, &rows, key, Some(&global)))
        .collect();
    correct_test_p_values(&mut global, &mut buckets);
    let chosen = global.fold_choices.last().expect("at least one fold").point;
    let chosen_events = ctx.tagged_events(chosen);
    Ok(TuneOutcome { grid, folds, horizons, thresholds, rows, global, buckets, chosen_events })
}

/// Every bucket with each configured dimension at a value.
fn full_bucket_keys(dims: &[Dimension]) -> Vec<BucketKey> {
    use buckets::{Liquidity, Session, Source};
    let mut keys = Vec::new();
    for s in Session::ALL {
        for l in Liquidity::ALL {
            for c in Source::ALL {
                keys.extend(
                    BucketKey::rollups(s, l, c, dims).into_iter().filter(|k| k.is_full(dims)),
                );
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys.retain(|k| !k.is_global());
    keys
}

/// Where each point's events are: (series, position in its events).
fn events_by_point(partial: &Partial, points: usize) -> Vec<Vec<(u32, u32)>> {
    let mut out = vec![Vec::new(); points];
    for (s, series) in partial.series.iter().enumerate() {
        for (i, e) in series.events.iter().enumerate() {
            out[e.point as usize].push((s as u32, i as u32));
        }
    }
    out
}

struct Context<'a> {
    infos: &'a [SeriesInfo<'a>],
    folds: &'a [Fold],
    base: &'a BTreeMap<BaseKey, BaseCounts>,
    inputs: &'a TuneInputs<'a>,
    max_h: usize,
    partial: &'a Partial,
    by_point: Vec<Vec<(u32, u32)>>,
}

impl Context<'_> {
    fn level(&self) -> f64 {
        self.inputs.tune.selection.confidence
    }

    /// Every cell of every point, in (point, fold, period, bucket, horizon)
    /// order.
    fn all_rows(&self, grid: &Grid) -> Vec<SummaryRow> {
        let per_point: Vec<Vec<SummaryRow>> = grid
            .points
            .par_iter()
            .map(|p| {
                let mine = self.records_of(p.id);
                let mut rows = Vec::new();
                for fold in self.folds {
                    for period in Period::ALL {
                        rows.extend(self.rows_for(p.id, &mine, fold, period));
                    }
                }
                rows
            })
            .collect();
        per_point.into_iter().flatten().collect()
    }

    fn rows_for(
        &self,
        point: usize,
        records: &[EventRecord],
        fold: &Fold,
        period: Period,
    ) -> Vec<SummaryRow> {
        let tagged = evaluate::records_in(records, self.infos, fold, period, self.max_h);
        let cells = evaluate::by_bucket(&tagged, &self.inputs.buckets.dimensions);
        let mut rows = Vec::new();
        for (bucket, recs) in cells {
            let base = self.base.get(&(fold.index, period, bucket.session, bucket.liquidity));
            for (h, &horizon) in self.inputs.labels.horizons.iter().enumerate() {
                let metrics = evaluate::cell_metrics(&recs, h, horizon, base, self.level());
                rows.push(SummaryRow { point, fold: fold.index, period, bucket, horizon, metrics });
            }
        }
        rows
    }

    /// Chooses a point for `bucket` in each fold, then measures the choice.
    fn choose(
        &self,
        grid: &Grid,
        rows: &[SummaryRow],
        bucket: BucketKey,
        global: Option<&ChosenFigures>,
    ) -> ChosenFigures {
        let selection = &self.inputs.tune.selection;
        let fold_choices: Vec<Choice> = self
            .folds
            .iter()
            .map(|fold| {
                let train = cells_of(rows, fold.index, Period::Train, bucket, grid.points.len());
                let global_point = global.map(|g| g.fold_choices[fold.index].point);
                select::choose(&train, selection, global_point)
            })
            .collect();
        let last = fold_choices.last().expect("at least one fold");
        let point = last.point;
        let params = grid.points[point].params.clone();
        let is_fallback = global.is_some() && last.fallback.is_some();
        let n_points = grid.points.len();
        let train = self
            .horizon_cells(rows, self.folds.len() - 1, Period::Train, bucket, point)
            .into_iter()
            .map(|m| {
                let p = stats::sidak_best_of(m.p_value, n_points).unwrap_or(1.0);
                HorizonFigures { horizon: 0, metrics: m, p_corrected: p }
            })
            .zip(&self.inputs.labels.horizons)
            .map(|(mut f, &h)| {
                f.horizon = h;
                f
            })
            .collect();
        let test = self.pooled_test(&fold_choices, bucket);
        ChosenFigures {
            bucket: bucket.label(),
            key: bucket,
            point: (!is_fallback).then_some(point),
            params,
            fallback: if is_fallback { last.fallback.clone() } else { None },
            fold_choices,
            train,
            test,
        }
    }

    fn horizon_cells(
        &self,
        rows: &[SummaryRow],
        fold: usize,
        period: Period,
        bucket: BucketKey,
        point: usize,
    ) -> Vec<CellMetrics> {
        self.inputs
            .labels
            .horizons
            .iter()
            .map(|&h| {
                rows.iter()
                    .find(|r| {
                        r.point == point
                            && r.fold == fold
                            && r.period == period
                            && r.bucket == bucket
                            && r.horizon == h
                    })
                    .map(|r| r.metrics.clone())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The labelled records of grid point `point`, by series and bar.
    fn records_of(&self, point: usize) -> Vec<EventRecord> {
        let series = &self.partial.series;
        let events =
            self.by_point[point].iter().map(|&(s, i)| (s, &series[s as usize].events[i as usize]));
        evaluate::records(events, self.infos, self.inputs.labels)
    }

    /// The events of grid point `point`, labelled and tagged with the last
    /// fold's period and the session and liquidity of their confirmation
    /// bars, in series order.
    fn tagged_events(&self, point: usize) -> Vec<crate::events::EventRow> {
        let partial = self.partial;
        let fold = self.folds.last().expect("at least one fold");
        let mine = self.by_point[point]
            .iter()
            .map(|&(s, i)| (s, &partial.series[s as usize].events[i as usize]));
        let labels = self.inputs.labels;
        let cost = labels.cost_bps / 1e4;
        mine.map(|(series, g)| {
            let s = series as usize;
            let (info, ledger) = (&self.infos[s], &partial.series[s]);
            let e = g.event(ledger);
            let i = e.index as usize;
            let period = fold.period(i, info.ts, info.first_test[fold.index], self.max_h);
            let rets: Vec<Option<f64>> = labels
                .horizons
                .iter()
                .map(|&h| crate::labels::forward_return(info.prices, i, h))
                .collect();
            crate::events::EventRow {
                symbol: ledger.symbol.clone(),
                day: ledger.day.clone(),
                series,
                source: buckets::Source::of(e.channels).as_str().to_string(),
                outcomes: rets
                    .iter()
                    .map(|r| r.and_then(|r| crate::labels::outcome(e.side, r, cost)))
                    .collect(),
                rets,
                event: e,
                period: period.map_or("", |p| p.as_str()).to_string(),
                session: info.session[i].as_str().to_string(),
                liquidity: info.liquidity[fold.index][i].as_str().to_string(),
            }
        })
        .collect()
    }

    /// Test figures pooled over folds, each fold with its own choice.
    fn pooled_test(&self, choices: &[Choice], bucket: BucketKey) -> Vec<HorizonFigures> {
        let mut pooled: Vec<EventRecord> = Vec::new();
        let mut base: Option<BaseCounts> = None;
        for (fold, choice) in self.folds.iter().zip(choices) {
            let mine = self.records_of(choice.point);
            let tagged = evaluate::records_in(&mine, self.infos, fold, Period::Test, self.max_h);
            let cells = evaluate::by_bucket(&tagged, &self.inputs.buckets.dimensions);
            pooled.extend(cells.get(&bucket).into_iter().flatten().map(|r| (*r).clone()));
            if let Some(b) =
                self.base.get(&(fold.index, Period::Test, bucket.session, bucket.liquidity))
            {
                base.get_or_insert_with(|| BaseCounts::new(b.bars.len())).merge(b);
            }
        }
        self.inputs
            .labels
            .horizons
            .iter()
            .enumerate()
            .map(|(h, &horizon)| {
                let pooled: Vec<&EventRecord> = pooled.iter().collect();
                let metrics =
                    evaluate::cell_metrics(&pooled, h, horizon, base.as_ref(), self.level());
                HorizonFigures { horizon, p_corrected: metrics.p_value, metrics }
            })
            .collect()
    }
}

/// Per point, the cells of one fold, period and bucket, per horizon.
fn cells_of(
    rows: &[SummaryRow],
    fold: usize,
    period: Period,
    bucket: BucketKey,
    points: usize,
) -> Vec<Vec<CellMetrics>> {
    let mut out = vec![Vec::new(); points];
    for r in rows.iter().filter(|r| r.fold == fold && r.period == period && r.bucket == bucket) {
        out[r.point].push(r.metrics.clone());
    }
    out
}

/// Holm adjustment over every test hypothesis reported: the global choice
/// and each bucket with its own choice, at every horizon.
fn correct_test_p_values(global: &mut ChosenFigures, buckets: &mut [ChosenFigures]) {
    let mut family: Vec<&mut HorizonFigures> = global.test.iter_mut().collect();
    for b in buckets.iter_mut().filter(|b| b.point.is_some()) {
        family.extend(b.test.iter_mut());
    }
    let raw: Vec<f64> = family.iter().map(|f| f.metrics.p_value).collect();
    let adjusted = stats::holm_adjust(&raw).unwrap_or_else(|_| vec![1.0; raw.len()]);
    for (f, p) in family.into_iter().zip(adjusted) {
        f.p_corrected = p;
    }
}
