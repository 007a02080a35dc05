//! Measuring the replayed grid.
//!
//! [`series_infos`] fixes each bar's session, period and liquidity from the
//! series ledgers; [`records`] labels every grid event; [`base_counts`]
//! gives each bucket's base rate. From the records, [`cell_metrics`] computes one cell's figures: counts,
//! accuracy with a Wilson interval, the base rate of the same bucket and
//! horizon, and a one-sided binomial p-value on the effective sample size
//! that allows for overlapping forward windows (see docs/statistics.md).

use super::buckets::{
    BucketConfig, BucketKey, Liquidity, LiquidityMeasure, Session, SessionClock, Source,
};
use super::partial::{PointEvent, SeriesLedger};
use super::split::{Fold, Period};
use crate::core::TsNs;
use crate::detector::{EventKind, Side};
use crate::labels::{self, LabelParams, Outcome};
use crate::stats;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the tuner knows about one bar series, computed once.
pub struct SeriesInfo<'a> {
    pub symbol: &'a str,
    pub ts: &'a [TsNs],
    pub prices: &'a [f64],
    pub session: Vec<Session>,
    /// Liquidity of each bar, per fold (thresholds come from each fold's
    /// training bars).
    pub liquidity: Vec<Vec<Liquidity>>,
    /// Index of the first test bar, per fold.
    pub first_test: Vec<usize>,
}

/// One event of one grid point, reduced to what the statistics need.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    pub point: u32,
    pub series: u32,
    pub bar: u32,
    pub ts: TsNs,
    pub score: f64,
    pub side: Side,
    pub kind: EventKind,
    pub source: Source,
    /// Forward return per horizon; None without enough bars after it.
    pub rets: Vec<Option<f64>>,
    pub outcomes: Vec<Option<Outcome>>,
}

/// Liquidity thresholds per fold and symbol, with the measure used.
#[derive(Clone, Debug, Serialize)]
pub struct LiquidityThreshold {
    pub fold: usize,
    pub symbol: String,
    pub measure: &'static str,
    pub threshold: f64,
}

/// Builds the per-series context: sessions, liquidity per fold and the
/// first test bar per fold.
pub fn series_infos<'a>(
    ledgers: &'a [SeriesLedger],
    folds: &[Fold],
    buckets: &BucketConfig,
    max_horizon: usize,
) -> Result<(Vec<SeriesInfo<'a>>, Vec<LiquidityThreshold>), String> {
    let clock = SessionClock::new(&buckets.session)?;
    buckets.liquidity.validate()?;
    let mut infos: Vec<SeriesInfo<'a>> = ledgers
        .iter()
        .map(|s| SeriesInfo {
            symbol: &s.symbol,
            session: s.ts.iter().map(|t| clock.session(*t)).collect(),
            prices: &s.prices,
            ts: &s.ts,
            liquidity: Vec::new(),
            first_test: folds.iter().map(|f| f.first_test_bar(&s.ts)).collect(),
        })
        .collect();
    let thresholds = assign_liquidity(&mut infos, ledgers, folds, buckets, max_horizon);
    Ok((infos, thresholds))
}

/// Time covered by bar `i`: the spacing to the previous bar (the first
/// bar takes the next spacing), for events per hour. Worked out per bar
/// rather than stored: at 8 bytes a bar it would be a third of the ledger.
fn bar_duration_ns(ts: &[TsNs], i: usize) -> i64 {
    match i {
        0 if ts.len() > 1 => ts[1].0 - ts[0].0,
        0 => 0,
        _ => ts[i].0 - ts[i - 1].0,
    }
}

/// Sets each bar's liquidity per fold against a threshold taken from that
/// fold's training bars only (per symbol, or over all symbols).
fn assign_liquidity(
    infos: &mut [SeriesInfo<'_>],
    ledgers: &[SeriesLedger],
    folds: &[Fold],
    buckets: &BucketConfig,
    max_horizon: usize,
) -> Vec<LiquidityThreshold> {
    let config = &buckets.liquidity;
    let mut thresholds = Vec::new();
    for fold in folds {
        let mut train_values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (info, ledger) in infos.iter().zip(ledgers) {
            let key = if config.per_symbol { info.symbol.to_string() } else { "*".to_string() };
            let k = info.first_test[fold.index];
            let entry = train_values.entry(key).or_default();
            entry.extend(
                ledger
                    .liquidity
                    .iter()
                    .take(k.saturating_sub(max_horizon))
                    .filter(|v| v.is_finite()),
            );
        }
        let level: BTreeMap<String, f64> = train_values
            .iter()
            .map(|(sym, v)| (sym.clone(), stats::quantile(v, config.quantile).unwrap_or(f64::NAN)))
            .collect();
        for (sym, &threshold) in &level {
            let measure = ledgers.first().map_or("none", |l| measure_name(l.measure));
            thresholds.push(LiquidityThreshold {
                fold: fold.index,
                symbol: sym.clone(),
                measure,
                threshold,
            });
        }
        for (info, ledger) in infos.iter_mut().zip(ledgers) {
            let key = if config.per_symbol { info.symbol } else { "*" };
            let threshold = level.get(key).copied().unwrap_or(f64::NAN);
            // Without training bars the threshold is NaN and every bar is quiet.
            let codes = ledger.liquidity.iter().map(|v| {
                if *v >= threshold {
                    Liquidity::Active
                } else {
                    Liquidity::Quiet
                }
            });
            info.liquidity.push(codes.collect());
        }
    }
    thresholds
}

fn measure_name(m: LiquidityMeasure) -> &'static str {
    match m {
        LiquidityMeasure::Auto => "auto",
        LiquidityMeasure::TradeRate => "trade_rate",
        LiquidityMeasure::Volatility => "volatility",
    }
}

/// The statistics' view of every grid event: its labels and source, sorted
/// by (point, series, bar) with a series' events in emission order.
pub fn records<'e>(
    events: impl Iterator<Item = (u32, &'e PointEvent)>,
    infos: &[SeriesInfo<'_>],
    labels: &LabelParams,
) -> Vec<EventRecord> {
    let cost = labels.cost_bps / 1e4;
    let mut records: Vec<EventRecord> = events
        .map(|(series, e)| {
            let info = &infos[series as usize];
            let prices = info.prices;
            // Labels are computed straight into the record: at thousands of
            // events per point, an intermediate label list per event
            // doubled the cost.
            let rets: Vec<Option<f64>> = labels
                .horizons
                .iter()
                .map(|&h| labels::forward_return(prices, e.index as usize, h))
                .collect();
            let outcomes =
                rets.iter().map(|r| r.and_then(|r| labels::outcome(e.side, r, cost))).collect();
            EventRecord {
                point: e.point,
                series,
                bar: e.index,
                ts: info.ts[e.index as usize],
                score: e.score,
                side: e.side,
                kind: e.kind,
                source: Source::of(e.channels),
                rets,
                outcomes,
            }
        })
        .collect();
    records.sort_by_key(|r| (r.point, r.series, r.bar));
    records
}

/// How often a random bar of a bucket moves up or down by more than the
/// cost over each horizon, and how many hours the bucket covers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BaseCounts {
    pub bars: Vec<u64>,
    pub up: Vec<u64>,
    pub down: Vec<u64>,
    pub hours: f64,
}

impl BaseCounts {
    /// Zero counts for `horizons` horizons.
    pub fn new(horizons: usize) -> Self {
        BaseCounts {
            bars: vec![0; horizons],
            up: vec![0; horizons],
            down: vec![0; horizons],
            hours: 0.0,
        }
    }

    pub fn merge(&mut self, other: &BaseCounts) {
        for h in 0..self.bars.len() {
            self.bars[h] += other.bars[h];
            self.up[h] += other.up[h];
            self.down[h] += other.down[h];
        }
        self.hours += other.hours;
    }
}

/// Key of a base-rate cell: fold, period and the bar-level dimensions.
pub type BaseKey = (usize, Period, Option<Session>, Option<Liquidity>);

/// Base rates and hours for every (fold, period, session, liquidity),
/// including the "all" roll-ups.
pub fn base_counts(
    infos: &[SeriesInfo<'_>],
    folds: &[Fold],
    labels: &LabelParams,
) -> BTreeMap<BaseKey, BaseCounts> {
    let max_h = *labels.horizons.last().expect("validated: at least one horizon");
    let cost = labels.cost_bps / 1e4;
    let partials: Vec<BTreeMap<BaseKey, BaseCounts>> = infos
        .par_iter()
        .map(|info| {
            let mut map: BTreeMap<BaseKey, BaseCounts> = BTreeMap::new();
            for fold in folds {
                let k = info.first_test[fold.index];
                for i in 0..info.ts.len() {
                    let Some(period) = fold.period(i, info.ts, k, max_h) else { continue };
                    let (s, l) = (info.session[i], info.liquidity[fold.index][i]);
                    for key in [(None, None), (Some(s), None), (None, Some(l)), (Some(s), Some(l))]
                    {
                        let cell = map
                            .entry((fold.index, period, key.0, key.1))
                            .or_insert_with(|| BaseCounts::new(labels.horizons.len()));
                        cell.hours += bar_duration_ns(info.ts, i) as f64 / 3.6e12;
                        for (h, &horizon) in labels.horizons.iter().enumerate() {
                            let Some(r) = labels::forward_return(info.prices, i, horizon) else {
                                continue;
                            };
                            cell.bars[h] += 1;
                            cell.up[h] += (r > cost) as u64;
                            cell.down[h] += (r < -cost) as u64;
                        }
                    }
                }
            }
            map
        })
        .collect();
    let mut total: BTreeMap<BaseKey, BaseCounts> = BTreeMap::new();
    for map in partials {
        for (key, counts) in map {
            total
                .entry(key)
                .or_insert_with(|| BaseCounts::new(labels.horizons.len()))
                .merge(&counts);
        }
    }
    total
}

/// The figures of one cell (parameter set x bucket x horizon x period).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CellMetrics {
    /// All events, conflicts included.
    pub events: u64,
    /// Directional events with a forward return at this horizon.
    pub labelled: u64,
    /// Events too close to the end of their series to have a label.
    pub unlabelled: u64,
    pub hits: u64,
    pub flats: u64,
    #[serde(with = "crate::stats::json_float")]
    pub accuracy: f64,
    #[serde(with = "crate::stats::json_float")]
    pub wilson_lo: f64,
    #[serde(with = "crate::stats::json_float")]
    pub wilson_hi: f64,
    /// Hit rate a random bar of the same bucket would have with the same
    /// mix of bull and bear calls.
    #[serde(with = "crate::stats::json_float")]
    pub base_rate: f64,
    #[serde(with = "crate::stats::json_float")]
    pub n_eff: f64,
    #[serde(with = "crate::stats::json_float")]
    pub p_value: f64,
    /// Mean and median of the side-adjusted forward return (positive = the
    /// call was right), in basis points.
    #[serde(with = "crate::stats::json_float")]
    pub mean_ret_bps: f64,
    #[serde(with = "crate::stats::json_float")]
    pub median_ret_bps: f64,
    #[serde(with = "crate::stats::json_float")]
    pub median_score: f64,
    #[serde(with = "crate::stats::json_float")]
    pub hours: f64,
    #[serde(with = "crate::stats::json_float")]
    pub events_per_hour: f64,
}

/// Computes one cell from its records. `h` indexes the horizon.
pub fn cell_metrics(
    records: &[&EventRecord],
    h: usize,
    horizon: usize,
    base: Option<&BaseCounts>,
    level: f64,
) -> CellMetrics {
    let mut m = CellMetrics { events: records.len() as u64, ..Default::default() };
    let (mut bulls, mut bears) = (0u64, 0u64);
    let mut rets = Vec::new();
    let mut bars_by_series: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for r in records {
        let (Some(ret), Some(outcome)) = (r.rets[h], r.outcomes[h]) else {
            m.unlabelled += u64::from(r.side != Side::None && r.rets[h].is_none());
            continue;
        };
        m.labelled += 1;
        m.hits += u64::from(outcome == Outcome::Hit);
        m.flats += u64::from(outcome == Outcome::Flat);
        if r.side == Side::Bull {
            bulls += 1;
        } else {
            bears += 1;
        }
        rets.push(r.side.sign() * ret * 1e4);
        bars_by_series.entry(r.series).or_default().push(r.bar as usize);
    }
    let scores: Vec<f64> = records.iter().map(|r| r.score).collect();
    m.median_score = stats::median(&scores);
    m.mean_ret_bps = stats::mean(&rets);
    m.median_ret_bps = stats::median(&rets);
    m.hours = base.map_or(0.0, |b| b.hours);
    m.events_per_hour = if m.hours > 0.0 { m.events as f64 / m.hours } else { f64::NAN };
    m.base_rate = base_rate(base, h, bulls, bears);
    fill_significance(&mut m, &bars_by_series, horizon, level);
    m
}

fn base_rate(base: Option<&BaseCounts>, h: usize, bulls: u64, bears: u64) -> f64 {
    let Some(b) = base.filter(|b| b.bars[h] > 0 && bulls + bears > 0) else { return f64::NAN };
    let up = b.up[h] as f64 / b.bars[h] as f64;
    let down = b.down[h] as f64 / b.bars[h] as f64;
    (bulls as f64 * up + bears as f64 * down) / (bulls + bears) as f64
}

/// Accuracy, Wilson interval and p-value on the effective sample size.
fn fill_significance(
    m: &mut CellMetrics,
    bars: &BTreeMap<u32, Vec<usize>>,
    horizon: usize,
    level: f64,
) {
    if m.labelled == 0 {
        m.accuracy = f64::NAN;
        m.wilson_lo = f64::NAN;
        m.wilson_hi = f64::NAN;
        m.n_eff = 0.0;
        m.p_value = 1.0;
        return;
    }
    let rho_sum: f64 =
        bars.values().map(|b| stats::overlap_rho_sum(b, horizon).expect("sorted bars")).sum();
    m.n_eff = stats::effective_n_from_rho_sum(m.labelled as usize, rho_sum).expect("valid counts");
    m.accuracy = m.hits as f64 / m.labelled as f64;
    let scale = m.n_eff / m.labelled as f64;
    let wilson =
        stats::wilson_interval(m.hits as f64 * scale, m.n_eff, level).expect("valid counts");
    m.wilson_lo = wilson.lo;
    m.wilson_hi = wilson.hi;
    m.p_value = if m.base_rate.is_finite() {
        stats::binomial_test_greater_effective(m.hits, m.labelled, m.n_eff, m.base_rate)
            .map_or(1.0, |t| t.p_value)
    } else {
        1.0
    };
}

/// The records of `point` in `fold` and `period`, with their bucket values.
pub fn records_in<'r>(
    records: &'r [EventRecord],
    infos: &[SeriesInfo<'_>],
    fold: &Fold,
    period: Period,
    max_horizon: usize,
) -> Vec<(&'r EventRecord, Session, Liquidity)> {
    records
        .iter()
        .filter_map(|r| {
            let info = &infos[r.series as usize];
            let i = r.bar as usize;
            let k = info.first_test[fold.index];
            (fold.period(i, info.ts, k, max_horizon) == Some(period))
                .then(|| (r, info.session[i], info.liquidity[fold.index][i]))
        })
        .collect()
}

/// Groups records by every bucket key they count towards.
pub fn by_bucket<'r>(
    records: &[(&'r EventRecord, Session, Liquidity)],
    dims: &[super::buckets::Dimension],
) -> BTreeMap<BucketKey, Vec<&'r EventRecord>> {
    let mut cells: BTreeMap<BucketKey, Vec<&'r EventRecord>> = BTreeMap::new();
    cells.entry(BucketKey::GLOBAL).or_default();
    for &(r, s, l) in records {
        for key in BucketKey::rollups(s, l, r.source, dims) {
            cells.entry(key).or_default().push(r);
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_covers_the_gap_since_the_previous_bar_and_the_first_takes_the_next_gap() {
        let ts: Vec<TsNs> = [100, 103, 110].into_iter().map(TsNs).collect();
        let durations: Vec<i64> = (0..3).map(|i| bar_duration_ns(&ts, i)).collect();
        assert_eq!(durations, vec![3, 3, 7]);
        assert_eq!(bar_duration_ns(&ts[..1], 0), 0, "a lone bar covers no measured time");
    }
}
