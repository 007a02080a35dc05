//! The grid search on synthetic markets: it finds the planted effect out of
//! sample, it does not find one where none was planted, and every gridded
//! parameter matters.

use divtune::config::Config;
use divtune::core::Channels;
use divtune::features;
use divtune::series::{BarSeries, Prepared};
use divtune::synth::{self, SynthParams};
use divtune::tune::grid::GridValues;
use divtune::tune::{self, TuneInputs, TuneOutcome};

/// A market built in memory: 3 symbols x 5 days of 4-hour sessions.
fn market(seed: u64, null: bool) -> Prepared {
    let params = SynthParams { null, ..SynthParams::default() };
    let feature_params = features::FeatureParams::default();
    let mut series = Vec::new();
    for symbol in ["AAA", "BBB", "CCC"] {
        for day in 0..5 {
            let generated = synth::generate_day(&params, symbol, day, seed);
            let bars = features::bars_from_ticks(
                &generated.trades,
                &generated.quotes,
                &feature_params,
                Channels::ALL,
            );
            series.push(BarSeries {
                symbol: symbol.to_string(),
                day: synth::session_date(&params, day).unwrap().to_string(),
                channels: Channels::ALL,
                rows: generated.trades.len() + generated.quotes.len(),
                trades: generated.trades.len(),
                bars,
            });
        }
    }
    Prepared { series, quality: Vec::new() }
}

fn tune_with(prepared: &Prepared, config: &Config) -> TuneOutcome {
    let inputs = TuneInputs {
        base: &config.detector,
        tune: &config.tune,
        buckets: &config.buckets,
        labels: &config.labels,
    };
    tune::run(prepared, &inputs).unwrap()
}

/// The gate's accuracy bar: every horizon at least 55 % with corrected p < 0.05.
fn clears_the_bar(figures: &[tune::HorizonFigures]) -> bool {
    figures.iter().all(|f| f.metrics.accuracy >= 0.55 && f.p_corrected < 0.05)
}

#[test]
fn the_planted_effect_is_found_out_of_sample() {
    let outcome = tune_with(&market(7, false), &Config::default());
    for f in &outcome.global.test {
        assert!(f.metrics.accuracy >= 0.55, "test acc@{} = {:.3}", f.horizon, f.metrics.accuracy);
        assert!(f.p_corrected < 0.05, "test p@{} = {:.3e}", f.horizon, f.p_corrected);
        assert!(
            f.metrics.accuracy > f.metrics.base_rate,
            "accuracy beats the market's own base rate"
        );
    }
}

#[test]
fn on_null_markets_a_bucket_clears_the_bar_in_at_most_one_seed_of_twenty() {
    let config = Config::default();
    let mut passing_seeds = Vec::new();
    for seed in 100..120 {
        let outcome = tune_with(&market(seed, true), &config);
        let global = clears_the_bar(&outcome.global.test);
        let buckets: Vec<&str> = outcome
            .buckets
            .iter()
            .filter(|b| clears_the_bar(&b.test))
            .map(|b| b.bucket.as_str())
            .collect();
        if global || !buckets.is_empty() {
            passing_seeds.push((seed, global, buckets.join(" ")));
        }
    }
    assert!(passing_seeds.len() <= 1, "null seeds that passed: {passing_seeds:?}");
}

#[test]
fn parameters_are_chosen_on_training_events_only() {
    // Swapping the test half of the market for a null market must not
    // change which point is chosen: selection never sees test events.
    let planted = market(7, false);
    let config = Config::default();
    let a = tune_with(&planted, &config);
    let mut mixed = planted.clone();
    let test_start = a.folds[0].test_start;
    let null = market(8, true);
    for (s, n) in mixed.series.iter_mut().zip(&null.series) {
        if s.bars.first().is_some_and(|b| b.ts >= test_start) {
            s.bars = n.bars.clone();
        }
    }
    let b = tune_with(&mixed, &config);
    assert_eq!(a.global.fold_choices, b.global.fold_choices);
    assert_ne!(a.global.test[0].metrics, b.global.test[0].metrics);
}

#[test]
fn every_grid_parameter_changes_the_output() {
    let prepared = market(7, false);
    let base = Config::default();
    let single = |name: &str, value: f64| {
        let mut config = base.clone();
        for (k, v) in config.tune.grid.params.iter_mut() {
            let current = base.detector.get(k).unwrap();
            *v = GridValues::List(vec![if k == name { value } else { current }]);
        }
        tune_with(&prepared, &config)
    };
    for (name, a, b) in [("swing_l", 8.0, 21.0), ("z_hi", 1.2, 2.0), ("z_mid", 0.4, 0.8)] {
        let (x, y) = (single(name, a), single(name, b));
        // One point each: the chosen events are all of that point's events.
        assert_ne!(x.chosen_events, y.chosen_events, "{name} {a} vs {b} gave the same events");
        assert_ne!(x.global.test[0].metrics, y.global.test[0].metrics, "{name}");
    }
}

#[test]
fn the_grid_is_searched_in_full_and_reported() {
    let outcome = tune_with(&market(7, false), &Config::default());
    assert_eq!(outcome.grid.points.len(), 27);
    let points: std::collections::BTreeSet<usize> = outcome.rows.iter().map(|r| r.point).collect();
    assert_eq!(points.len(), 27, "every point has summary rows");
    assert!(outcome.buckets.iter().all(|b| b.point.is_some() || b.fallback.is_some()));
}

#[test]
fn the_split_settings_change_what_is_trained_and_tested_on() {
    let prepared = market(7, false);
    let base = Config::default();
    let one = tune_with(&prepared, &base);
    let mut two_folds = base.clone();
    two_folds.tune.split.folds = 2;
    let two = tune_with(&prepared, &two_folds);
    assert_eq!((one.folds.len(), two.folds.len()), (1, 2));
    assert_eq!(two.global.fold_choices.len(), 2, "one choice per fold");
    let mut shorter_test = base.clone();
    shorter_test.tune.split.test_fraction = 0.2;
    let short = tune_with(&prepared, &shorter_test);
    assert!(short.folds[0].test_start > one.folds[0].test_start);
    assert!(short.global.test[0].metrics.labelled < one.global.test[0].metrics.labelled);
}

#[test]
fn every_grid_event_rebuilt_from_its_ledger_is_the_streaming_detectors_event() {
    // The per-unit half keeps events without their times and prices and
    // reads them back from the series ledger; this must give exactly what
    // the streaming detector emits, for every grid point.
    let prepared = market(11, false);
    let config = Config::default();
    let grid = config.tune.grid.expand(&config.detector).unwrap();
    let series = &prepared.series[..2];
    let partial = tune::partial::Partial::of_unit(0, series, &grid.points, &config.buckets);
    let mut compared = 0;
    for (bars, ledger) in series.iter().zip(&partial.series) {
        for p in &grid.points {
            let streamed =
                divtune::detector::replay(&bars.bars, p.params.clone(), bars.channels).unwrap();
            let rebuilt: Vec<_> = ledger
                .events
                .iter()
                .filter(|e| e.point as usize == p.id)
                .map(|e| e.event(ledger))
                .collect();
            assert_eq!(rebuilt, streamed, "point {}", p.id);
            compared += streamed.len();
        }
    }
    assert!(compared > 1000, "only {compared} events compared");
}
