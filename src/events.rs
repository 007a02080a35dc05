//! The events table: every event of one parameter set with its labels, as
//! `divtune replay` and the tuner write it (events.parquet, events.csv) and
//! as calibration reads it back.

use crate::artifacts::{self, WriteError};
use crate::detector::{self, DetectorParams, Event, PivotRef};
use crate::labels::{self, LabelParams};
use crate::series::BarSeries;
use polars::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// One event with where it came from and how it turned out.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub symbol: String,
    pub day: String,
    /// Index of the bar series (segment) in the run, in run order.
    pub series: u32,
    pub event: Event,
    /// Forward return per horizon (simple return; None without enough bars).
    pub rets: Vec<Option<f64>>,
    /// hit, miss or flat per horizon; None for conflicts and unlabelled events.
    pub outcomes: Vec<Option<labels::Outcome>>,
    /// Train, test, or empty when the event is purged or outside the split.
    pub period: String,
    pub session: String,
    pub liquidity: String,
    pub source: String,
}

/// Replays `params` over every series and labels the events. Tags are
/// filled by `tag(series_index, bar_index)` as (period, session, liquidity).
pub fn collect(
    series: &[BarSeries],
    params: &DetectorParams,
    label_params: &LabelParams,
    tag: &dyn Fn(usize, usize) -> (String, String, String),
) -> Result<Vec<EventRow>, String> {
    let mut rows = Vec::new();
    for (s, bars) in series.iter().enumerate() {
        let events = detector::replay(&bars.bars, params.clone(), bars.channels)
            .map_err(|e| e.to_string())?;
        let prices = bars.prices();
        let labelled =
            labels::label_events(&events, &prices, label_params).map_err(|e| e.to_string())?;
        for (event, l) in events.into_iter().zip(labelled) {
            let (period, session, liquidity) = tag(s, event.index as usize);
            rows.push(EventRow {
                symbol: bars.symbol.clone(),
                day: bars.day.clone(),
                series: s as u32,
                source: crate::tune::buckets::Source::of(event.channels).as_str().to_string(),
                rets: l.horizons.iter().map(|h| h.ret).collect(),
                outcomes: l.horizons.iter().map(|h| h.outcome).collect(),
                event,
                period,
                session,
                liquidity,
            });
        }
    }
    Ok(rows)
}

/// Event counts by type and, per horizon, labelled events and hits.
pub fn counts(rows: &[EventRow], horizons: &[usize]) -> serde_json::Value {
    let mut by_type = std::collections::BTreeMap::<String, usize>::new();
    for r in rows {
        *by_type.entry(event_type(&r.event)).or_default() += 1;
    }
    let per_horizon: Vec<serde_json::Value> = horizons
        .iter()
        .enumerate()
        .map(|(h, horizon)| {
            let outcome =
                |o: labels::Outcome| rows.iter().filter(|r| r.outcomes[h] == Some(o)).count();
            let unlabelled = rows.iter().filter(|r| r.rets[h].is_none()).count();
            serde_json::json!({
                "horizon": horizon,
                "hits": outcome(labels::Outcome::Hit),
                "misses": outcome(labels::Outcome::Miss),
                "flats": outcome(labels::Outcome::Flat),
                "unlabelled": unlabelled,
            })
        })
        .collect();
    serde_json::json!({ "events": rows.len(), "by_type": by_type, "horizons": per_horizon })
}

/// The events as a data frame with one column per field.
pub fn to_frame(rows: &[EventRow], horizons: &[usize]) -> PolarsResult<DataFrame> {
    let text = |f: &dyn Fn(&EventRow) -> String| -> Vec<String> { rows.iter().map(f).collect() };
    let num = |f: &dyn Fn(&EventRow) -> f64| -> Vec<f64> { rows.iter().map(f).collect() };
    let int = |f: &dyn Fn(&EventRow) -> i64| -> Vec<i64> { rows.iter().map(f).collect() };
    let pivot = |f: fn(&Event) -> Option<PivotRef>, g: fn(&PivotRef) -> f64| -> Vec<Option<f64>> {
        rows.iter().map(|r| f(&r.event).map(|p| g(&p))).collect()
    };
    let pivot_int =
        |f: fn(&Event) -> Option<PivotRef>, g: fn(&PivotRef) -> i64| -> Vec<Option<i64>> {
            rows.iter().map(|r| f(&r.event).map(|p| g(&p))).collect()
        };
    let mut columns = vec![
        Column::new("symbol".into(), text(&|r| r.symbol.clone())),
        Column::new("day".into(), text(&|r| r.day.clone())),
        Column::new("series".into(), int(&|r| r.series as i64)),
        Column::new("bar_index".into(), int(&|r| r.event.index as i64)),
        Column::new("ts_ns".into(), int(&|r| r.event.ts.0)),
        Column::new("type".into(), text(&|r| event_type(&r.event))),
        Column::new("side".into(), text(&|r| r.event.side.as_str().to_string())),
        Column::new("kind".into(), text(&|r| r.event.kind.as_str().to_string())),
        Column::new("channels".into(), text(&|r| r.event.channels.as_str().to_string())),
        Column::new("primary".into(), text(&|r| r.event.primary.as_str().to_string())),
        Column::new("score".into(), num(&|r| r.event.score)),
        Column::new("price".into(), num(&|r| r.event.price)),
        Column::new("pivot_a_index".into(), pivot_int(|e| e.pivot_a, |p| p.index as i64)),
        Column::new("pivot_a_ts_ns".into(), pivot_int(|e| e.pivot_a, |p| p.ts.0)),
        Column::new("pivot_a_price".into(), pivot(|e| e.pivot_a, |p| p.price)),
        Column::new("pivot_a_indicator".into(), pivot(|e| e.pivot_a, |p| p.indicator)),
        Column::new("pivot_b_index".into(), pivot_int(|e| e.pivot_b, |p| p.index as i64)),
        Column::new("pivot_b_ts_ns".into(), pivot_int(|e| e.pivot_b, |p| p.ts.0)),
        Column::new("pivot_b_price".into(), pivot(|e| e.pivot_b, |p| p.price)),
        Column::new("pivot_b_indicator".into(), pivot(|e| e.pivot_b, |p| p.indicator)),
        Column::new("reasons".into(), text(&|r| r.event.reasons.to_string())),
        Column::new("period".into(), text(&|r| r.period.clone())),
        Column::new("session".into(), text(&|r| r.session.clone())),
        Column::new("liquidity".into(), text(&|r| r.liquidity.clone())),
        Column::new("source".into(), text(&|r| r.source.clone())),
    ];
    for (h, horizon) in horizons.iter().enumerate() {
        let rets: Vec<Option<f64>> = rows.iter().map(|r| r.rets[h]).collect();
        let outcomes: Vec<Option<&str>> =
            rows.iter().map(|r| r.outcomes[h].map(|o| o.as_str())).collect();
        columns.push(Column::new(format!("ret_{horizon}").into(), rets));
        columns.push(Column::new(format!("outcome_{horizon}").into(), outcomes));
    }
    DataFrame::new(rows.len(), columns)
}

/// `regular_bull`, `hidden_bear`, `conflict`.
pub fn event_type(e: &Event) -> String {
    match e.side {
        detector::Side::None => e.kind.as_str().to_string(),
        side => format!("{}_{}", e.kind.as_str(), side.as_str()),
    }
}

/// Writes events.parquet (and events.csv when asked) into `dir`.
pub fn write(
    dir: &Path,
    rows: &[EventRow],
    horizons: &[usize],
    csv: bool,
) -> Result<(), WriteError> {
    let path = dir.join("events.parquet");
    let mut df = to_frame(rows, horizons)
        .map_err(|e| WriteError { path: path.clone(), message: e.to_string() })?;
    artifacts::write_parquet(&path, &mut df)?;
    if csv {
        artifacts::write_bytes(&dir.join("events.csv"), to_csv(&df).as_bytes())?;
    }
    Ok(())
}

/// Plain CSV: a header, one line per row, empty cells for nulls, text
/// quoted only when it holds a comma or a quote.
pub fn to_csv(df: &DataFrame) -> String {
    let mut out = String::new();
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let _ = writeln!(out, "{}", names.join(","));
    for i in 0..df.height() {
        let cells: Vec<String> = df
            .columns()
            .iter()
            .map(|c| match c.get(i) {
                Ok(AnyValue::Null) | Err(_) => String::new(),
                Ok(AnyValue::String(s)) => quote(s),
                Ok(AnyValue::StringOwned(s)) => quote(&s),
                // Shortest exact form: polars' display rounds to 6 decimals.
                Ok(AnyValue::Float64(v)) => format!("{v}"),
                Ok(v) => v.to_string(),
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    out
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Reads the directional events of one period back from an events.parquet
/// for calibration: score, and per horizon the side-adjusted return
/// (positive when the call was right) and the hit.
pub fn read_for_calibration(
    path: &Path,
    horizons: &[usize],
    period: &str,
) -> Result<Vec<crate::calibrate::CalibrationEvent>, String> {
    use crate::calibrate::{CalibrationEvent, HorizonOutcome};
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let df = ParquetReader::new(file).finish().map_err(|e| format!("{}: {e}", path.display()))?;
    let err = |e: PolarsError| format!("{}: {e}", path.display());
    let strings = |name: &str| -> Result<Vec<String>, String> {
        let col = df.column(name).map_err(err)?.str().map_err(err)?.clone();
        Ok(col.iter().map(|v| v.unwrap_or_default().to_string()).collect())
    };
    let ints = |name: &str| -> Result<Vec<i64>, String> {
        Ok(df
            .column(name)
            .map_err(err)?
            .i64()
            .map_err(err)?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (periods, sides) = (strings("period")?, strings("side")?);
    let (series, bars) = (ints("series")?, ints("bar_index")?);
    let scores: Vec<f64> = df
        .column("score")
        .map_err(err)?
        .f64()
        .map_err(err)?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect();
    let mut per_horizon = Vec::new();
    for h in horizons {
        let rets: Vec<Option<f64>> =
            df.column(&format!("ret_{h}")).map_err(err)?.f64().map_err(err)?.iter().collect();
        let outcomes = strings(&format!("outcome_{h}"))?;
        per_horizon.push((*h, rets, outcomes));
    }
    let events = (0..df.height())
        .filter(|&i| periods[i] == period && sides[i] != "none")
        .map(|i| {
            let sign = if sides[i] == "bull" { 1.0 } else { -1.0 };
            let horizons = per_horizon
                .iter()
                .map(|(h, rets, outcomes)| HorizonOutcome {
                    horizon: *h,
                    ret: rets[i].map(|r| sign * r),
                    hit: (!outcomes[i].is_empty()).then(|| outcomes[i] == "hit"),
                })
                .collect();
            CalibrationEvent {
                series: series[i] as u32,
                bar: bars[i] as u32,
                score: scores[i],
                horizons,
            }
        })
        .collect();
    Ok(events)
}
