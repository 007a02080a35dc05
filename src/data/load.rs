//! Loading one unit: read its files, validate rows, merge, classify trade
//! sides, and split into gap-free segments per day.

use super::columns::Field;
use super::error::DataError;
use super::read::{self, TsColumn};
use super::side::{self, SideEncoding, SideSource};
use super::validate::{self, DropCounts, DropReason, MonotoneClock};
use super::{DataPlan, PlannedFile, PlannedUnit, Role, Segment, SegmentData};
use crate::core::{Aggressor, Bar, Channels, Level, Quote, Trade, TsNs, MAX_LEVELS};
use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What validation did to one file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileQuality {
    pub path: PathBuf,
    pub role: String,
    pub symbol: String,
    pub rows_read: u64,
    pub rows_kept: u64,
    pub ts_column: String,
    pub ts_unit: String,
    /// Where trade sides came from (trades only).
    pub side_source: Option<SideSource>,
    /// Trades whose side had to be guessed (no price change yet to go on).
    pub side_unresolved: u64,
    pub dropped: DropCounts,
}

/// What loading did to one unit: per-file counts and the segment split.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnitQuality {
    pub symbol: String,
    pub channels: String,
    pub files: Vec<FileQuality>,
    pub segments: usize,
    /// Splits made because the stream went silent for longer than max_gap.
    pub gap_splits: usize,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
}

/// A loaded unit: its segments in time order and the quality record.
#[derive(Clone, Debug)]
pub struct UnitData {
    pub symbol: String,
    pub segments: Vec<Segment>,
    pub quality: UnitQuality,
}

/// A row that remembers which file it came from, so that drops found after
/// the merge are charged to the right file.
struct Tagged<T> {
    file: usize,
    row: T,
}

/// Reads, validates and segments one unit.
pub fn load_unit(plan: &DataPlan, unit: &PlannedUnit) -> Result<UnitData, DataError> {
    let mut qualities = Vec::new();
    let mut trades = Vec::new();
    let mut trade_sides: Vec<(usize, Option<SideEncoding>)> = Vec::new();
    let mut quotes = Vec::new();
    let mut recorded = Vec::new();

    // Phase 1: read and validate each file on its own.
    for planned in &unit.files {
        let file_index = qualities.len();
        let (quality, encoding) = match planned.file.role {
            Role::Trades => read_trades(plan, planned, file_index, &mut trades)?,
            Role::Quotes => (read_quotes(plan, planned, file_index, &mut quotes)?, None),
            Role::Features => (read_recording(plan, planned, file_index, &mut recorded)?, None),
        };
        if planned.file.role == Role::Trades {
            trade_sides.push((file_index, encoding));
        }
        qualities.push(quality);
    }
    if !recorded.is_empty() && (!trades.is_empty() || !quotes.is_empty()) {
        return Err(DataError::Io {
            path: unit.files[0].file.path.clone(),
            message: format!(
                "unit {} mixes feature recordings with trades or quotes; keep them in separate trees",
                unit.unit.label()
            ),
        });
    }

    // Phase 2: merge files in time order and drop cross-file duplicates.
    let trades = merge(trades, &mut qualities, |a, b| a.ts == b.ts, |a, b| a == b);
    let quotes = merge(quotes, &mut qualities, |a, b| a.ts == b.ts, |a, b| a == b);
    let recorded = merge(recorded, &mut qualities, |a, b| a.ts == b.ts, same_bar);

    // Phase 3: fill in inferred sides, then check what is left.
    let trades = classify_sides(trades, &quotes, &trade_sides, &mut qualities);
    for q in &mut qualities {
        q.rows_kept = q.rows_read - q.dropped.total();
    }
    check_not_empty(unit, &trades, &quotes, &recorded, &qualities)?;
    check_overlap(unit, &trades, &quotes, plan.gap_ns)?;

    // Phase 4: split at day boundaries and gaps.
    let channels = channels_of(unit, &trades, &quotes);
    let (segments, gap_splits) = if recorded.is_empty() {
        split_ticks(plan, &unit.unit.symbol, channels, trades, quotes)
    } else {
        split_recorded(plan, &unit.unit.symbol, channels, recorded)
    };
    let quality = UnitQuality {
        symbol: unit.unit.symbol.clone(),
        channels: channels.label(),
        files: qualities,
        segments: segments.len(),
        gap_splits,
        first_ts: segments.first().map(|s| s.start.to_rfc3339()),
        last_ts: segments.last().map(|s| s.end.to_rfc3339()),
    };
    Ok(UnitData { symbol: unit.unit.symbol.clone(), segments, quality })
}

fn new_quality(planned: &PlannedFile, rows: usize, ts: &TsColumn) -> FileQuality {
    FileQuality {
        path: planned.file.path.clone(),
        role: planned.file.role.as_str().to_string(),
        symbol: planned.file.symbol.clone(),
        rows_read: rows as u64,
        rows_kept: 0,
        ts_column: planned.columns.get(Field::Ts).unwrap_or_default().to_string(),
        ts_unit: if ts.typed { format!("{} (parquet type)", ts.unit) } else { ts.unit.to_string() },
        side_source: None,
        side_unresolved: 0,
        dropped: DropCounts::default(),
    }
}

/// The columns of a file that a role reads, in a fixed order.
fn wanted(planned: &PlannedFile, fields: &[Field]) -> Vec<String> {
    let mut names: Vec<String> =
        fields.iter().filter_map(|f| planned.columns.get(*f)).map(str::to_string).collect();
    names.extend(planned.columns.depth.iter().flatten().cloned());
    names.dedup();
    names
}

fn read_trades(
    plan: &DataPlan,
    planned: &PlannedFile,
    file: usize,
    out: &mut Vec<Tagged<PendingTrade>>,
) -> Result<(FileQuality, Option<SideEncoding>), DataError> {
    let path = &planned.file.path;
    let fields = [
        Field::Ts,
        Field::Price,
        Field::Qty,
        Field::Side,
        Field::IsBuyerMaker,
        Field::IsBuy,
        Field::TradeId,
    ];
    let df = read::read_columns(path, &wanted(planned, &fields))?;
    let col = |f: Field| planned.columns.get(f).unwrap_or_default();
    let ts = read::ts_column(&df, path, col(Field::Ts), plan.ts_unit)?;
    let px = read::f64_column(&df, path, col(Field::Price), "price")?;
    let qty = read::f64_column(&df, path, col(Field::Qty), "qty")?;
    let (sides, encoding, source) = read_sides(&df, path, planned)?;
    let ids = match planned.columns.get(Field::TradeId) {
        Some(name) => Some(read::i64_column(&df, path, name, "trade_id")?),
        None => None,
    };
    let mut quality = new_quality(planned, px.len(), &ts);
    quality.side_source = source;

    let mut clock = MonotoneClock::default();
    for i in 0..px.len() {
        let row = clock.check(ts.ns[i]).and_then(|t| {
            let side = match &sides {
                Some(s) => Some(s[i].ok_or(DropReason::SideMissing)?),
                None => None,
            };
            let id = ids.as_ref().and_then(|ids| ids[i]);
            Ok(PendingTrade {
                ts: TsNs(t),
                px: validate::check_price(px[i])?,
                qty: validate::check_qty(qty[i])?,
                side,
                id,
            })
        });
        match row {
            Ok(row) => out.push(Tagged { file, row }),
            Err(reason) => quality.dropped.add(reason),
        }
    }
    Ok((quality, encoding))
}

type Sides = (Option<Vec<Option<Aggressor>>>, Option<SideEncoding>, Option<SideSource>);

fn read_sides(
    df: &polars::prelude::DataFrame,
    path: &Path,
    planned: &PlannedFile,
) -> Result<Sides, DataError> {
    let options = [
        (Field::Side, SideEncoding::Side),
        (Field::IsBuyerMaker, SideEncoding::BuyerMaker),
        (Field::IsBuy, SideEncoding::IsBuy),
    ];
    for (field, encoding) in options {
        if let Some(name) = planned.columns.get(field) {
            let values = read::side_values(df, path, name, field.key())?;
            let sides = side::decode_sides(&values, encoding, path, name)?;
            let source = match encoding {
                SideEncoding::Side => SideSource::SideColumn(name.to_string()),
                SideEncoding::BuyerMaker => SideSource::BuyerMakerColumn(name.to_string()),
                SideEncoding::IsBuy => SideSource::IsBuyColumn(name.to_string()),
            };
            return Ok((Some(sides), Some(encoding), Some(source)));
        }
    }
    Ok((None, None, None))
}

fn read_quotes(
    plan: &DataPlan,
    planned: &PlannedFile,
    file: usize,
    out: &mut Vec<Tagged<Quote>>,
) -> Result<FileQuality, DataError> {
    let path = &planned.file.path;
    let fields = [Field::Ts, Field::BidPx, Field::BidSz, Field::AskPx, Field::AskSz];
    let df = read::read_columns(path, &wanted(planned, &fields))?;
    let col = |f: Field| planned.columns.get(f).unwrap_or_default();
    let ts = read::ts_column(&df, path, col(Field::Ts), plan.ts_unit)?;
    let mut levels = vec![[
        read::f64_column(&df, path, col(Field::BidPx), "bid_px")?,
        read::f64_column(&df, path, col(Field::BidSz), "bid_sz")?,
        read::f64_column(&df, path, col(Field::AskPx), "ask_px")?,
        read::f64_column(&df, path, col(Field::AskSz), "ask_sz")?,
    ]];
    for names in &planned.columns.depth {
        let mut level = Vec::with_capacity(4);
        for (name, field) in names.iter().zip(["bid_px_n", "bid_sz_n", "ask_px_n", "ask_sz_n"]) {
            level.push(read::f64_column(&df, path, name, field)?);
        }
        levels.push(level.try_into().expect("four columns per level"));
    }
    let mut quality = new_quality(planned, ts.ns.len(), &ts);

    let mut clock = MonotoneClock::default();
    for i in 0..ts.ns.len() {
        let top = &levels[0];
        let row = clock.check(ts.ns[i]).and_then(|t| {
            let bid = validate::check_price(top[0][i])?;
            let bid_sz = validate::check_qty(top[1][i])?;
            let ask = validate::check_price(top[2][i])?;
            let ask_sz = validate::check_qty(top[3][i])?;
            validate::check_book(bid, ask)?;
            let mut quote = Quote::top(TsNs(t), bid, bid_sz, ask, ask_sz);
            add_depth(&mut quote, &levels[1..], i);
            Ok(quote)
        });
        match row {
            Ok(row) => out.push(Tagged { file, row }),
            Err(reason) => quality.dropped.add(reason),
        }
    }
    Ok(quality)
}

/// Adds deeper levels while they are valid and ordered away from the touch;
/// the first bad level ends the depth for that row rather than dropping it.
fn add_depth(quote: &mut Quote, levels: &[[Vec<Option<f64>>; 4]], i: usize) {
    for (k, level) in levels.iter().enumerate().take(MAX_LEVELS - 1) {
        let value = |c: usize| level[c][i].filter(|v| v.is_finite() && *v > 0.0);
        let (Some(bp), Some(bs), Some(ap), Some(asz)) = (value(0), value(1), value(2), value(3))
        else {
            break;
        };
        if bp >= quote.bid[k].px || ap <= quote.ask[k].px {
            break;
        }
        quote.bid[k + 1] = Level { px: bp, sz: bs };
        quote.ask[k + 1] = Level { px: ap, sz: asz };
        quote.depth = k + 2;
    }
}

fn read_recording(
    plan: &DataPlan,
    planned: &PlannedFile,
    file: usize,
    out: &mut Vec<Tagged<Bar>>,
) -> Result<FileQuality, DataError> {
    let path = &planned.file.path;
    let fields =
        [Field::Ts, Field::Price, Field::ZOfi, Field::ZCvd, Field::Fusion, Field::Consistency];
    let df = read::read_columns(path, &wanted(planned, &fields))?;
    let ts = read::ts_column(
        &df,
        path,
        planned.columns.get(Field::Ts).unwrap_or_default(),
        plan.ts_unit,
    )?;
    let optional = |field: Field| -> Result<Option<Vec<Option<f64>>>, DataError> {
        planned
            .columns
            .get(field)
            .map(|name| read::f64_column(&df, path, name, field.key()))
            .transpose()
    };
    let px = optional(Field::Price)?.unwrap_or_default();
    let (z_ofi, z_cvd) = (optional(Field::ZOfi)?, optional(Field::ZCvd)?);
    let (fusion_col, consistency_col) = (optional(Field::Fusion)?, optional(Field::Consistency)?);
    let mut quality = new_quality(planned, px.len(), &ts);

    let value = |col: &Option<Vec<Option<f64>>>, i: usize| {
        col.as_ref().map_or(f64::NAN, |c| c[i].unwrap_or(f64::NAN))
    };
    // Fusion and consistency the recording lacks stay NaN here; the feature
    // stage derives them with the configured weights (series::prepare).
    let mut clock = MonotoneClock::default();
    for (i, &price) in px.iter().enumerate() {
        let row = clock.check(ts.ns[i]).and_then(|t| {
            Ok(Bar {
                ts: TsNs(t),
                price: validate::check_price(price)?,
                z_ofi: value(&z_ofi, i),
                z_cvd: value(&z_cvd, i),
                fusion: value(&fusion_col, i),
                consistency: value(&consistency_col, i),
                activity: f64::NAN,
            })
        });
        match row {
            Ok(row) => out.push(Tagged { file, row }),
            Err(reason) => quality.dropped.add(reason),
        }
    }
    Ok(quality)
}

/// Bars are duplicates when every field matches, NaN matching NaN.
fn same_bar(a: &Bar, b: &Bar) -> bool {
    let eq = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
    a.ts == b.ts
        && eq(a.price, b.price)
        && eq(a.z_ofi, b.z_ofi)
        && eq(a.z_cvd, b.z_cvd)
        && eq(a.fusion, b.fusion)
        && eq(a.consistency, b.consistency)
}

/// Stable merge by time (files keep their path order at equal times), then
/// removal of exact duplicates, charged to the file of the dropped row.
fn merge<T>(
    mut rows: Vec<Tagged<T>>,
    qualities: &mut [FileQuality],
    same_time: impl Fn(&T, &T) -> bool,
    same_row: impl Fn(&T, &T) -> bool,
) -> Vec<Tagged<T>>
where
    T: HasTs,
{
    rows.sort_by_key(|t| t.row.ts());
    let files: Vec<usize> = rows.iter().map(|t| t.file).collect();
    validate::dedup_sorted(
        rows,
        |a, b| same_time(&a.row, &b.row),
        |a, b| same_row(&a.row, &b.row),
        |i| qualities[files[i]].dropped.add(DropReason::Duplicate),
    )
}

trait HasTs {
    fn ts(&self) -> TsNs;
}

impl HasTs for PendingTrade {
    fn ts(&self) -> TsNs {
        self.ts
    }
}

impl HasTs for Quote {
    fn ts(&self) -> TsNs {
        self.ts
    }
}

impl HasTs for Bar {
    fn ts(&self) -> TsNs {
        self.ts
    }
}

/// A validated trade whose side may still have to be inferred. The
/// exchange id, when the file has one, takes part in duplicate detection:
/// two prints with equal time, price, size and side but different ids are
/// two trades.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PendingTrade {
    ts: TsNs,
    px: f64,
    qty: f64,
    side: Option<Aggressor>,
    id: Option<i64>,
}

/// Fills in sides for files that have no side column: the quote rule when
/// the unit has quotes, the tick rule otherwise. Each such file is
/// classified on its own trades, in time order.
fn classify_sides(
    trades: Vec<Tagged<PendingTrade>>,
    quotes: &[Tagged<Quote>],
    encodings: &[(usize, Option<SideEncoding>)],
    qualities: &mut [FileQuality],
) -> Vec<Trade> {
    let mut sides: Vec<Option<Aggressor>> = trades.iter().map(|t| t.row.side).collect();
    let to_infer: Vec<usize> =
        encodings.iter().filter(|(_, enc)| enc.is_none()).map(|&(file, _)| file).collect();
    let quote_rows: Vec<Quote> =
        if to_infer.is_empty() { Vec::new() } else { quotes.iter().map(|q| q.row).collect() };
    for file in to_infer {
        let idx: Vec<usize> = (0..trades.len()).filter(|&i| trades[i].file == file).collect();
        let ts: Vec<TsNs> = idx.iter().map(|&i| trades[i].row.ts).collect();
        let px: Vec<f64> = idx.iter().map(|&i| trades[i].row.px).collect();
        let (inferred, unresolved, source) = if quote_rows.is_empty() {
            let (s, u) = side::tick_rule(&px);
            (s, u, SideSource::TickRule)
        } else {
            let (s, u) = side::quote_rule(&ts, &px, &quote_rows);
            (s, u, SideSource::QuoteRule)
        };
        for (k, &i) in idx.iter().enumerate() {
            sides[i] = Some(inferred[k]);
        }
        qualities[file].side_source = Some(source);
        qualities[file].side_unresolved = unresolved as u64;
    }
    trades
        .iter()
        .zip(sides)
        .map(|(t, side)| Trade {
            ts: t.row.ts,
            px: t.row.px,
            qty: t.row.qty,
            side: side.expect("every trade has a side after classification"),
        })
        .collect()
}

fn check_not_empty(
    unit: &PlannedUnit,
    trades: &[Trade],
    quotes: &[Tagged<Quote>],
    recorded: &[Tagged<Bar>],
    qualities: &[FileQuality],
) -> Result<(), DataError> {
    let has_trade_files = unit.files.iter().any(|f| f.file.role == Role::Trades);
    let empty_trades = has_trade_files && trades.is_empty();
    if (trades.is_empty() && quotes.is_empty() && recorded.is_empty()) || empty_trades {
        let detail = qualities
            .iter()
            .map(|q| {
                format!(
                    "{}: {} read, dropped {}",
                    q.path.display(),
                    q.rows_read,
                    q.dropped.summary()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(DataError::NoRowsLeft { what: format!("unit {}", unit.unit.label()), detail });
    }
    Ok(())
}

/// A quote prevails until the next one or until the gap limit runs out, so
/// trades overlap the quotes when they fall within that coverage.
fn check_overlap(
    unit: &PlannedUnit,
    trades: &[Trade],
    quotes: &[Tagged<Quote>],
    gap_ns: i64,
) -> Result<(), DataError> {
    let (Some(t0), Some(t1), Some(q0), Some(q1)) =
        (trades.first(), trades.last(), quotes.first(), quotes.last())
    else {
        return Ok(());
    };
    if t1.ts < q0.row.ts || q1.row.ts.0.saturating_add(gap_ns) < t0.ts.0 {
        let range = |a: TsNs, b: TsNs| format!("{} to {}", a.to_rfc3339(), b.to_rfc3339());
        return Err(DataError::NoOverlap {
            symbol: unit.unit.label(),
            trades: range(t0.ts, t1.ts),
            quotes: range(q0.row.ts, q1.row.ts),
        });
    }
    Ok(())
}

fn channels_of(unit: &PlannedUnit, trades: &[Trade], quotes: &[Tagged<Quote>]) -> Channels {
    let recorded: Vec<&PlannedFile> =
        unit.files.iter().filter(|f| f.file.role == Role::Features).collect();
    if !recorded.is_empty() {
        let all = |field: Field| recorded.iter().all(|f| f.columns.get(field).is_some());
        let (ofi, cvd) = (all(Field::ZOfi), all(Field::ZCvd));
        return Channels { ofi, cvd, fusion: all(Field::Fusion) || (ofi && cvd) };
    }
    let (ofi, cvd) = (!quotes.is_empty(), !trades.is_empty());
    Channels { ofi, cvd, fusion: ofi && cvd }
}

/// Time ranges of gap-free, single-day pieces of a sorted timeline.
struct Splitter {
    gap_ns: i64,
    tz: chrono_tz::Tz,
    day_end: i64,
    day: String,
    last: Option<i64>,
    gap_splits: usize,
}

impl Splitter {
    fn new(plan: &DataPlan) -> Self {
        Splitter {
            gap_ns: plan.gap_ns,
            tz: plan.tz,
            day_end: i64::MIN,
            day: String::new(),
            last: None,
            gap_splits: 0,
        }
    }

    /// Whether `ts` starts a new piece (new day or after a long gap).
    fn starts_new(&mut self, ts: i64) -> bool {
        let new_day = ts >= self.day_end;
        if new_day {
            self.enter_day(ts);
        }
        let gap = self.last.is_some_and(|last| ts - last > self.gap_ns);
        if gap && !new_day {
            self.gap_splits += 1;
        }
        self.last = Some(ts);
        new_day || gap
    }

    /// Records the local date of `ts` and the instant its day ends.
    fn enter_day(&mut self, ts: i64) {
        let local = self.tz.timestamp_nanos(ts);
        let date = local.date_naive();
        self.day = date.format("%Y-%m-%d").to_string();
        let next = date.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).expect("a next day exists");
        self.day_end = self
            .tz
            .from_local_datetime(&next)
            .earliest()
            .and_then(|t| t.timestamp_nanos_opt())
            .unwrap_or(i64::MAX);
    }
}

fn split_ticks(
    plan: &DataPlan,
    symbol: &str,
    channels: Channels,
    mut trades: Vec<Trade>,
    quotes: Vec<Tagged<Quote>>,
) -> (Vec<Segment>, usize) {
    let mut quotes: Vec<Quote> = quotes.into_iter().map(|q| q.row).collect();
    let mut splitter = Splitter::new(plan);
    let mut bounds: Vec<(i64, i64, String)> = Vec::new();
    for ts in merged_times(&trades, &quotes) {
        if splitter.starts_new(ts) {
            bounds.push((ts, ts, splitter.day.clone()));
        }
        bounds.last_mut().expect("a piece was started").1 = ts;
    }
    // Cut from the back so that each tick is moved once, not copied.
    let mut segments: Vec<Segment> = bounds
        .into_iter()
        .rev()
        .map(|(start, end, day)| {
            let t = trades.split_off(trades.partition_point(|t| t.ts.0 < start));
            let q = quotes.split_off(quotes.partition_point(|q| q.ts.0 < start));
            Segment {
                symbol: symbol.to_string(),
                day,
                start: TsNs(start),
                end: TsNs(end),
                channels,
                data: SegmentData::Ticks { trades: t, quotes: q },
            }
        })
        .collect();
    segments.reverse();
    (segments, splitter.gap_splits)
}

/// Every trade and quote time in order: a linear merge of the two sorted
/// streams.
fn merged_times<'a>(trades: &'a [Trade], quotes: &'a [Quote]) -> impl Iterator<Item = i64> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let take_trade = match (trades.get(i), quotes.get(j)) {
            (Some(t), Some(q)) => t.ts <= q.ts,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_trade {
            i += 1;
            Some(trades[i - 1].ts.0)
        } else {
            j += 1;
            Some(quotes[j - 1].ts.0)
        }
    })
}

fn split_recorded(
    plan: &DataPlan,
    symbol: &str,
    channels: Channels,
    bars: Vec<Tagged<Bar>>,
) -> (Vec<Segment>, usize) {
    let mut splitter = Splitter::new(plan);
    let mut segments: Vec<Segment> = Vec::new();
    for Tagged { row: bar, .. } in bars {
        if splitter.starts_new(bar.ts.0) {
            segments.push(Segment {
                symbol: symbol.to_string(),
                day: splitter.day.clone(),
                start: bar.ts,
                end: bar.ts,
                channels,
                data: SegmentData::Recorded { bars: Vec::new() },
            });
        }
        let segment = segments.last_mut().expect("a segment was started");
        segment.end = bar.ts;
        if let SegmentData::Recorded { bars } = &mut segment.data {
            bars.push(bar);
        }
    }
    (segments, splitter.gap_splits)
}
