//! The additive half of the grid search: what one batch of bar series
//! contributes, before anything global is decided.
//!
//! Two facts of a run depend on all of its data: the fold boundaries (they
//! cut the whole time range) and the liquidity thresholds (a quantile over
//! each symbol's training bars). Neither is known while a series is being
//! replayed, so a [`Partial`] keeps what they need instead of what they
//! decide: per bar a small ledger (time, price, trailing liquidity
//! measure), and every event of every grid point. [`super::reduce`] then
//! fixes folds and thresholds with the code a single run uses, which is
//! why a run split into shards and merged writes the same artifacts as one
//! run over the same data.
//!
//! Partials of disjoint units concatenate ([`Partial::concat`]); the order
//! they arrive in does not matter, because [`Partial::into_run_order`]
//! puts series into the order a single run uses.

use super::buckets::{BucketConfig, LiquidityMeasure};
use super::grid::GridPoint;
use crate::core::{Bar, Channels, TsNs};
use crate::data::UnitQuality;
use crate::detector::{
    self, Channel, ChannelSet, ConflictFloor, Detector, DetectorParams, Event, EventKind, PivotKey,
    PivotRef, Reasons, Side,
};
use crate::series::BarSeries;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// The per-bar facts of one bar series that the global decisions need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesLedger {
    /// Position of the series' unit in the data plan.
    pub unit: u32,
    pub symbol: String,
    pub day: String,
    pub channels: Channels,
    /// Input rows and trades behind the series.
    pub rows: usize,
    pub trades: usize,
    /// The liquidity measure actually used (`auto` resolved).
    pub measure: LiquidityMeasure,
    pub ts: Vec<TsNs>,
    pub prices: Vec<f64>,
    /// The trailing liquidity measure at each bar.
    pub liquidity: Vec<f64>,
    /// Every event of every grid point on this series, each point's in
    /// emission order. Kept with the series so that gathering partials
    /// moves them instead of copying them.
    pub events: Vec<PointEvent>,
}

impl SeriesLedger {
    pub fn start(&self) -> Option<TsNs> {
        self.ts.first().copied()
    }

    pub fn end(&self) -> Option<TsNs> {
        self.ts.last().copied()
    }
}

/// One event of one grid point, without what its series' ledger already
/// holds: times and prices are read back from the ledger at the event's and
/// pivots' bar indices. At millions of events per run this is 64 bytes
/// instead of 120.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointEvent {
    pub point: u32,
    /// Bar index of the confirming bar within the series.
    pub index: u32,
    pub score: f64,
    pub kind: EventKind,
    pub side: Side,
    pub channels: ChannelSet,
    pub primary: Channel,
    pub reasons: Reasons,
    /// Older and newer pivot (bar index, primary reading); None for
    /// conflicts.
    pub pivots: Option<[(u32, f64); 2]>,
}

impl PointEvent {
    fn new(point: u32, e: &Event) -> PointEvent {
        let idx = |i: u64| u32::try_from(i).expect("a series has fewer than 2^32 bars");
        PointEvent {
            point,
            index: idx(e.index),
            score: e.score,
            kind: e.kind,
            side: e.side,
            channels: e.channels,
            primary: e.primary,
            reasons: e.reasons,
            pivots: e
                .pivot_a
                .zip(e.pivot_b)
                .map(|(a, b)| [(idx(a.index), a.indicator), (idx(b.index), b.indicator)]),
        }
    }

    /// The detector's event, with times and prices from the series' ledger.
    pub fn event(&self, ledger: &SeriesLedger) -> Event {
        let pivot = |(i, indicator): (u32, f64)| PivotRef {
            index: u64::from(i),
            ts: ledger.ts[i as usize],
            price: ledger.prices[i as usize],
            indicator,
        };
        let i = self.index as usize;
        Event {
            index: u64::from(self.index),
            ts: ledger.ts[i],
            price: ledger.prices[i],
            kind: self.kind,
            side: self.side,
            channels: self.channels,
            primary: self.primary,
            score: self.score,
            pivot_a: self.pivots.map(|p| pivot(p[0])),
            pivot_b: self.pivots.map(|p| pivot(p[1])),
            reasons: self.reasons,
        }
    }
}

/// What a batch of units contributes to a grid search.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Partial {
    pub series: Vec<SeriesLedger>,
    /// Data quality per unit, with the unit's position in the plan.
    pub quality: Vec<(u32, UnitQuality)>,
    /// Detector compute time per bar (ns) of the base parameters, one value
    /// per block of bars.
    pub detector_block_ns: Vec<f64>,
}

/// Bars per timed block: the clock is read once per block, so that reading
/// it does not dominate a per-bar cost of tens of nanoseconds.
const TIMING_BLOCK: usize = 4096;

impl Partial {
    /// Replays every grid point over `series`, which came from plan unit
    /// `unit`. Each distinct pivot setting runs its pivot pass once and
    /// every point sharing it filters the stored candidates, which gives
    /// the events the streaming detector would (see `detector`).
    pub fn of_unit(
        unit: u32,
        series: &[BarSeries],
        points: &[GridPoint],
        buckets: &BucketConfig,
    ) -> Partial {
        let mut groups: BTreeMap<PivotKey, Vec<&GridPoint>> = BTreeMap::new();
        for p in points {
            groups.entry(p.params.pivot_key()).or_default().push(p);
        }
        let mut partial = Partial::default();
        for bars in series {
            let mut events = Vec::new();
            for (key, members) in &groups {
                replay_group(bars, *key, members, &mut events);
            }
            events.shrink_to_fit();
            let (liquidity, measure) = buckets.liquidity.trailing_measure(&bars.bars);
            partial.series.push(SeriesLedger {
                unit,
                symbol: bars.symbol.clone(),
                day: bars.day.clone(),
                channels: bars.channels,
                rows: bars.rows,
                trades: bars.trades,
                measure,
                ts: bars.bars.iter().map(|b| b.ts).collect(),
                prices: bars.prices(),
                liquidity,
                events,
            });
        }
        partial
    }

    /// Concatenates partials of disjoint units. Only the series' headers
    /// move; their bars and events stay where they are.
    pub fn concat(parts: impl IntoIterator<Item = Partial>) -> Partial {
        let mut all = Partial::default();
        for mut part in parts {
            all.series.append(&mut part.series);
            all.quality.append(&mut part.quality);
            all.detector_block_ns.append(&mut part.detector_block_ns);
        }
        all
    }

    /// Series sorted as a single run orders them (symbol, then start; ties
    /// in plan order), quality in plan order.
    pub fn into_run_order(mut self) -> Partial {
        let mut order: Vec<usize> = (0..self.series.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.series[a], &self.series[b]);
            (&x.symbol, x.start(), x.unit).cmp(&(&y.symbol, y.start(), y.unit))
        });
        let mut slots: Vec<Option<SeriesLedger>> = self.series.into_iter().map(Some).collect();
        self.series = order.iter().map(|&i| slots[i].take().expect("a permutation")).collect();
        self.quality.sort_by_key(|(unit, _)| *unit);
        self
    }

    pub fn event_count(&self) -> usize {
        self.series.iter().map(|s| s.events.len()).sum()
    }

    pub fn total_bars(&self) -> usize {
        self.series.iter().map(|s| s.ts.len()).sum()
    }

    pub fn total_rows(&self) -> usize {
        self.series.iter().map(|s| s.rows).sum()
    }

    /// Symbols in series order, each once (series are sorted by symbol).
    pub fn symbols(&self) -> Vec<String> {
        let mut symbols: Vec<String> = self.series.iter().map(|s| s.symbol.clone()).collect();
        symbols.dedup();
        symbols
    }

    pub fn time_range(&self) -> Option<(TsNs, TsNs)> {
        let start = self.series.iter().filter_map(SeriesLedger::start).min()?;
        let end = self.series.iter().filter_map(SeriesLedger::end).max()?;
        Some((start, end))
    }
}

fn replay_group(bars: &BarSeries, key: PivotKey, points: &[&GridPoint], out: &mut Vec<PointEvent>) {
    let params: Vec<DetectorParams> = points.iter().map(|p| p.params.clone()).collect();
    let floor = ConflictFloor::for_sets(&params);
    let candidates = detector::candidates(&bars.bars, key, bars.channels, floor)
        .expect("grid points were validated");
    for point in points {
        let events = detector::filter_candidates(&candidates, &point.params, bars.channels)
            .expect("grid points were validated");
        out.extend(events.iter().map(|e| PointEvent::new(point.id as u32, e)));
    }
}

/// Per-bar compute time of the streaming detector with `params` over
/// blocks of bars: what the live service would spend per bar. It is a
/// separate pass so that only runs that report it pay for it.
pub fn time_detector(series: &BarSeries, params: &DetectorParams) -> Vec<f64> {
    let Ok(mut detector) = Detector::new(params.clone(), series.channels) else {
        return Vec::new();
    };
    series
        .bars
        .chunks(TIMING_BLOCK)
        .map(|block| {
            let t = Instant::now();
            let fired = block.iter().filter_map(|b: &Bar| detector.update(b)).count();
            std::hint::black_box(fired);
            t.elapsed().as_nanos() as f64 / block.len() as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_event_takes_64_bytes_against_the_detector_events_120() {
        // The point of PointEvent: millions of them are held until the
        // reduction, and the ledger already has every time and price.
        assert_eq!(std::mem::size_of::<PointEvent>(), 64);
        assert_eq!(std::mem::size_of::<Event>(), 120);
    }
}
