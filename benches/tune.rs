//! The grid search's cost against one parameter set on the same data.
//!
//! Points that share `swing_l` share one pivot pass, so the default
//! 27-point grid (3 swing_l x 3 z_hi x 3 z_mid) should cost far less than
//! 27 replays. `replay/one_point` and `replay/grid_27` time the replay and
//! labelling of every event; `tune/*` time the whole stage including cell
//! statistics and selection. Throughput is in bars.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use divtune::config::Config;
use divtune::core::Channels;
use divtune::features::{self, FeatureParams};
use divtune::series::{BarSeries, Prepared};
use divtune::synth::{self, SynthParams};
use divtune::tune::grid::GridValues;
use divtune::tune::partial::Partial;
use divtune::tune::{self, TuneInputs};

/// The shipped sample's shape: 3 symbols x 5 days of 4-hour sessions.
fn market() -> Prepared {
    let params = SynthParams::default();
    let mut series = Vec::new();
    for symbol in ["AAA", "BBB", "CCC"] {
        for day in 0..5 {
            let d = synth::generate_day(&params, symbol, day, 7);
            let bars = features::bars_from_ticks(
                &d.trades,
                &d.quotes,
                &FeatureParams::default(),
                Channels::ALL,
            );
            series.push(BarSeries {
                symbol: symbol.into(),
                day: day.to_string(),
                channels: Channels::ALL,
                rows: d.trades.len() + d.quotes.len(),
                trades: d.trades.len(),
                bars,
            });
        }
    }
    Prepared { series, quality: Vec::new() }
}

fn one_point(config: &Config) -> Config {
    let mut single = config.clone();
    for (name, values) in single.tune.grid.params.iter_mut() {
        *values = GridValues::List(vec![config.detector.get(name).expect("a detector parameter")]);
    }
    single
}

fn bench(c: &mut Criterion) {
    let prepared = market();
    let bars = prepared.total_bars() as u64;
    let full = Config::default();
    let single = one_point(&full);

    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(bars));
    for (name, config) in [("one_point", &single), ("grid_27", &full)] {
        let grid = config.tune.grid.expand(&config.detector).expect("valid grid");
        // The per-series half alone (pivots, filters and the ledger),
        // without labels or statistics.
        group.bench_function(name, |b| {
            b.iter(|| {
                prepared
                    .series
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let one = std::slice::from_ref(s);
                        let part = Partial::of_unit(i as u32, one, &grid.points, &config.buckets);
                        part.event_count()
                    })
                    .sum::<usize>()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("tune");
    group.throughput(Throughput::Elements(bars));
    group.sample_size(10);
    for (name, config) in [("one_point", &single), ("grid_27", &full)] {
        let inputs = TuneInputs {
            base: &config.detector,
            tune: &config.tune,
            buckets: &config.buckets,
            labels: &config.labels,
        };
        group.bench_function(name, |b| b.iter(|| tune::run(&prepared, &inputs).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
