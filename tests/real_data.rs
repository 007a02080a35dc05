//! The real market samples (see ../shared/data/real/README.md): a
//! trades-only Binance aggregated-trades capture and a trades+quotes
//! Binance spot sample with other column names. The directory comes from
//! DIVTUNE_REAL_DATA (set by .ci/run); without it each test says it was
//! skipped.

use divtune::config::Config;
use divtune::data::{self, DataConfig, SegmentData};
use divtune::pipeline;
use std::process::Command;

mod common;
use common::real_data;

fn aggtrades_config() -> DataConfig {
    DataConfig { symbol_pattern: Some("*_cvd_{symbol}_*".into()), ..Default::default() }
}

#[test]
fn aggregated_trades_load_as_cvd_only_with_exchange_time_and_is_buy_sides() {
    let Some(dir) = real_data("binance_aggtrades") else { return };
    let plan = data::plan(&[dir], &aggtrades_config()).unwrap();
    let symbols: Vec<String> = plan.units.iter().map(|u| u.unit.symbol.clone()).collect();
    assert_eq!(symbols, vec!["btcusdt", "ethusdt"]);
    let mut rows = 0;
    for unit in &plan.units {
        let loaded = data::load_unit(&plan, unit).unwrap();
        assert_eq!(loaded.quality.channels, "cvd", "trades only: CVD, no OFI");
        for f in &loaded.quality.files {
            assert_eq!(f.ts_column, "event_time_ms", "exchange time, not receive time");
            assert_eq!(f.ts_unit, "ms");
            rows += f.rows_read;
        }
        let segment = &loaded.segments[0];
        let SegmentData::Ticks { trades, quotes } = &segment.data else { panic!("ticks expected") };
        assert!(quotes.is_empty() && !trades.is_empty());
    }
    assert_eq!(rows, 68_776, "the README's row count");
}

#[test]
fn the_spot_sample_reads_string_sides_and_quote_columns_under_other_names() {
    let Some(dir) = real_data("binance_spot_btcusdt_2021-01-08") else { return };
    let plan = data::plan(&[dir], &DataConfig::default()).unwrap();
    assert_eq!(plan.units.len(), 1, "trades and quotes pair up by the name prefix");
    let loaded = data::load_unit(&plan, &plan.units[0]).unwrap();
    assert_eq!(loaded.quality.channels, "ofi+cvd+fusion");
    let trades_file = loaded.quality.files.iter().find(|f| f.role == "trades").unwrap();
    assert!(trades_file.ts_unit.ends_with("(parquet type)"), "{}", trades_file.ts_unit);
    let SegmentData::Ticks { trades, .. } = &loaded.segments[0].data else {
        panic!("ticks expected")
    };
    assert_eq!(trades[0].ts.to_rfc3339(), "2021-01-08T00:00:00.278Z");
    assert_eq!(trades_file.rows_read, 2001);
    let source = trades_file.side_source.as_ref().unwrap().describe();
    assert_eq!(source, "column buyer_maker (is_buyer_maker)");
}

#[test]
fn replay_and_tune_run_on_both_real_sets_and_report_what_they_find() {
    let (Some(agg), Some(spot)) =
        (real_data("binance_aggtrades"), real_data("binance_spot_btcusdt_2021-01-08"))
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    for (data, pattern) in [(agg, Some("*_cvd_{symbol}_*")), (spot, None)] {
        let mut args =
            vec!["tune", "--data", data.to_str().unwrap(), "--out", out.path().to_str().unwrap()];
        if let Some(p) = pattern {
            args.extend(["--symbol-pattern", p]);
        }
        let run = Command::new(env!("CARGO_BIN_EXE_divtune")).args(&args).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let stdout = String::from_utf8_lossy(&run.stdout);
        eprintln!("{}: {stdout}", data.display());
        assert!(stdout.contains("test acc@10") && stdout.contains("test acc@20"));
    }
}

#[test]
fn replaying_real_data_is_deterministic() {
    let Some(dir) = real_data("binance_aggtrades") else { return };
    let config = Config { data: aggtrades_config(), ..Default::default() };
    let (_, prepared) = pipeline::load(&config, &[dir]).unwrap();
    let untagged = |_: usize, _: usize| (String::new(), String::new(), String::new());
    let run = || {
        divtune::events::collect(&prepared.series, &config.detector, &config.labels, &untagged)
            .unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
}
