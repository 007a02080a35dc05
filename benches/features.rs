//! Throughput of the feature stage over a synthetic tick stream.
//!
//! Generates a deterministic stream (a 64-bit LCG, no randomness crate) of
//! roughly 70 % quotes with five book levels and 30 % trades, then replays
//! it through `FeatureStream` with several bar settings. Throughput is
//! reported in ticks. The stream holds 10 million ticks unless the
//! environment variable `DIVTUNE_BENCH_TICKS` says otherwise (useful for a
//! quick smoke run).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use divtune::core::{Aggressor, Bar, Channels, Level, Quote, Trade, TsNs, MAX_LEVELS};
use divtune::features::{FeatureParams, FeatureStream};

const DEFAULT_TICKS: usize = 10_000_000;

/// Knuth's MMIX linear congruential generator; the high bits are used.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn tick_count() -> usize {
    std::env::var("DIVTUNE_BENCH_TICKS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TICKS)
}

/// A random-walk book with ~2 ms between ticks, starting 2024-01-02 UTC.
fn synthetic_ticks(n: usize) -> (Vec<Trade>, Vec<Quote>) {
    let mut rng = Lcg(0x5eed);
    let mut trades = Vec::with_capacity(n * 3 / 10 + 1);
    let mut quotes = Vec::with_capacity(n * 7 / 10 + 1);
    let (mut ts, mut mid_ticks) = (1_704_153_600 * TsNs::NS_PER_SEC, 40_000i64);
    for _ in 0..n {
        ts += (rng.next() % 4_000_000) as i64;
        if rng.next() % 10 < 3 {
            let side = if rng.next() % 2 == 0 { Aggressor::Buy } else { Aggressor::Sell };
            let qty = 1.0 + (rng.next() % 100) as f64;
            trades.push(Trade { ts: TsNs(ts), px: mid_ticks as f64 * 0.0025, qty, side });
        } else {
            mid_ticks += (rng.next() % 3) as i64 - 1;
            quotes.push(book(&mut rng, ts, mid_ticks));
        }
    }
    (trades, quotes)
}

fn book(rng: &mut Lcg, ts: i64, mid_ticks: i64) -> Quote {
    let mut bid = [Level::default(); MAX_LEVELS];
    let mut ask = [Level::default(); MAX_LEVELS];
    for i in 0..MAX_LEVELS {
        let offset = 1 + 2 * i as i64;
        bid[i] =
            Level { px: (mid_ticks - offset) as f64 * 0.0025, sz: (1 + rng.next() % 50) as f64 };
        ask[i] =
            Level { px: (mid_ticks + offset) as f64 * 0.0025, sz: (1 + rng.next() % 50) as f64 };
    }
    Quote { ts: TsNs(ts), bid, ask, depth: MAX_LEVELS }
}

/// Replays the whole stream and folds the bars into a checksum, so the work
/// cannot be optimised away.
fn replay(params: &FeatureParams, trades: &[Trade], quotes: &[Quote]) -> f64 {
    let mut stream = FeatureStream::new(params, Channels::ALL);
    let mut checksum = 0.0;
    let mut emit = |bar: &Bar| {
        if bar.fusion.is_finite() {
            checksum += bar.fusion + bar.activity;
        }
    };
    stream.push_merged(trades, quotes, &mut emit);
    stream.finish(&mut emit);
    checksum
}

fn bench_feature_stream(c: &mut Criterion) {
    let n = tick_count();
    let (trades, quotes) = synthetic_ticks(n);
    let cases = [
        ("1s_bars_1_level", FeatureParams::default()),
        (
            "100ms_bars_5_levels",
            FeatureParams { bar: "100ms".parse().unwrap(), ofi_levels: 5, ..Default::default() },
        ),
        ("per_trade_bars", FeatureParams { bar: "trade".parse().unwrap(), ..Default::default() }),
    ];

    let mut group = c.benchmark_group("feature_stream");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(15));
    for (name, params) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| replay(black_box(params), black_box(&trades), black_box(&quotes)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_feature_stream);
criterion_main!(benches);
