//! Behaviour tests of `calibrate` as a whole: hand-worked small cases,
//! planted and null relations on seeded synthetic events, every degenerate
//! input, determinism, and the JSON artifacts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::stats::{Breakpoint, SpearmanStatus};

fn meta() -> CalibrationMeta {
    CalibrationMeta {
        run_id: "run-test".to_string(),
        created_at: "2024-08-05T00:00:00.000Z".to_string(),
        source_period: "test".to_string(),
        data_start: "2024-01-01".to_string(),
        data_end: "2024-02-01".to_string(),
        params: serde_json::json!({"swing_l": 13, "z_hi": 1.6}),
        n_events_total: 6,
    }
}

fn event(bar: u32, score: f64, ret: f64, hit: bool) -> CalibrationEvent {
    let outcome = |horizon| HorizonOutcome { horizon, ret: Some(ret), hit: Some(hit) };
    CalibrationEvent { series: 0, bar, score, horizons: vec![outcome(10), outcome(20)] }
}

/// Scores 10, 20, 20, 40, 50, 60 (a tie at 20) with returns -0.02, 0.01,
/// -0.01, 0.03, 0.02, 0.04 (one local decrease at 50) and hits 0 1 0 1 1 1.
fn six_events() -> Vec<CalibrationEvent> {
    let rows = [
        (10.0, -0.02, false),
        (20.0, 0.01, true),
        (20.0, -0.01, false),
        (40.0, 0.03, true),
        (50.0, 0.02, true),
        (60.0, 0.04, true),
    ];
    rows.iter().enumerate().map(|(i, &(s, r, h))| event(i as u32, s, r, h)).collect()
}

fn small_config() -> CalibrationConfig {
    CalibrationConfig { bins: 2, min_events: 3, bootstrap_resamples: 200, ..Default::default() }
}

fn run(events: &[CalibrationEvent], config: &CalibrationConfig) -> MonotonicityReport {
    calibrate(events, &[10, 20], config, meta()).unwrap()
}

fn bp(x: f64, y: f64) -> Breakpoint {
    Breakpoint { x, y }
}

fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
}

#[test]
fn six_events_give_hand_worked_bins_ranks_and_maps() {
    let report = run(&six_events(), &small_config());
    let h = &report.horizons[0].summary;

    // Median edge 30: bins {10, 20, 20} and {40, 50, 60}.
    assert_eq!(h.bins.iter().map(|b| b.n).collect::<Vec<_>>(), vec![3, 3]);
    assert_eq!((h.bins[0].score_min, h.bins[0].score_max), (10.0, 20.0));
    assert_close(h.bins[0].score_mean, 50.0 / 3.0);
    assert_close(h.bins[0].hit_rate.point, 1.0 / 3.0);
    assert_close(h.bins[0].mean_return.mean, -0.02 / 3.0);
    assert_close(h.bins[1].mean_return.mean, 0.03);
    assert_eq!(h.bins[1].hit_rate.point, 1.0);

    // Score ranks 1, 2.5, 2.5, 4, 5, 6; return ranks 1, 3, 2, 5, 4, 6:
    // sum dx dy = 16, sum dx^2 = 17, sum dy^2 = 17.5. Hit ranks 1.5 / 4.5:
    // sum dx dy = 10.5, sum dy^2 = 12.
    assert_close(h.spearman_return.rho, 16.0 / (17.0f64 * 17.5).sqrt());
    assert_close(h.spearman_hit.rho, 10.5 / (17.0f64 * 12.0).sqrt());

    // PAV: the tie at 20 pools to 0 (returns) and 0.5 (hits); 0.03 > 0.02
    // pools 40 and 50 to 0.025; equal hit blocks stay separate.
    let want_ret =
        [bp(10.0, -0.02), bp(20.0, 0.0), bp(40.0, 0.025), bp(50.0, 0.025), bp(60.0, 0.04)];
    for (got, want) in h.return_map.iter().zip(want_ret) {
        assert_eq!(got.x, want.x);
        assert_close(got.y, want.y);
    }
    assert_eq!(h.return_map.len(), 5);
    let want_hit = vec![bp(10.0, 0.0), bp(20.0, 0.5), bp(40.0, 1.0), bp(50.0, 1.0), bp(60.0, 1.0)];
    assert_eq!(h.hit_map, want_hit);
    assert_eq!(h.hit_map_rise, 1.0);

    // rho = 0.9276 on 6 pairs: one-sided p well below 0.05.
    assert!(h.spearman_return.p_greater < 0.01);
    assert_eq!(h.verdict, Verdict::Monotone);
    assert_eq!(report.verdict.carried_by, vec![10, 20]);
}

#[test]
fn six_events_score_brier_in_sample_below_raw_and_cross_fit_above() {
    let report = run(&six_events(), &small_config());
    let p = &report.horizons[0].summary.probability;
    assert_close(p.raw.brier, 1.46 / 6.0);
    assert_close(p.isotonic_in_sample.brier, 0.5 / 6.0);
    assert_close(p.isotonic_cross_fit.brier, (2.0 + 1.0 / 36.0) / 6.0);
    assert_close(p.raw.ece, 2.0 / 6.0);
    assert_eq!(report.horizons[0].details.cross_fit.k, 5);
}

#[test]
fn decreasing_relation_pools_to_one_block_and_is_not_monotone() {
    let rows = [(10.0, 0.05, true), (30.0, 0.02, true), (30.0, 0.03, true), (60.0, -0.01, false)];
    let events: Vec<_> =
        rows.iter().enumerate().map(|(i, &(s, r, h))| event(i as u32, s, r, h)).collect();
    let h = run(&events, &small_config()).horizons.remove(0).summary;
    // Score ranks 1, 2.5, 2.5, 4, return ranks 4, 2, 3, 1: rho = -4.5 /
    // sqrt(4.5 * 5). PAV pools the tie (0.025), then everything (0.0225).
    assert_eq!(h.return_map.len(), 2);
    assert_eq!((h.return_map[0].x, h.return_map[1].x), (10.0, 60.0));
    assert_close(h.return_map[0].y, 0.0225);
    assert_close(h.return_map[1].y, 0.0225);
    assert_close(h.hit_map[0].y, 0.75);
    assert_eq!(h.hit_map_rise, 0.0);
    assert_close(h.spearman_return.rho, -4.5 / 22.5f64.sqrt());
    assert_eq!(h.verdict, Verdict::NotMonotone);
}

/// n events in 6 series of consecutive bars; scores are whole numbers
/// 0-100 (so ties occur); return = slope * (score - 50) / 50 + N(0, 0.01).
fn synthetic(seed: u64, n: usize, slope: f64) -> Vec<CalibrationEvent> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let score = rng.random_range(0..=100) as f64;
            // Box-Muller from two uniforms in (0, 1].
            let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
            let noise = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            let ret = slope * (score - 50.0) / 50.0 + 0.01 * noise;
            let mut e = event((i % 60) as u32 * 5, score, ret, ret > 0.0);
            e.series = (i / 60) as u32;
            e
        })
        .collect()
}

fn default_fast() -> CalibrationConfig {
    CalibrationConfig { bootstrap_resamples: 100, ..Default::default() }
}

#[test]
fn planted_score_return_relation_is_monotone_in_every_seed() {
    for seed in 0..20 {
        let report = run(&synthetic(seed, 300, 0.01), &default_fast());
        assert_eq!(report.verdict.verdict, Verdict::Monotone, "seed {seed}");
        let p = &report.horizons[0].summary.probability;
        assert!(p.isotonic_cross_fit.brier < p.brier_base_rate, "seed {seed}: {p:?}");
    }
}

#[test]
fn independent_score_is_not_monotone_in_at_least_19_of_20_seeds() {
    let monotone: Vec<u64> = (100..120)
        .filter(|&seed| {
            let report = run(&synthetic(seed, 300, 0.0), &default_fast());
            report.horizons[0].summary.verdict == Verdict::Monotone
        })
        .collect();
    assert!(monotone.len() <= 1, "false monotone verdicts at seeds {monotone:?}");
}

#[test]
fn no_events_give_empty_figures_a_note_and_insufficient_verdict() {
    let report = run(&[], &small_config());
    assert_eq!(report.notes[0].kind, NoteKind::NoEvents);
    assert_eq!(report.verdict.verdict, Verdict::Insufficient);
    let h = &report.horizons[0];
    assert!(h.summary.bins.is_empty() && h.summary.hit_map.is_empty());
    assert!(h.summary.hit_map_rise.is_nan() && h.summary.probability.raw.brier.is_nan());
    assert_eq!(h.summary.spearman_return.status, SpearmanStatus::TooFewPairs);
    assert!(ScoreMap::from_report(&report.calibration_report()).unwrap().map(50.0, 10).is_none());
}

#[test]
fn one_event_gives_flat_maps_and_too_few_events_note() {
    let report = run(&[event(0, 70.0, 0.01, true)], &small_config());
    let h = &report.horizons[0];
    assert_eq!(h.summary.hit_map, vec![bp(70.0, 1.0)]);
    assert_eq!(h.summary.verdict, Verdict::Insufficient);
    assert!(h.summary.probability.isotonic_cross_fit.brier.is_nan());
    let kinds: Vec<NoteKind> = h.details.notes.iter().map(|n| n.kind).collect();
    assert!(kinds.contains(&NoteKind::TooFewEvents) && kinds.contains(&NoteKind::AllHits));
    let map = ScoreMap::from_report(&report.calibration_report()).unwrap();
    assert_eq!(map.map(10.0, 10), Some((1.0, 0.01)));
}

#[test]
fn constant_score_is_not_monotone_with_a_named_note() {
    let events: Vec<_> = (0..5).map(|i| event(i, 40.0, i as f64 * 0.01, i % 2 == 0)).collect();
    let h = run(&events, &small_config()).horizons.remove(0);
    assert_eq!(h.summary.spearman_return.status, SpearmanStatus::ConstantX);
    assert_eq!(h.summary.verdict, Verdict::NotMonotone);
    assert!(h.summary.reasons[0].contains("the score is constant"));
    assert_eq!(h.summary.hit_map, vec![bp(40.0, 0.6)]);
    assert!(h.details.notes.iter().any(|n| n.kind == NoteKind::ConstantScore));
    assert_eq!(h.summary.bins.len(), 1);
}

#[test]
fn all_hits_give_a_flat_hit_map_and_not_monotone() {
    let events: Vec<_> =
        (0..5).map(|i| event(i, 10.0 * i as f64, 0.01 * (i + 1) as f64, true)).collect();
    let h = run(&events, &small_config()).horizons.remove(0);
    assert_eq!(h.summary.spearman_return.rho, 1.0);
    assert_eq!(h.summary.spearman_hit.status, SpearmanStatus::ConstantY);
    assert_eq!(h.summary.hit_map_rise, 0.0);
    assert_eq!(h.summary.verdict, Verdict::NotMonotone);
    assert!(h.details.notes.iter().any(|n| n.kind == NoteKind::AllHits));
    assert_eq!(h.summary.probability.isotonic_in_sample.brier, 0.0);
}

#[test]
fn no_hits_give_a_flat_hit_map_at_zero() {
    let events: Vec<_> =
        (0..5).map(|i| event(i, 10.0 * i as f64, -0.01 * i as f64, false)).collect();
    let h = run(&events, &small_config()).horizons.remove(0);
    assert!(h.summary.hit_map.iter().all(|b| b.y == 0.0));
    assert_eq!(h.summary.verdict, Verdict::NotMonotone);
    assert!(h.details.notes.iter().any(|n| n.kind == NoteKind::NoHits));
    assert_close(h.summary.probability.brier_base_rate, 0.0);
}

#[test]
fn nan_scores_and_returns_are_dropped_and_counted() {
    let mut events = six_events();
    events.push(event(6, f64::NAN, 0.01, true));
    events.push(event(7, 55.0, f64::NAN, true));
    events[0].horizons[1].ret = None; // no label at h = 20 only
    let report = run(&events, &small_config());
    let c10 = report.horizons[0].details.counts;
    assert_eq!(
        (c10.n_input, c10.n_used, c10.n_nonfinite_score, c10.n_nonfinite_return),
        (8, 6, 1, 1)
    );
    let c20 = report.horizons[1].details.counts;
    assert_eq!((c20.n_used, c20.n_missing_label), (5, 1));
    // The six clean events give the same figures as without the bad ones.
    let clean = run(&six_events(), &small_config());
    let json = |h: &HorizonCalibration| serde_json::to_string(h).unwrap();
    assert_eq!(json(&report.horizons[0].summary), json(&clean.horizons[0].summary));
}

#[test]
fn result_does_not_depend_on_input_order() {
    let events = synthetic(7, 120, 0.002);
    let mut reversed = events.clone();
    reversed.reverse();
    let a = serde_json::to_string(&run(&events, &default_fast())).unwrap();
    let b = serde_json::to_string(&run(&reversed, &default_fast())).unwrap();
    assert_eq!(a, b);
}

#[test]
fn every_config_parameter_changes_the_output() {
    let events = synthetic(3, 120, 0.002);
    let base = default_fast();
    let base_h = run(&events, &base).horizons.remove(0).summary;
    let with = |f: fn(&mut CalibrationConfig)| {
        let mut c = base.clone();
        f(&mut c);
        run(&events, &c).horizons.remove(0).summary
    };
    assert_eq!(with(|c| c.bins = 5).bins.len(), 5);
    assert_eq!(base_h.bins.len(), 10);
    assert_eq!(with(|c| c.binning = Binning::EqualWidth).bins[0].lo, 0.0);
    assert_ne!(with(|c| c.seed = 9).bins[0].mean_return.lo, base_h.bins[0].mean_return.lo);
    assert_ne!(
        with(|c| c.bootstrap_resamples = 50).bins[0].mean_return.lo,
        base_h.bins[0].mean_return.lo
    );
    assert!(with(|c| c.confidence = 0.5).bins[0].hit_rate.lo > base_h.bins[0].hit_rate.lo);
    assert_eq!(with(|c| c.min_events = 1000).verdict, Verdict::Insufficient);
}

#[test]
fn invalid_config_and_horizons_are_rejected() {
    let bad = CalibrationConfig { bins: 0, ..Default::default() };
    assert_eq!(calibrate(&[], &[10], &bad, meta()).unwrap_err().name, "bins");
    for horizons in [&[][..], &[0][..], &[20, 10][..], &[10, 10][..]] {
        let err = calibrate(&[], horizons, &CalibrationConfig::default(), meta()).unwrap_err();
        assert_eq!(err.name, "horizons");
    }
}

#[test]
fn reports_round_trip_through_json_byte_for_byte() {
    // Includes NaN: the upper equal-width bin is empty.
    let mut events = six_events();
    events.truncate(4);
    let config = CalibrationConfig { binning: Binning::EqualWidth, ..small_config() };
    let report = run(&events, &config);
    let text = serde_json::to_string_pretty(&report).unwrap();
    let back: MonotonicityReport = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
    let slim = report.calibration_report();
    let slim_text = serde_json::to_string(&slim).unwrap();
    let back: CalibrationReport = serde_json::from_str(&slim_text).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), slim_text);
    assert!(slim_text.starts_with(r#"{"schema_version":1,"meta":{"run_id":"run-test""#));
}

#[test]
fn written_files_load_into_a_score_map_that_reproduces_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let report = run(&six_events(), &small_config());
    write_calibration(dir.path(), &report).unwrap();
    let text = std::fs::read_to_string(dir.path().join(CALIBRATION_FILE)).unwrap();
    let map = ScoreMap::from_json(&text).unwrap();
    // At fitted scores the map returns the PAV block values; 30 is halfway
    // between the blocks at 20 (0.5, 0) and 40 (1, 0.025).
    assert_eq!(map.map(20.0, 10), Some((0.5, 0.0)));
    let (p, r) = map.map(30.0, 10).unwrap();
    assert_close(p, 0.75);
    assert_close(r, 0.0125);
    let full = std::fs::read_to_string(dir.path().join(MONOTONICITY_FILE)).unwrap();
    let back: MonotonicityReport = serde_json::from_str(&full).unwrap();
    assert_eq!(back.horizons[0].details.counts.n_used, 6);
}
