//! `divtune inspect`: what the data stage sees in a tree of files, per
//! symbol and day, before anyone tunes anything on it.

use crate::data::UnitQuality;
use crate::series::{BarSeries, Prepared};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One symbol-day of the inspection.
#[derive(Clone, Debug, Serialize)]
pub struct DayRow {
    pub symbol: String,
    pub day: String,
    pub segments: usize,
    pub rows: usize,
    pub trades: usize,
    pub bars: usize,
    pub first: String,
    pub last: String,
    pub channels: String,
}

/// The whole inspection, also written as JSON with `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    pub days: Vec<DayRow>,
    pub units: Vec<UnitQuality>,
}

/// Summarises prepared data per symbol and day.
pub fn inspect(prepared: &Prepared) -> Inspection {
    let mut by_day: BTreeMap<(String, String), Vec<&BarSeries>> = BTreeMap::new();
    for s in &prepared.series {
        by_day.entry((s.symbol.clone(), s.day.clone())).or_default().push(s);
    }
    let days = by_day
        .into_iter()
        .map(|((symbol, day), series)| DayRow {
            symbol,
            day,
            segments: series.len(),
            rows: series.iter().map(|s| s.rows).sum(),
            trades: series.iter().map(|s| s.trades).sum(),
            bars: series.iter().map(|s| s.bars.len()).sum(),
            first: series
                .iter()
                .filter_map(|s| s.start())
                .min()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            last: series
                .iter()
                .filter_map(|s| s.end())
                .max()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            channels: series[0].channels.label(),
        })
        .collect();
    Inspection { days, units: prepared.quality.clone() }
}

/// The human-readable table printed on stdout.
pub fn render(inspection: &Inspection) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<10} {:>4} {:>9} {:>9} {:>8}  {:<24} {:<24} channels",
        "symbol", "day", "segs", "rows", "trades", "bars", "first bar", "last bar"
    );
    for d in &inspection.days {
        let _ = writeln!(
            out,
            "{:<12} {:<10} {:>4} {:>9} {:>9} {:>8}  {:<24} {:<24} {}",
            d.symbol, d.day, d.segments, d.rows, d.trades, d.bars, d.first, d.last, d.channels
        );
    }
    let _ = writeln!(out, "\nfiles:");
    for unit in &inspection.units {
        for f in &unit.files {
            let side = f.side_source.as_ref().map(|s| s.describe()).unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  {} [{} {}] read {} kept {}; ts {} ({}); side {}; dropped: {}",
                f.path.display(),
                f.role,
                f.symbol,
                f.rows_read,
                f.rows_kept,
                f.ts_column,
                f.ts_unit,
                side,
                f.dropped.summary()
            );
        }
        if unit.gap_splits > 0 {
            let _ = writeln!(out, "  {}: split at {} gaps", unit.symbol, unit.gap_splits);
        }
    }
    out
}
