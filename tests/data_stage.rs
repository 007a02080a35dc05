//! The data stage on small fixture files: each validation rule by name,
//! timestamp units, column aliases, side inference, layouts and the fatal
//! errors that stop a run.

use divtune::core::{Aggressor, Quote, Trade, TsNs};
use divtune::data::validate::DropReason;
use divtune::data::{self, DataConfig, DataError, Segment, SegmentData, UnitData};
use polars::prelude::*;
use std::path::{Path, PathBuf};

const T0: i64 = 1_722_902_400_000_000_000; // 2024-08-06 00:00:00 UTC in ns
const SEC: i64 = 1_000_000_000;

fn write(path: &Path, columns: Vec<Column>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let height = columns[0].len();
    let mut df = DataFrame::new(height, columns).unwrap();
    let mut file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(&mut file).finish(&mut df).unwrap();
}

/// A named column from a vector or array literal.
macro_rules! col {
    ($name:expr, $values:expr) => {
        Column::new($name.into(), $values)
    };
}

fn trade(sec: i64, px: f64, qty: f64, side: Aggressor) -> Trade {
    Trade { ts: TsNs(T0 + sec * SEC), px, qty, side }
}

fn load_all(paths: &[PathBuf], config: &DataConfig) -> Result<Vec<UnitData>, DataError> {
    let plan = data::plan(paths, config)?;
    plan.units.iter().map(|u| data::load_unit(&plan, u)).collect()
}

fn load_one(path: &Path) -> UnitData {
    let mut units = load_all(&[path.to_path_buf()], &DataConfig::default()).unwrap();
    assert_eq!(units.len(), 1);
    units.remove(0)
}

fn trades_of(segment: &Segment) -> &[Trade] {
    match &segment.data {
        SegmentData::Ticks { trades, .. } => trades,
        SegmentData::Recorded { .. } => panic!("expected ticks"),
    }
}

fn dropped(unit: &UnitData, reason: DropReason) -> u64 {
    unit.quality.files.iter().map(|f| f.dropped.get(reason)).sum()
}

#[test]
fn non_finite_and_non_positive_prices_and_quantities_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    let ts: Vec<i64> = (0..6).map(|i| T0 + i * SEC).collect();
    write(
        &path,
        vec![
            col!("ts", ts),
            col!("price", [100.0, f64::NAN, -1.0, 100.0, 100.0, 101.0]),
            col!("qty", [1.0, 1.0, 1.0, f64::INFINITY, 0.0, 2.0]),
            col!("side", ["buy", "buy", "sell", "sell", "buy", "sell"]),
        ],
    );
    let unit = load_one(&path);
    assert_eq!(dropped(&unit, DropReason::PriceNotFinite), 1);
    assert_eq!(dropped(&unit, DropReason::PriceNotPositive), 1);
    assert_eq!(dropped(&unit, DropReason::QtyNotFinite), 1);
    assert_eq!(dropped(&unit, DropReason::QtyNotPositive), 1);
    let kept: Vec<f64> = unit.segments.iter().flat_map(trades_of).map(|t| t.px).collect();
    assert_eq!(kept, vec![100.0, 101.0]);
    assert_eq!(unit.quality.files[0].rows_kept, 2);
}

#[test]
fn crossed_and_locked_quotes_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let ts: Vec<i64> = (0..4).map(|i| T0 + i * SEC).collect();
    write(
        &dir.path().join("quotes.parquet"),
        vec![
            col!("ts", ts.clone()),
            col!("bid", [99.0, 100.0, 101.0, 99.5]),
            col!("bid_size", [1.0, 1.0, 1.0, 1.0]),
            col!("ask", [100.0, 100.0, 100.0, 100.5]),
            col!("ask_size", [1.0, 1.0, 1.0, 1.0]),
        ],
    );
    write(
        &dir.path().join("trades.parquet"),
        vec![
            col!("ts", ts),
            col!("price", [99.5; 4]),
            col!("qty", [1.0; 4]),
            col!("side", ["b"; 4]),
        ],
    );
    let unit = load_one(dir.path());
    assert_eq!(dropped(&unit, DropReason::QuoteLocked), 1);
    assert_eq!(dropped(&unit, DropReason::QuoteCrossed), 1);
    let SegmentData::Ticks { quotes, .. } = &unit.segments[0].data else { panic!() };
    assert_eq!(quotes.iter().map(|q| q.bid[0].px).collect::<Vec<_>>(), vec![99.0, 99.5]);
}

#[test]
fn timestamps_that_go_backwards_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    let ts = vec![T0, T0 + 2 * SEC, T0 + SEC, T0 + 2 * SEC, T0 + 3 * SEC];
    write(
        &path,
        vec![
            col!("ts", ts),
            col!("price", [1.0, 2.0, 3.0, 4.0, 5.0]),
            col!("qty", [1.0; 5]),
            col!("side", ["s"; 5]),
        ],
    );
    let unit = load_one(&path);
    assert_eq!(dropped(&unit, DropReason::TsBackwards), 1);
    let kept: Vec<f64> = trades_of(&unit.segments[0]).iter().map(|t| t.px).collect();
    assert_eq!(kept, vec![1.0, 2.0, 4.0, 5.0]);
}

#[test]
fn exact_duplicates_are_dropped_within_a_file_and_across_overlapping_files() {
    let dir = tempfile::tempdir().unwrap();
    let rows = |name: &str, secs: &[i64]| {
        write(
            &dir.path().join(name),
            vec![
                col!("ts", secs.iter().map(|s| T0 + s * SEC).collect::<Vec<_>>()),
                col!("price", secs.iter().map(|&s| 100.0 + s as f64).collect::<Vec<_>>()),
                col!("qty", vec![1.0; secs.len()]),
                col!("side", vec!["buy"; secs.len()]),
            ],
        )
    };
    rows("a-trades.parquet", &[0, 1, 1, 2]);
    rows("b-trades.parquet", &[2, 3]);
    let config =
        DataConfig { symbol_pattern: Some("{symbol}-trades".into()), ..Default::default() };
    let units = load_all(&[dir.path().to_path_buf()], &config).unwrap();
    assert_eq!(units.len(), 2, "a and b are different symbols by name");

    // The same two files under one symbol overlap at second 2.
    let config = DataConfig { symbol_pattern: Some("*-{symbol}".into()), ..Default::default() };
    let units = load_all(&[dir.path().to_path_buf()], &config).unwrap();
    assert_eq!(units.len(), 1);
    let unit = &units[0];
    assert_eq!(unit.quality.files[0].dropped.get(DropReason::Duplicate), 1, "within a");
    assert_eq!(unit.quality.files[1].dropped.get(DropReason::Duplicate), 1, "b repeats a");
    let secs: Vec<i64> = trades_of(&unit.segments[0]).iter().map(|t| (t.ts.0 - T0) / SEC).collect();
    assert_eq!(secs, vec![0, 1, 2, 3]);
}

#[test]
fn a_gap_longer_than_the_limit_splits_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    let secs = [0, 10, 20, 200, 210];
    write(
        &path,
        vec![
            col!("ts", secs.iter().map(|s| T0 + s * SEC).collect::<Vec<_>>()),
            col!("price", [1.0; 5]),
            col!("qty", [1.0; 5]),
            col!("side", ["buy"; 5]),
        ],
    );
    let unit = load_one(&path);
    assert_eq!(unit.segments.len(), 2);
    assert_eq!(unit.quality.gap_splits, 1);
    assert_eq!(trades_of(&unit.segments[1]).len(), 2);

    let config = DataConfig { max_gap: "5m".into(), ..Default::default() };
    let units = load_all(&[path], &config).unwrap();
    assert_eq!(units[0].segments.len(), 1, "a longer limit bridges the gap");
}

#[test]
fn days_split_at_midnight_of_the_configured_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    // 15:59:50 and 16:00:10 UTC straddle midnight in Asia/Shanghai (UTC+8).
    let secs = [15 * 3600 + 3590, 15 * 3600 + 3610];
    write(
        &path,
        vec![
            col!("ts", secs.iter().map(|s| T0 + s * SEC).collect::<Vec<_>>()),
            col!("price", [1.0; 2]),
            col!("qty", [1.0; 2]),
            col!("side", ["buy"; 2]),
        ],
    );
    assert_eq!(load_one(&path).segments.len(), 1, "one UTC day");
    let config = DataConfig { day_tz: "Asia/Shanghai".into(), ..Default::default() };
    let units = load_all(&[path], &config).unwrap();
    let days: Vec<&str> = units[0].segments.iter().map(|s| s.day.as_str()).collect();
    assert_eq!(days, vec!["2024-08-06", "2024-08-07"]);
}

#[test]
fn timestamp_units_are_detected_from_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let secs = [0i64, 1, 2];
    let cases: Vec<(&str, Column)> = vec![
        ("s", col!("time", secs.iter().map(|s| T0 / SEC + s).collect::<Vec<_>>())),
        ("ms", col!("time", secs.iter().map(|s| (T0 + s * SEC) / 1_000_000).collect::<Vec<_>>())),
        ("us", col!("time", secs.iter().map(|s| (T0 + s * SEC) / 1_000).collect::<Vec<_>>())),
        ("ns", col!("time", secs.iter().map(|s| T0 + s * SEC).collect::<Vec<_>>())),
        (
            "float",
            col!("time", secs.iter().map(|s| (T0 / SEC + s) as f64 + 0.25).collect::<Vec<_>>()),
        ),
    ];
    for (name, ts) in cases {
        let path = dir.path().join(name).join("trades.parquet");
        write(
            &path,
            vec![ts, col!("px", [1.0; 3]), col!("size", [1.0; 3]), col!("side", ["buy"; 3])],
        );
        let unit = load_one(&path);
        let first = trades_of(&unit.segments[0])[0].ts.0;
        let expected = if name == "float" { T0 + SEC / 4 } else { T0 };
        assert_eq!(first, expected, "unit {name}");
    }
}

#[test]
fn parquet_timestamp_types_carry_their_unit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    let ms: Vec<i64> = (0..3).map(|i| (T0 + i * SEC) / 1_000_000).collect();
    let ts = col!("timestamp", ms)
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)))
        .unwrap();
    write(
        &path,
        vec![ts, col!("price", [1.0; 3]), col!("quantity", [1.0; 3]), col!("side", ["sell"; 3])],
    );
    let unit = load_one(&path);
    assert_eq!(trades_of(&unit.segments[0])[2].ts, TsNs(T0 + 2 * SEC));
    assert_eq!(unit.quality.files[0].ts_unit, "ms (parquet type)");
}

#[test]
fn a_forced_unit_overrides_detection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    write(
        &path,
        vec![
            col!("ts", [1_000i64, 2_000]),
            col!("price", [1.0; 2]),
            col!("qty", [1.0; 2]),
            col!("side", ["buy"; 2]),
        ],
    );
    let config = DataConfig { ts_unit: Some(data::timestamps::TsUnit::Ms), ..Default::default() };
    let units = load_all(&[path], &config).unwrap();
    assert_eq!(trades_of(&units[0].segments[0])[1].ts, TsNs(2_000_000_000));
}

#[test]
fn config_column_mapping_reads_a_vendor_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    write(
        &path,
        vec![
            col!("exch_time", [T0, T0 + SEC]),
            col!("last", [5.0, 6.0]),
            col!("vol", [1.0, 2.0]),
            col!("aggr", ["S", "B"]),
        ],
    );
    let mut config = DataConfig::default();
    for (k, v) in [("ts", "exch_time"), ("price", "last"), ("qty", "vol"), ("side", "aggr")] {
        config.columns.insert(k.into(), v.into());
    }
    let units = load_all(&[path], &config).unwrap();
    let trades = trades_of(&units[0].segments[0]);
    assert_eq!(trades[0], trade(0, 5.0, 1.0, Aggressor::Sell));
    assert_eq!(trades[1], trade(1, 6.0, 2.0, Aggressor::Buy));
}

#[test]
fn without_a_side_column_the_tick_rule_is_used_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    write(
        &path,
        vec![
            col!("ts", [T0, T0 + SEC, T0 + 2 * SEC]),
            col!("price", [10.0, 11.0, 10.5]),
            col!("qty", [1.0; 3]),
        ],
    );
    let unit = load_one(&path);
    let sides: Vec<Aggressor> = trades_of(&unit.segments[0]).iter().map(|t| t.side).collect();
    assert_eq!(sides, vec![Aggressor::Buy, Aggressor::Buy, Aggressor::Sell]);
    let source = unit.quality.files[0].side_source.as_ref().unwrap().describe();
    assert_eq!(source, "inferred: tick rule");
    assert_eq!(unit.quality.files[0].side_unresolved, 1);
}

#[test]
fn without_a_side_column_but_with_quotes_the_quote_rule_is_used() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("quotes.parquet"),
        vec![
            col!("ts", [T0]),
            col!("bid_px", [99.0]),
            col!("bid_sz", [1.0]),
            col!("ask_px", [101.0]),
            col!("ask_sz", [1.0]),
        ],
    );
    write(
        &dir.path().join("trades.parquet"),
        vec![
            col!("ts", [T0 + SEC, T0 + 2 * SEC]),
            col!("price", [99.2, 100.8]),
            col!("qty", [1.0; 2]),
        ],
    );
    let unit = load_one(dir.path());
    let sides: Vec<Aggressor> = trades_of(&unit.segments[0]).iter().map(|t| t.side).collect();
    assert_eq!(sides, vec![Aggressor::Sell, Aggressor::Buy]);
    assert_eq!(
        unit.quality.files[1].side_source.as_ref().unwrap().describe(),
        "inferred: quote rule"
    );
    assert_eq!(unit.quality.channels, "ofi+cvd+fusion");
}

#[test]
fn deeper_book_levels_are_read_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let quotes = [Quote { depth: 2, ..Quote::top(TsNs(T0), 99.0, 1.0, 101.0, 2.0) }];
    let mut q = quotes[0];
    q.bid[1] = divtune::core::Level { px: 98.0, sz: 3.0 };
    q.ask[1] = divtune::core::Level { px: 102.0, sz: 4.0 };
    data::write::write_quotes(&dir.path().join("quotes.parquet"), &[q]).unwrap();
    data::write::write_trades(
        &dir.path().join("trades.parquet"),
        &[trade(0, 100.0, 1.0, Aggressor::Buy)],
    )
    .unwrap();
    let unit = load_one(dir.path());
    let SegmentData::Ticks { quotes, .. } = &unit.segments[0].data else { panic!() };
    assert_eq!(quotes[0], q);
}

#[test]
fn hive_partitions_give_symbol_and_one_unit_per_day() {
    let dir = tempfile::tempdir().unwrap();
    for (sym, date, day) in
        [("BTCUSDT", "2024-08-06", 0), ("BTCUSDT", "2024-08-07", 1), ("ETHUSDT", "2024-08-06", 0)]
    {
        let path = dir.path().join(format!("symbol={sym}/date={date}/trades.parquet"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let trades = [trade(day * 86_400 + 5, 1.0, 1.0, Aggressor::Buy)];
        data::write::write_trades(&path, &trades).unwrap();
    }
    let plan = data::plan(&[dir.path().to_path_buf()], &DataConfig::default()).unwrap();
    let labels: Vec<String> = plan.units.iter().map(|u| u.unit.label()).collect();
    assert_eq!(labels, vec!["BTCUSDT/2024-08-06", "BTCUSDT/2024-08-07", "ETHUSDT/2024-08-06"]);
}

// Fatal problems: each names the file and what is wrong.

fn fatal(path: &Path) -> String {
    match load_all(&[path.to_path_buf()], &DataConfig::default()) {
        Ok(_) => panic!("{} loaded but should not have", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_missing_required_column_is_fatal_and_names_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    write(&path, vec![col!("ts", [T0]), col!("price", [1.0])]);
    let msg = fatal(&path);
    assert!(
        msg.contains("trades.parquet") && msg.contains("`qty`") && msg.contains("data.columns.qty"),
        "{msg}"
    );
}

#[test]
fn a_column_of_the_wrong_type_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    write(
        &path,
        vec![col!("ts", [T0]), col!("price", ["1.0"]), col!("qty", [1.0]), col!("side", ["buy"])],
    );
    let msg = fatal(&path);
    assert!(msg.contains("column `price`") && msg.contains("needs numbers"), "{msg}");
}

#[test]
fn a_truncated_file_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    data::write::write_trades(&path, &[trade(0, 1.0, 1.0, Aggressor::Buy)]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let msg = fatal(&path);
    assert!(msg.contains("trades.parquet") && msg.contains("cannot read it as Parquet"), "{msg}");
}

#[test]
fn a_file_with_no_rows_left_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    write(
        &path,
        vec![col!("ts", [T0]), col!("price", [-1.0]), col!("qty", [1.0]), col!("side", ["buy"])],
    );
    let msg = fatal(&path);
    assert!(msg.contains("no rows left") && msg.contains("price_not_positive=1"), "{msg}");
}

#[test]
fn trades_and_quotes_that_never_overlap_are_fatal() {
    let dir = tempfile::tempdir().unwrap();
    data::write::write_trades(
        &dir.path().join("trades.parquet"),
        &[trade(0, 100.0, 1.0, Aggressor::Buy)],
    )
    .unwrap();
    let quote = Quote::top(TsNs(T0 + 3600 * SEC), 99.0, 1.0, 101.0, 1.0);
    data::write::write_quotes(&dir.path().join("quotes.parquet"), &[quote]).unwrap();
    let msg = fatal(dir.path());
    assert!(msg.contains("never overlap"), "{msg}");
}

#[test]
fn an_unknown_side_value_is_fatal_with_row_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.parquet");
    write(
        &path,
        vec![
            col!("ts", [T0, T0]),
            col!("price", [1.0; 2]),
            col!("qty", [1.0; 2]),
            col!("side", ["buy", "hold"]),
        ],
    );
    let msg = fatal(&path);
    assert!(msg.contains("row 1") && msg.contains("\"hold\""), "{msg}");
}

#[test]
fn a_directory_without_parquet_files_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let msg = fatal(dir.path());
    assert!(msg.contains("no .parquet files"), "{msg}");
}

#[test]
fn feature_recordings_are_replayed_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("features.parquet");
    write(
        &path,
        vec![
            col!("ts", [T0, T0 + SEC]),
            col!("price", [10.0, 10.5]),
            col!("z_ofi", [1.0, -2.0]),
            col!("z_cvd", [1.0, 2.0]),
        ],
    );
    let unit = load_one(&path);
    let SegmentData::Recorded { bars } = &unit.segments[0].data else { panic!("expected bars") };
    assert_eq!(bars.len(), 2);
    assert_eq!((bars[1].z_ofi, bars[1].z_cvd), (-2.0, 2.0));
    assert!(bars[0].fusion.is_nan(), "the data stage keeps what the recording has");
    assert_eq!(unit.quality.channels, "ofi+cvd+fusion");

    // The feature stage derives the missing fusion with the configured weights.
    let plan = data::plan(&[path], &DataConfig::default()).unwrap();
    let weights = divtune::features::FeatureParams { w_ofi: 3.0, w_cvd: 1.0, ..Default::default() };
    let prepared = divtune::series::prepare(&plan, &weights).unwrap();
    let bar = prepared.series[0].bars[1];
    assert!((bar.fusion - (0.75 * -2.0 + 0.25 * 2.0)).abs() < 1e-12, "{}", bar.fusion);
}
