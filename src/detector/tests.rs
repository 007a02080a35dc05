//! Behaviour tests of the whole detector on hand-built and seeded random series.

use super::*;
use crate::core::TsNs;
use crate::labels::{label_events, LabelParams};

// ---------------------------------------------------------------- fixtures

const SEC: i64 = TsNs::NS_PER_SEC;

fn flat_bar(i: usize, price: f64) -> Bar {
    Bar {
        ts: TsNs(i as i64 * SEC),
        price,
        z_ofi: 0.0,
        z_cvd: 0.0,
        fusion: 0.0,
        consistency: f64::NAN,
        activity: 1.0,
    }
}

/// Bars with the given prices, indicators 0 except the `(bar, channel, value)` marks.
fn series(prices: &[f64], marks: &[(usize, Channel, f64)]) -> Vec<Bar> {
    let mut bars: Vec<Bar> = prices.iter().enumerate().map(|(i, &p)| flat_bar(i, p)).collect();
    for &(i, ch, v) in marks {
        let b = &mut bars[i];
        match ch {
            Channel::Ofi => b.z_ofi = v,
            Channel::Cvd => b.z_cvd = v,
            Channel::Fusion => b.fusion = v,
        }
    }
    bars
}

/// Small-scale parameters for hand-built series: L = 2, thresholds at defaults.
fn small() -> DetectorParams {
    DetectorParams {
        swing_l: 2,
        min_separation: 3,
        max_separation: 50,
        cooldown: 0,
        warmup: 0,
        weak_threshold: 0.0,
        ..Default::default()
    }
}

/// Lows at bars 3 (7.0) and 9 (6.5); a high at bar 6. Confirmed at bar 11.
const LOWER_LOW: [f64; 13] = [10., 9., 8., 7., 8., 9., 10., 9., 8., 6.5, 8., 9., 10.];
/// Lows at bars 3 (7.0) and 9 (7.5).
const HIGHER_LOW: [f64; 13] = [10., 9., 8., 7., 8., 9., 10., 9., 8., 7.5, 8., 9., 10.];
/// Highs at bars 3 (13.0) and 9 (13.5).
const HIGHER_HIGH: [f64; 13] = [10., 11., 12., 13., 12., 11., 10., 11., 12., 13.5, 12., 11., 10.];
/// Highs at bars 3 (13.0) and 9 (12.5).
const LOWER_HIGH: [f64; 13] = [10., 11., 12., 13., 12., 11., 10., 11., 12., 12.5, 12., 11., 10.];

fn run(bars: &[Bar], p: DetectorParams, ch: Channels) -> Vec<Event> {
    replay(bars, p, ch).unwrap()
}

fn only(events: Vec<Event>) -> Event {
    assert_eq!(events.len(), 1, "{events:#?}");
    events[0]
}

/// Seeded LCG (Knuth MMIX constants), uniform in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn sym(&mut self, half_width: f64) -> f64 {
        (2.0 * self.next() - 1.0) * half_width
    }
}

/// A random walk with random indicators in [-3, 3] and consistency in [0, 1].
fn random_bars(n: usize, seed: u64) -> Vec<Bar> {
    let mut r = Lcg(seed);
    let mut px = 100.0;
    (0..n)
        .map(|i| {
            px += r.sym(0.1);
            Bar {
                z_ofi: r.sym(3.0),
                z_cvd: r.sym(3.0),
                fusion: r.sym(3.0),
                consistency: r.next(),
                ..flat_bar(i, px)
            }
        })
        .collect()
}

/// Loose parameters that make random series fire often.
fn busy() -> DetectorParams {
    DetectorParams {
        swing_l: 3,
        z_hi: 1.0,
        z_mid: 0.3,
        min_separation: 2,
        max_separation: 100,
        cooldown: 3,
        warmup: 0,
        weak_threshold: 0.0,
        swing_full_bps: 20.0,
    }
}

// ---------------------------------------------------------------- one test per type

#[test]
fn lower_low_with_higher_cvd_low_fires_regular_bull_at_confirmation() {
    let bars = series(&LOWER_LOW, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    let e = only(run(&bars, small(), Channels::ALL));

    assert_eq!((e.index, e.ts, e.price), (11, TsNs(11 * SEC), 9.0));
    assert_eq!(
        (e.kind, e.side, e.channels.as_str(), e.primary),
        (EventKind::Regular, Side::Bull, "cvd", Channel::Cvd)
    );
    let a = PivotRef { index: 3, ts: TsNs(3 * SEC), price: 7.0, indicator: -2.0 };
    let b = PivotRef { index: 9, ts: TsNs(9 * SEC), price: 6.5, indicator: -0.8 };
    assert_eq!((e.pivot_a, e.pivot_b), (Some(a), Some(b)));

    // size: readings 2.0 and 0.8 differ by 1.2 of z_hi 1.6; swing (10-6.5)/6.5
    // saturates; freshness 6 bars apart in [3, 50] -> 1 - 3/47; agreement 1 of
    // 3; consistency NaN -> 0.5.
    let want = 30.0 * 0.75 + 25.0 + 25.0 * (1.0 - 3.0 / 47.0) + 10.0 / 3.0 + 5.0;
    assert!((e.score - want).abs() < 1e-9, "{} vs {want}", e.score);
    assert_eq!(e.reasons.to_string(), "no_consistency|wide_swing");
}

#[test]
fn higher_high_with_lower_ofi_high_fires_regular_bear() {
    let bars = series(&HIGHER_HIGH, &[(3, Channel::Ofi, 2.0), (9, Channel::Ofi, 0.8)]);
    let e = only(run(&bars, small(), Channels::ALL));
    assert_eq!(
        (e.index, e.kind, e.side, e.channels.as_str()),
        (11, EventKind::Regular, Side::Bear, "ofi")
    );
    assert_eq!((e.pivot_a.unwrap().price, e.pivot_b.unwrap().indicator), (13.0, 0.8));
}

#[test]
fn higher_low_with_lower_fusion_low_fires_hidden_bull() {
    let bars = series(&HIGHER_LOW, &[(3, Channel::Fusion, -0.9), (9, Channel::Fusion, -1.8)]);
    let e = only(run(&bars, small(), Channels::ALL));
    assert_eq!(
        (e.index, e.kind, e.side, e.channels.as_str()),
        (11, EventKind::Hidden, Side::Bull, "fusion")
    );
}

#[test]
fn lower_high_with_higher_cvd_high_fires_hidden_bear() {
    let bars = series(&LOWER_HIGH, &[(3, Channel::Cvd, 0.7), (9, Channel::Cvd, 2.5)]);
    let e = only(run(&bars, small(), Channels::ALL));
    assert_eq!(
        (e.index, e.kind, e.side, e.channels.as_str()),
        (11, EventKind::Hidden, Side::Bear, "cvd")
    );
    assert!(e.reasons.contains(Reason::WideSwing));
}

#[test]
fn opposite_stretched_ofi_and_cvd_fire_a_conflict_without_direction() {
    let bars = series(&[5.0; 10], &[(6, Channel::Ofi, 2.0), (6, Channel::Cvd, -1.0)]);
    let e = only(run(&bars, small(), Channels::ALL));
    assert_eq!(
        (e.index, e.kind, e.side, e.channels.as_str()),
        (6, EventKind::Conflict, Side::None, "ofi+cvd")
    );
    assert_eq!((e.pivot_a, e.pivot_b), (None, None));
    // strength 0.5*(0.4/1.6) + 0.5*(0.4/1.0) = 0.325; consistency NaN -> 0.5.
    assert!((e.score - (70.0 * 0.325 + 15.0)).abs() < 1e-9);
}

#[test]
fn conflict_needs_z_hi_on_ofi_not_just_on_cvd() {
    // Mirror case: CVD at z_hi, OFI only at z_mid. The rule is not symmetric.
    let bars = series(&[5.0; 10], &[(6, Channel::Ofi, 1.0), (6, Channel::Cvd, -2.0)]);
    assert!(run(&bars, small(), Channels::ALL).is_empty());
}

#[test]
fn same_signed_or_zero_flow_is_no_conflict() {
    let marks = [(6, Channel::Ofi, 2.0), (6, Channel::Cvd, 1.0), (7, Channel::Ofi, 2.0)];
    assert!(run(&series(&[5.0; 10], &marks), small(), Channels::ALL).is_empty());
}

// ---------------------------------------------------------------- merging and precedence

#[test]
fn channels_confirming_the_same_pair_merge_into_one_event_led_by_the_strongest() {
    let marks = [
        (3, Channel::Cvd, -2.0),
        (9, Channel::Cvd, -0.8),
        (3, Channel::Fusion, -2.5),
        (9, Channel::Fusion, -0.7),
    ];
    let e = only(run(&series(&LOWER_LOW, &marks), small(), Channels::ALL));
    assert_eq!((e.channels.as_str(), e.primary), ("cvd+fusion", Channel::Fusion));
    assert_eq!(e.pivot_a.unwrap().indicator, -2.5);
    assert!(e.reasons.contains(Reason::MultiChannel));
}

#[test]
fn equally_strong_channels_leave_the_earlier_one_primary() {
    let marks = [
        (3, Channel::Fusion, -2.0),
        (9, Channel::Fusion, -0.8),
        (3, Channel::Cvd, -2.0),
        (9, Channel::Cvd, -0.8),
    ];
    let e = only(run(&series(&LOWER_LOW, &marks), small(), Channels::ALL));
    assert_eq!((e.channels.as_str(), e.primary), ("cvd+fusion", Channel::Cvd));
}

#[test]
fn divergence_wins_over_a_conflict_on_the_same_bar_and_notes_it() {
    let marks = [
        (3, Channel::Cvd, -2.0),
        (9, Channel::Cvd, -0.8),
        (11, Channel::Ofi, 2.0),
        (11, Channel::Cvd, -1.0),
    ];
    let bars = series(&LOWER_LOW, &marks);
    let e = only(run(&bars, small(), Channels::ALL));
    assert_eq!((e.index, e.kind), (11, EventKind::Regular));
    assert!(e.reasons.contains(Reason::ConflictOnBar));

    // When the divergence is filtered out, the conflict on that bar is emitted.
    let p = DetectorParams { min_separation: 7, ..small() };
    let e = only(run(&bars, p, Channels::ALL));
    assert_eq!((e.index, e.kind), (11, EventKind::Conflict));
}

#[test]
fn consistency_at_pivot_b_raises_the_score_and_marks_it_consistent() {
    let mut bars = series(&LOWER_LOW, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    let base = only(run(&bars, small(), Channels::ALL)).score;
    bars[9].consistency = 0.9;
    let e = only(run(&bars, small(), Channels::ALL));
    assert!((e.score - base - 10.0 * 0.4).abs() < 1e-9);
    assert!(e.reasons.contains(Reason::Consistent));
    assert!(!e.reasons.contains(Reason::NoConsistency));
}

#[test]
fn events_scoring_below_weak_threshold_are_not_emitted() {
    let bars = series(&LOWER_LOW, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    let score = only(run(&bars, small(), Channels::ALL)).score;
    let at = DetectorParams { weak_threshold: score, ..small() };
    assert_eq!(run(&bars, at, Channels::ALL).len(), 1);
    let above = DetectorParams { weak_threshold: score + 1e-9, ..small() };
    assert!(run(&bars, above, Channels::ALL).is_empty());
}

// ---------------------------------------------------------------- noise control

/// Lows at 3, 9, 15, each lower; CVD lows -2.4, -2.0, -1.7, each higher.
fn three_lower_lows(second_channel: Channel) -> Vec<Bar> {
    let prices = [10., 9., 8., 7., 8., 9., 10., 9., 8., 6.5, 8., 9., 10., 9., 8., 6., 8., 9., 10.];
    let mut marks = vec![(3, Channel::Cvd, -2.4), (9, Channel::Cvd, -2.0)];
    marks.extend([(9, second_channel, -2.0), (15, second_channel, -1.7)]);
    series(&prices, &marks)
}

#[test]
fn cooldown_suppresses_the_same_type_and_channel_within_the_window() {
    let bars = three_lower_lows(Channel::Cvd);
    let idx = |cd| run(&bars, DetectorParams { cooldown: cd, ..small() }, Channels::ALL);
    let at = |v: Vec<Event>| v.iter().map(|e| e.index).collect::<Vec<_>>();
    assert_eq!(at(idx(0)), vec![11, 17]);
    assert_eq!(at(idx(5)), vec![11, 17]);
    assert_eq!(at(idx(6)), vec![11]);
}

#[test]
fn cooldown_of_one_channel_does_not_silence_another() {
    let bars = three_lower_lows(Channel::Ofi);
    let events = run(&bars, DetectorParams { cooldown: 50, ..small() }, Channels::ALL);
    let chans: Vec<_> = events.iter().map(|e| (e.index, e.channels.as_str())).collect();
    assert_eq!(chans, vec![(11, "cvd"), (17, "ofi")]);
}

#[test]
fn a_pivot_pair_fires_once_even_when_its_candidates_arrive_twice() {
    let bars = series(&LOWER_LOW, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    let key = small().pivot_key();
    let cands = candidates(&bars, key, Channels::ALL, ConflictFloor::NONE).unwrap();
    let with_pair: Vec<Candidates> = cands.into_iter().filter(|c| c.pair.is_some()).collect();
    let mut twice = with_pair.clone();
    twice.extend(with_pair.iter().map(|c| Candidates { seq: c.seq + 1, ..*c }));
    let events = filter_candidates(&twice, &small(), Channels::ALL).unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn a_pair_is_not_fired_again_while_no_new_pivot_forms() {
    let mut prices = LOWER_LOW.to_vec();
    prices.extend([10.0; 200]);
    let bars = series(&prices, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    assert_eq!(run(&bars, small(), Channels::ALL).len(), 1);
}

#[test]
fn pivots_closer_than_min_separation_or_further_than_max_are_not_paired() {
    // The pair is 6 bars apart.
    let bars = series(&LOWER_LOW, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    let n = |min, max| {
        let p = DetectorParams { min_separation: min, max_separation: max, ..small() };
        run(&bars, p, Channels::ALL).len()
    };
    assert_eq!((n(6, 50), n(7, 50)), (1, 0));
    assert_eq!((n(3, 6), n(3, 5)), (1, 0));
}

#[test]
fn nothing_fires_during_warmup_and_is_warm_flips_after_it() {
    let bars = series(&LOWER_LOW, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    // The event is on bar 11, the 12th valid bar.
    assert_eq!(run(&bars, DetectorParams { warmup: 11, ..small() }, Channels::ALL).len(), 1);
    assert!(run(&bars, DetectorParams { warmup: 12, ..small() }, Channels::ALL).is_empty());

    let mut d = Detector::new(DetectorParams { warmup: 11, ..small() }, Channels::ALL).unwrap();
    for (i, b) in bars.iter().enumerate() {
        assert_eq!(d.is_warm(), i >= 11, "before bar {i}");
        d.update(b);
    }
}

#[test]
fn warmup_below_twice_swing_plus_one_is_raised_to_it() {
    // L = 2 -> at least 5 bars. A conflict on bar 4 is inside, on bar 5 outside.
    let conflict_at = |i| series(&[5.0; 10], &[(i, Channel::Ofi, 2.0), (i, Channel::Cvd, -1.0)]);
    assert!(run(&conflict_at(4), small(), Channels::ALL).is_empty());
    assert_eq!(run(&conflict_at(5), small(), Channels::ALL).len(), 1);
}

// ---------------------------------------------------------------- invalid input

/// Inserts an invalid bar before every original bar whose position is in `at`.
fn with_invalid_bars(bars: &[Bar], at: &[usize]) -> (Vec<Bar>, Vec<u64>) {
    let poison: [fn(Bar) -> Bar; 5] = [
        |b: Bar| Bar { price: f64::NAN, ..b },
        |b: Bar| Bar { z_ofi: f64::INFINITY, ..b },
        |b: Bar| Bar { z_cvd: f64::NAN, ..b },
        |b: Bar| Bar { fusion: f64::NEG_INFINITY, ..b },
        |b: Bar| Bar { price: f64::INFINITY, z_cvd: 1e300, ..b },
    ];
    let (mut out, mut new_index) = (vec![], vec![]);
    for (i, b) in bars.iter().enumerate() {
        if at.contains(&i) {
            out.push(poison[i % poison.len()](Bar { z_ofi: 9.0, z_cvd: -9.0, ..*b }));
        }
        new_index.push(out.len() as u64);
        out.push(*b);
    }
    (out, new_index)
}

fn shift(e: &Event, map: &[u64]) -> Event {
    let pivot = |p: Option<PivotRef>| p.map(|p| PivotRef { index: map[p.index as usize], ..p });
    Event {
        index: map[e.index as usize],
        pivot_a: pivot(e.pivot_a),
        pivot_b: pivot(e.pivot_b),
        ..*e
    }
}

#[test]
fn nan_and_infinite_bars_are_skipped_without_poisoning_later_output() {
    let bars = random_bars(5_000, 7);
    let at: Vec<usize> = (0..5_000).filter(|i| i % 37 == 5 || i % 101 == 0).collect();
    let (dirty, map) = with_invalid_bars(&bars, &at);
    assert!(dirty.len() > bars.len() + 150);

    let clean_events = run(&bars, busy(), Channels::ALL);
    let dirty_events = run(&dirty, busy(), Channels::ALL);
    assert!(clean_events.len() > 100, "fixture must fire often: {}", clean_events.len());
    let shifted: Vec<Event> = clean_events.iter().map(|e| shift(e, &map)).collect();
    assert_eq!(dirty_events, shifted);
}

#[test]
fn nan_in_an_absent_channel_does_not_skip_the_bar() {
    let mut bars = series(&LOWER_LOW, &[(3, Channel::Cvd, -2.0), (9, Channel::Cvd, -0.8)]);
    for b in &mut bars {
        (b.z_ofi, b.fusion) = (f64::NAN, f64::NAN);
    }
    let e = only(run(&bars, small(), Channels::CVD_ONLY));
    assert_eq!((e.index, e.channels.as_str()), (11, "cvd"));
    // Declaring the NaN channels present instead makes every bar invalid.
    assert!(run(&bars, small(), Channels::ALL).is_empty());
}

// ---------------------------------------------------------------- channels

#[test]
fn cvd_only_data_yields_only_cvd_events_and_no_conflicts() {
    let mut bars = random_bars(20_000, 11);
    let all = run(&bars, busy(), Channels::ALL);
    assert!(all.iter().any(|e| e.kind == EventKind::Conflict), "fixture has conflicts");
    for b in &mut bars {
        (b.z_ofi, b.fusion, b.consistency) = (f64::NAN, f64::NAN, f64::NAN);
    }
    let cvd = run(&bars, busy(), Channels::CVD_ONLY);
    assert!(cvd.len() > 50);
    assert!(cvd.iter().all(|e| e.channels.as_str() == "cvd" && e.kind != EventKind::Conflict));
}

#[test]
fn a_source_with_no_channels_fires_nothing() {
    let none = Channels { ofi: false, cvd: false, fusion: false };
    assert!(run(&random_bars(5_000, 3), busy(), none).is_empty());
}

// ---------------------------------------------------------------- two-stage sharing

#[test]
fn shared_pivot_stage_gives_exactly_the_events_of_the_detector() {
    let bars = with_invalid_bars(&random_bars(30_000, 5), &[10, 500, 9_000]).0;
    let sets: Vec<DetectorParams> = vec![
        busy(),
        DetectorParams { z_hi: 1.8, z_mid: 1.0, ..busy() },
        DetectorParams { cooldown: 0, min_separation: 10, max_separation: 40, ..busy() },
        DetectorParams { weak_threshold: 45.0, warmup: 5_000, ..busy() },
        DetectorParams { z_mid: 0.0, cooldown: 30, swing_full_bps: 5.0, ..busy() },
    ];
    let floor = ConflictFloor::for_sets(&sets);
    assert_eq!(floor, ConflictFloor { ofi: 1.0, cvd: 0.0 });
    let cands = candidates(&bars, busy().pivot_key(), Channels::ALL, floor).unwrap();
    let mut total = 0;
    for p in &sets {
        let direct = run(&bars, p.clone(), Channels::ALL);
        assert_eq!(filter_candidates(&cands, p, Channels::ALL).unwrap(), direct, "{p:?}");
        total += direct.len();
    }
    assert!(total > 500, "fixture must fire: {total}");
}

#[test]
fn conflict_floor_takes_the_smallest_thresholds_or_none_for_no_sets() {
    let sets = [
        DetectorParams { z_hi: 2.0, z_mid: 0.4, ..busy() },
        DetectorParams { z_hi: 1.5, z_mid: 0.5, ..busy() },
    ];
    assert_eq!(ConflictFloor::for_sets(&sets), ConflictFloor { ofi: 1.5, cvd: 0.4 });
    assert_eq!(ConflictFloor::for_sets(&[]), ConflictFloor::NONE);
}

#[test]
fn a_floor_above_a_sets_thresholds_loses_its_conflicts() {
    // Guards the documented contract: the floor must not exceed the thresholds.
    let bars = random_bars(5_000, 13);
    let high = ConflictFloor { ofi: 2.5, cvd: 2.5 };
    let cands = candidates(&bars, busy().pivot_key(), Channels::ALL, high).unwrap();
    let shared = filter_candidates(&cands, &busy(), Channels::ALL).unwrap();
    let direct = run(&bars, busy(), Channels::ALL);
    let conflicts = |v: &[Event]| v.iter().filter(|e| e.kind == EventKind::Conflict).count();
    assert!(conflicts(&shared) < conflicts(&direct));
}

#[test]
fn every_parameter_changes_the_output_on_a_busy_series() {
    let bars = random_bars(20_000, 17);
    let base = run(&bars, busy(), Channels::ALL);
    let other = [
        ("swing_l", 5.0),
        ("z_hi", 1.5),
        ("z_mid", 0.6),
        ("min_separation", 8.0),
        ("max_separation", 30.0),
        ("cooldown", 20.0),
        ("warmup", 5_000.0),
        ("weak_threshold", 50.0),
        ("swing_full_bps", 80.0),
    ];
    assert_eq!(other.map(|(n, _)| n), NAMES);
    for (name, v) in other {
        let mut p = busy();
        p.set(name, v).unwrap();
        assert_ne!(run(&bars, p, Channels::ALL), base, "{name} = {v} changed nothing");
    }
}

// ---------------------------------------------------------------- lifecycle and bounds

#[test]
fn reset_makes_a_second_pass_identical_to_the_first() {
    let bars = random_bars(3_000, 9);
    let mut d = Detector::new(busy(), Channels::ALL).unwrap();
    let first: Vec<Event> = bars.iter().filter_map(|b| d.update(b)).collect();
    d.reset();
    assert_eq!(d.bars_fed(), 0);
    let second: Vec<Event> = bars.iter().filter_map(|b| d.update(b)).collect();
    assert_eq!(first, second);
    assert!(!first.is_empty());
}

#[test]
fn new_rejects_invalid_parameters() {
    let p = DetectorParams { z_hi: -1.0, ..Default::default() };
    assert_eq!(Detector::new(p, Channels::ALL).unwrap_err().name, "z_hi");
    let p = DetectorParams { swing_l: 0, ..Default::default() };
    assert_eq!(replay(&[], p, Channels::ALL).unwrap_err().name, "swing_l");
}

#[test]
fn empty_input_gives_no_events() {
    assert!(run(&[], DetectorParams::default(), Channels::ALL).is_empty());
}

#[test]
fn buffers_keep_their_capacity_over_ten_million_bars() {
    let p = DetectorParams { swing_l: 13, ..busy() };
    let mut d = Detector::new(p, Channels::ALL).unwrap();
    let cap = d.buffer_capacity();
    // L + 1 bars, L + 1 side extremes, 3L + 2 in the sliding window.
    assert_eq!(cap, 14 + 14 + 41);
    let (mut r, mut px, mut events) = (Lcg(1), 100.0, 0u64);
    for i in 0..10_000_000usize {
        px += r.sym(0.1);
        let z = r.sym(3.0);
        let bar = Bar { z_ofi: z, z_cvd: -0.5 * z, fusion: z, ..flat_bar(i, px) };
        events += d.update(&bar).is_some() as u64;
    }
    assert_eq!(d.buffer_capacity(), cap);
    assert_eq!(d.bars_fed(), 10_000_000);
    assert!(events > 10_000, "{events}");
}

// ---------------------------------------------------------------- no look-ahead

#[test]
fn events_and_labels_up_to_t_minus_h_ignore_every_bar_after_t() {
    let bars = random_bars(4_000, 21);
    let (t, h) = (2_500usize, 20usize);
    let mut changed = bars.clone();
    let mut r = Lcg(99);
    for b in &mut changed[t + 1..] {
        (b.price, b.z_ofi, b.z_cvd) = (b.price + r.sym(5.0), r.sym(4.0), r.sym(4.0));
    }
    let lp = LabelParams { horizons: vec![10, h], cost_bps: 1.0 };
    let prices = |v: &[Bar]| v.iter().map(|b| b.price).collect::<Vec<_>>();
    let early = |v: &[Bar]| {
        let ev: Vec<Event> = run(v, busy(), Channels::ALL)
            .into_iter()
            .filter(|e| e.index as usize <= t - h)
            .collect();
        let labels = label_events(&ev, &prices(v), &lp).unwrap();
        (ev, labels)
    };
    let (ev_a, lab_a) = early(&bars);
    let (ev_b, lab_b) = early(&changed);
    assert!(ev_a.len() > 50);
    assert_eq!(ev_a, ev_b);
    assert_eq!(lab_a, lab_b);
    // The change after t is real: events after t differ.
    assert_ne!(run(&bars, busy(), Channels::ALL), run(&changed, busy(), Channels::ALL));
}
