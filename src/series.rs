//! Bar series: the join of the data and feature stages. Each gap-free
//! segment of ticks becomes one series of bars; recorded feature bars pass
//! through as they are. Units are loaded in parallel, and the result is in
//! a fixed order (symbol, then time) whatever the thread count.

use crate::core::{Bar, Channels, TsNs};
use crate::data::{self, DataError, DataPlan, SegmentData, UnitQuality};
use crate::features::{self, FeatureParams};
use rayon::prelude::*;

/// The bars of one gap-free segment of one symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct BarSeries {
    pub symbol: String,
    /// Local date of the segment.
    pub day: String,
    pub channels: Channels,
    /// Input rows (trades + quotes, or recorded bars) behind the series.
    pub rows: usize,
    pub trades: usize,
    pub bars: Vec<Bar>,
}

impl BarSeries {
    pub fn start(&self) -> Option<TsNs> {
        self.bars.first().map(|b| b.ts)
    }

    pub fn end(&self) -> Option<TsNs> {
        self.bars.last().map(|b| b.ts)
    }

    /// Bar prices, indexed like the bars (what the labels read).
    pub fn prices(&self) -> Vec<f64> {
        self.bars.iter().map(|b| b.price).collect()
    }
}

/// Everything the data and feature stages produced for a run.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub series: Vec<BarSeries>,
    pub quality: Vec<UnitQuality>,
}

impl Prepared {
    pub fn total_rows(&self) -> usize {
        self.series.iter().map(|s| s.rows).sum()
    }

    pub fn total_bars(&self) -> usize {
        self.series.iter().map(|s| s.bars.len()).sum()
    }

    pub fn time_range(&self) -> Option<(TsNs, TsNs)> {
        let start = self.series.iter().filter_map(BarSeries::start).min()?;
        let end = self.series.iter().filter_map(BarSeries::end).max()?;
        Some((start, end))
    }
}

/// Loads every unit of the plan and turns its segments into bar series.
/// The first data error in plan order is returned, so the message does not
/// depend on thread timing.
pub fn prepare(plan: &DataPlan, params: &FeatureParams) -> Result<Prepared, DataError> {
    let all: Vec<usize> = (0..plan.units.len()).collect();
    let loaded = map_units(plan, &all, params, |_, series, quality| (series, quality))?;
    let mut prepared = Prepared { series: Vec::new(), quality: Vec::new() };
    for (series, quality) in loaded {
        prepared.series.extend(series);
        prepared.quality.push(quality);
    }
    prepared.series.sort_by(|a, b| (&a.symbol, a.start()).cmp(&(&b.symbol, b.start())));
    Ok(prepared)
}

/// Loads the plan units at positions `units`, one per worker at a time,
/// and hands each unit's non-empty bar series and quality record to
/// `per_unit` with the unit's position. A worker drops a unit's ticks and
/// bars before it takes the next one, so memory holds only what
/// `per_unit` returns. Results are in the order of `units`; the first data
/// error in that order is returned.
pub fn map_units<T, F>(
    plan: &DataPlan,
    units: &[usize],
    params: &FeatureParams,
    per_unit: F,
) -> Result<Vec<T>, DataError>
where
    T: Send,
    F: Fn(usize, Vec<BarSeries>, UnitQuality) -> T + Sync,
{
    let bar = crate::ui::progress(units.len() as u64, "load");
    let results: Vec<Result<T, DataError>> = units
        .par_iter()
        .map(|&u| {
            let data = data::load_unit(plan, &plan.units[u])?;
            let series: Vec<BarSeries> = data
                .segments
                .iter()
                .map(|s| to_series(s, params))
                .filter(|s| !s.bars.is_empty())
                .collect();
            drop(data.segments);
            let out = per_unit(u, series, data.quality);
            bar.inc(1);
            Ok(out)
        })
        .collect();
    bar.finish_and_clear();
    results.into_iter().collect()
}

/// Recorded bars keep what the recording has; a fusion score or a
/// consistency it lacks is derived from its z-scores with the configured
/// weights, as the feature stage would.
fn derive_missing(bars: &[Bar], params: &FeatureParams) -> Vec<Bar> {
    bars.iter()
        .map(|b| Bar {
            fusion: if b.fusion.is_nan() {
                features::fuse(b.z_ofi, b.z_cvd, params.w_ofi, params.w_cvd)
            } else {
                b.fusion
            },
            consistency: if b.consistency.is_nan() {
                features::consistency(b.z_ofi, b.z_cvd)
            } else {
                b.consistency
            },
            ..*b
        })
        .collect()
}

fn to_series(segment: &data::Segment, params: &FeatureParams) -> BarSeries {
    let (bars, trades) = match &segment.data {
        SegmentData::Ticks { trades, quotes } => {
            (features::bars_from_ticks(trades, quotes, params, segment.channels), trades.len())
        }
        SegmentData::Recorded { bars } => (derive_missing(bars, params), 0),
    };
    BarSeries {
        symbol: segment.symbol.clone(),
        day: segment.day.clone(),
        channels: segment.channels,
        rows: segment.rows(),
        trades,
        bars,
    }
}
