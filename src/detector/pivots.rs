//! Stage 1 of the detector: confirmed price pivots and per-bar conflict candidates.
//!
//! `PivotTracker` depends only on `swing_l` (plus the channels and a `ConflictFloor`
//! that only prunes), so a grid search runs it once per `swing_l` and feeds its
//! `Candidates` to many cheap stage-2 filters (`EventFilter`).
//!
//! Pivot rule: the bar at valid position `c` is a pivot high when its price is
//! strictly above the L bars on its left and at least as high as the L bars on its
//! right (L = `swing_l`), i.e. it is the *earliest* maximum of `[c - L, c + L]`.
//! Pivot lows mirror this. So on a plateau of equal extremes the first bar is the
//! pivot. The pivot is confirmed when bar `c + L` arrives.
//!
//! How: `WindowExtremes` gives the max/min of the L bars ending at each bar. At bar
//! `t` the right side of centre `c = t - L` is the window ending at `t`, and its
//! left side is the window ending at `c - 1 = t - L - 1`, kept in a ring of L + 1
//! entries. O(1) amortised per bar; every buffer is sized by L at construction.

use crate::core::{Bar, Channels, ParamRangeError, TsNs};

use super::params::{self, DetectorParams};
use super::window::WindowExtremes;

/// Whether a pivot is a local high or low of price.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PivotKind {
    High = 0,
    Low = 1,
}

/// One bar as remembered for pivots: its position, price and indicator readings.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Pivot {
    /// Bar index counting every bar fed (skipped ones too).
    pub index: u64,
    /// Position among valid (finite) bars only; separations are measured in it.
    pub seq: u64,
    pub ts: TsNs,
    pub price: f64,
    /// `[z_ofi, z_cvd, fusion]` at this bar, indexed by `Channel::idx`; NaN if absent.
    pub ind: [f64; 3],
    pub consistency: f64,
}

/// The last two same-kind pivots, emitted when the newer one is confirmed.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct PivotPair {
    pub kind: PivotKind,
    /// Older pivot.
    pub a: Pivot,
    /// Newer pivot, just confirmed.
    pub b: Pivot,
    /// Highest price over the valid bars from `a` to `b`, both included.
    pub span_high: f64,
    /// Lowest price over the same bars.
    pub span_low: f64,
}

/// Lowest |z_ofi| and |z_cvd| a conflict candidate may have. It only prunes: stage 2
/// applies the real thresholds (`z_hi` on OFI, `z_mid` on CVD), so any floor at or
/// below them gives the same events, and a lower floor only keeps more candidates.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ConflictFloor {
    pub ofi: f64,
    pub cvd: f64,
}

impl ConflictFloor {
    /// Keeps every opposite-signed bar.
    pub const NONE: ConflictFloor = ConflictFloor { ofi: 0.0, cvd: 0.0 };

    /// The exact floor of one parameter set.
    pub fn of(p: &DetectorParams) -> Self {
        ConflictFloor { ofi: p.z_hi, cvd: p.z_mid }
    }

    /// The highest floor serving every set: smallest `z_hi` and smallest `z_mid`.
    /// `NONE` for an empty slice.
    pub fn for_sets(sets: &[DetectorParams]) -> Self {
        let min = |f: fn(&DetectorParams) -> f64| sets.iter().map(f).fold(f64::INFINITY, f64::min);
        if sets.is_empty() {
            return Self::NONE;
        }
        ConflictFloor { ofi: min(|p| p.z_hi), cvd: min(|p| p.z_mid) }
    }
}

/// OFI and CVD of opposite signs on the current bar, each at least its floor in |z|.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ConflictReading {
    pub z_ofi: f64,
    pub z_cvd: f64,
    pub consistency: f64,
}

/// Everything stage 2 needs from one bar; produced only when something is present.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Candidates {
    /// Bar index of the current (confirming) bar.
    pub index: u64,
    /// Valid-bar position of the current bar.
    pub seq: u64,
    pub ts: TsNs,
    pub price: f64,
    pub pair: Option<PivotPair>,
    pub conflict: Option<ConflictReading>,
}

/// Empty extreme accumulator: any price replaces both ends.
const EMPTY_SPAN: (f64, f64) = (f64::NEG_INFINITY, f64::INFINITY);

/// Streaming pivot finder; see the module docs for the rule.
#[derive(Clone, Debug)]
pub struct PivotTracker {
    swing_l: usize,
    channels: Channels,
    floor: ConflictFloor,
    /// Bars fed, skipped ones included: the next bar's index.
    fed: u64,
    /// Valid bars accepted: the next valid bar's seq.
    seen: u64,
    /// `seen % (L + 1)`: where the next valid bar goes in the two rings below.
    slot: usize,
    /// The last L + 1 valid bars by `seq % (L + 1)`.
    history: Box<[Pivot]>,
    /// (max, min) price of the L bars ending at each of the last L + 1 valid bars.
    side_extremes: Box<[(f64, f64)]>,
    /// Sliding (max, min) over L bars.
    window: WindowExtremes,
    /// Last confirmed pivot per `PivotKind`.
    last: [Option<Pivot>; 2],
    /// (high, low) of centre prices since the last pivot of each kind, inclusive.
    span: [(f64, f64); 2],
}

impl PivotTracker {
    /// A tracker for pivots of `swing_l` bars a side.
    ///
    /// Conflict candidates are produced only when |z_ofi| and |z_cvd| reach `floor`;
    /// pass `ConflictFloor::for_sets` of the filters that will read them.
    pub fn new(
        swing_l: usize,
        channels: Channels,
        floor: ConflictFloor,
    ) -> Result<Self, ParamRangeError> {
        check("swing_l", swing_l as f64)?;
        for (name, v) in [("conflict_floor.ofi", floor.ofi), ("conflict_floor.cvd", floor.cvd)] {
            check("z_mid", v).map_err(|e| ParamRangeError { name: name.into(), ..e })?;
        }
        Ok(PivotTracker {
            swing_l,
            channels,
            floor,
            fed: 0,
            seen: 0,
            slot: 0,
            history: vec![Pivot::default(); swing_l + 1].into_boxed_slice(),
            side_extremes: vec![EMPTY_SPAN; swing_l + 1].into_boxed_slice(),
            window: WindowExtremes::new(swing_l),
            last: [None; 2],
            span: [EMPTY_SPAN; 2],
        })
    }

    pub fn swing_l(&self) -> usize {
        self.swing_l
    }

    pub fn channels(&self) -> Channels {
        self.channels
    }

    /// Valid bars accepted since construction or `reset`.
    pub fn valid_bars(&self) -> u64 {
        self.seen
    }

    /// Bars fed since construction or `reset`, skipped ones included.
    pub fn bars_fed(&self) -> u64 {
        self.fed
    }

    /// Total slots of all internal buffers; fixed at construction: `5L + 4`
    /// (L + 1 bars, L + 1 side extremes, 3L + 2 in `WindowExtremes`; L = swing_l).
    pub fn buffer_capacity(&self) -> usize {
        self.history.len() + self.side_extremes.len() + self.window.capacity()
    }

    /// Forgets every bar; the next bar fed gets index 0.
    pub fn reset(&mut self) {
        self.fed = 0;
        self.seen = 0;
        self.slot = 0;
        // Stale entries would be overwritten before being read; cleared for hygiene.
        self.history.fill(Pivot::default());
        self.side_extremes.fill(EMPTY_SPAN);
        self.window.clear();
        self.last = [None; 2];
        self.span = [EMPTY_SPAN; 2];
    }

    /// Feeds one bar. Returns candidates when this bar confirms a pivot that has a
    /// predecessor of its kind, or carries a conflict reading. A bar whose price or
    /// any present channel is non-finite only advances the bar index.
    pub fn update(&mut self, bar: &Bar) -> Option<Candidates> {
        let index = self.fed;
        self.fed += 1;
        if !self.is_valid(bar) {
            return None;
        }
        let seq = self.seen;
        self.seen += 1;

        let ind = [bar.z_ofi, bar.z_cvd, bar.fusion];
        let consistency = bar.consistency;
        let here = Pivot { index, seq, ts: bar.ts, price: bar.price, ind, consistency };
        let sides = self.remember(here);

        let pair = self.confirm(seq, sides);
        let conflict = self.conflict(bar);
        if pair.is_none() && conflict.is_none() {
            return None;
        }
        Some(Candidates { index, seq, ts: bar.ts, price: bar.price, pair, conflict })
    }

    /// Price and every present channel finite. Absent channels are not read.
    /// Every operand is cheap, so `&`/`|` rather than short-circuit `&&`/`||`.
    fn is_valid(&self, bar: &Bar) -> bool {
        let ch = self.channels;
        bar.price.is_finite()
            & (!ch.ofi | bar.z_ofi.is_finite())
            & (!ch.cvd | bar.z_cvd.is_finite())
            & (!ch.fusion | bar.fusion.is_finite())
    }

    /// Stores `bar` in the rings; afterwards `slot` points at the centre
    /// `bar.seq - L`. Returns the centre's sides as (max, min) pairs: left, the L
    /// bars ending at `bar.seq - L - 1`; right, the L bars ending at `bar`.
    fn remember(&mut self, bar: Pivot) -> [(f64, f64); 2] {
        let s = self.slot;
        self.history[s] = bar;
        let right = self.window.push(bar.price);
        let left = std::mem::replace(&mut self.side_extremes[s], right);
        self.slot = if s == self.swing_l { 0 } else { s + 1 };
        [left, right]
    }

    /// Checks whether the centre (L bars back) is a pivot, and pairs it.
    fn confirm(&mut self, seq: u64, [left, right]: [(f64, f64); 2]) -> Option<PivotPair> {
        if seq < 2 * self.swing_l as u64 {
            return None;
        }
        let price = self.history[self.slot].price;
        for s in &mut self.span {
            *s = (s.0.max(price), s.1.min(price));
        }
        let high = (price > left.0) & (price >= right.0);
        let low = (price < left.1) & (price <= right.1);
        if !(high | low) {
            return None;
        }
        // Both at once would need the centre strictly above and below its left bars.
        let kind = if high { PivotKind::High } else { PivotKind::Low };
        let centre = self.history[self.slot];
        debug_assert_eq!(centre.seq, seq - self.swing_l as u64);
        self.pair_with_last(kind, centre)
    }

    /// Records `b` as the newest pivot of `kind` and pairs it with the previous one.
    fn pair_with_last(&mut self, kind: PivotKind, b: Pivot) -> Option<PivotPair> {
        let k = kind as usize;
        let (span_high, span_low) = self.span[k];
        let pair = self.last[k].map(|a| PivotPair { kind, a, b, span_high, span_low });
        self.last[k] = Some(b);
        self.span[k] = (b.price, b.price);
        pair
    }

    /// Opposite-signed OFI and CVD, each at least its floor in |z|. Zero has no sign.
    fn conflict(&self, bar: &Bar) -> Option<ConflictReading> {
        let (o, c) = (bar.z_ofi, bar.z_cvd);
        // Test the rarely-true floor first: the sign test alone is a coin flip that
        // the branch predictor would miss on every other bar.
        let both = self.channels.ofi & self.channels.cvd;
        if !(both & (o.abs() >= self.floor.ofi) & (c.abs() >= self.floor.cvd)) {
            return None;
        }
        let opposite = (o > 0.0 && c < 0.0) || (o < 0.0 && c > 0.0);
        opposite.then_some(ConflictReading { z_ofi: o, z_cvd: c, consistency: bar.consistency })
    }
}

fn check(name: &str, v: f64) -> Result<(), ParamRangeError> {
    let s = params::spec(name).expect("spec exists for every checked name");
    if s.contains(v) {
        Ok(())
    } else {
        Err(ParamRangeError::new(name, &s.range_text(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn bar(price: f64) -> Bar {
        Bar {
            ts: TsNs(0),
            price,
            z_ofi: 0.0,
            z_cvd: 0.0,
            fusion: 0.0,
            consistency: 0.5,
            activity: 1.0,
        }
    }

    /// (seq of pivot a, seq of pivot b, kind, confirming seq) for every pair.
    fn pairs(prices: &[f64], l: usize) -> Vec<(u64, u64, PivotKind, u64)> {
        let mut t = PivotTracker::new(l, Channels::ALL, ConflictFloor::NONE).unwrap();
        prices
            .iter()
            .filter_map(|&p| t.update(&bar(p)))
            .filter_map(|c| c.pair.map(|pp| (pp.a.seq, pp.b.seq, pp.kind, c.seq)))
            .collect()
    }

    /// Every pivot (seq, kind) by brute force over the definition, for cross-checking.
    fn brute_pivots(prices: &[f64], l: usize) -> Vec<(usize, PivotKind)> {
        let mut out = vec![];
        for c in l..prices.len().saturating_sub(l) {
            let p = prices[c];
            let left = &prices[c - l..c];
            let right = &prices[c + 1..=c + l];
            if left.iter().all(|&x| x < p) && right.iter().all(|&x| x <= p) {
                out.push((c, PivotKind::High));
            } else if left.iter().all(|&x| x > p) && right.iter().all(|&x| x >= p) {
                out.push((c, PivotKind::Low));
            }
        }
        out
    }

    #[test]
    fn two_lows_pair_at_the_confirmation_of_the_second() {
        // Lows at seq 2 (price 1) and seq 6 (price 0.5), L = 2.
        let prices = [5.0, 4.0, 1.0, 4.0, 5.0, 4.0, 0.5, 4.0, 5.0];
        assert_eq!(pairs(&prices, 2), vec![(2, 6, PivotKind::Low, 8)]);
    }

    #[test]
    fn plateau_of_equal_highs_makes_its_first_bar_the_pivot() {
        // Equal highs at seq 2 and 3: strict on the left, non-strict on the right.
        let prices = [1.0, 2.0, 5.0, 5.0, 2.0, 1.0, 2.0, 6.0, 2.0, 1.0];
        let all = brute_pivots(&prices, 2);
        assert_eq!(all, vec![(2, PivotKind::High), (5, PivotKind::Low), (7, PivotKind::High)]);
        assert_eq!(pairs(&prices, 2), vec![(2, 7, PivotKind::High, 9)]);
    }

    #[test]
    fn a_flat_series_has_no_pivots() {
        assert!(pairs(&[3.0; 50], 3).is_empty());
    }

    #[test]
    fn empty_input_yields_nothing_and_counts_nothing() {
        let t = PivotTracker::new(3, Channels::ALL, ConflictFloor::NONE).unwrap();
        assert_eq!((t.bars_fed(), t.valid_bars()), (0, 0));
    }

    #[test]
    fn streaming_pivots_match_the_brute_force_definition_on_a_noisy_series() {
        // Coarse integer prices force many ties.
        let mut x: u64 = 12345;
        let prices: Vec<f64> = (0..3000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 33) % 7) as f64
            })
            .collect();
        for l in [1, 2, 3, 5] {
            let mut t = PivotTracker::new(l, Channels::ALL, ConflictFloor::NONE).unwrap();
            let mut found = vec![];
            let mut last_kind: [Option<u64>; 2] = [None; 2];
            let brute = brute_pivots(&prices, l);
            // Seed with the first pivot of each kind, which is never paired.
            for k in [PivotKind::High, PivotKind::Low] {
                last_kind[k as usize] = brute.iter().find(|b| b.1 == k).map(|b| b.0 as u64);
            }
            for &p in &prices {
                if let Some(pp) = t.update(&bar(p)).and_then(|c| c.pair) {
                    found.push((pp.b.seq as usize, pp.kind));
                    assert_eq!(last_kind[pp.kind as usize], Some(pp.a.seq));
                    last_kind[pp.kind as usize] = Some(pp.b.seq);
                }
            }
            // The first pivot of each kind is never paired, so drop it from brute.
            let mut firsts = [false; 2];
            let expected: Vec<_> = brute
                .into_iter()
                .filter(|(_, k)| std::mem::replace(&mut firsts[*k as usize], true))
                .collect();
            assert_eq!(found, expected, "L = {l}");
        }
    }

    #[test]
    fn span_covers_prices_from_pivot_a_to_pivot_b_inclusive() {
        let prices = [5.0, 4.0, 1.0, 4.0, 7.0, 4.0, 0.5, 4.0, 9.0];
        let mut t = PivotTracker::new(2, Channels::ALL, ConflictFloor::NONE).unwrap();
        let pp = prices.iter().filter_map(|&p| t.update(&bar(p))).find_map(|c| c.pair).unwrap();
        // Bars 2..=6 are 1, 4, 7, 4, 0.5; bar 8 (9.0) is after b and excluded.
        assert_eq!((pp.span_high, pp.span_low), (7.0, 0.5));
    }

    #[test]
    fn indicator_readings_are_taken_at_the_pivot_bars_not_the_confirmation_bar() {
        let prices = [5.0, 4.0, 1.0, 4.0, 5.0, 4.0, 0.5, 4.0, 5.0];
        let mut t = PivotTracker::new(2, Channels::ALL, ConflictFloor::NONE).unwrap();
        let mut got = None;
        for (i, &p) in prices.iter().enumerate() {
            let b = Bar { z_cvd: -(i as f64), ..bar(p) };
            got = got.or(t.update(&b).and_then(|c| c.pair));
        }
        let pp = got.unwrap();
        assert_eq!((pp.a.ind[1], pp.b.ind[1]), (-2.0, -6.0));
    }

    #[test]
    fn non_finite_bars_advance_the_index_but_not_the_valid_count() {
        let mut t = PivotTracker::new(2, Channels::CVD_ONLY, ConflictFloor::NONE).unwrap();
        t.update(&bar(1.0));
        t.update(&Bar { z_cvd: f64::NAN, ..bar(1.0) });
        t.update(&Bar { price: f64::INFINITY, ..bar(1.0) });
        // An absent channel's NaN does not make the bar invalid.
        t.update(&Bar { z_ofi: f64::NAN, fusion: f64::NAN, ..bar(1.0) });
        assert_eq!((t.bars_fed(), t.valid_bars()), (4, 2));
    }

    #[test]
    fn conflict_needs_opposite_signs_both_channels_and_the_floor() {
        let floor = ConflictFloor { ofi: 1.0, cvd: 0.5 };
        let mut t = PivotTracker::new(2, Channels::ALL, floor).unwrap();
        let c = |t: &mut PivotTracker, o: f64, v: f64| {
            t.update(&Bar { z_ofi: o, z_cvd: v, ..bar(1.0) }).and_then(|c| c.conflict)
        };
        assert!(c(&mut t, 2.0, -0.5).is_some());
        assert!(c(&mut t, -2.0, 0.7).is_some());
        assert!(c(&mut t, 2.0, 0.7).is_none());
        assert!(c(&mut t, 2.0, -0.49).is_none());
        assert!(c(&mut t, 0.99, -2.0).is_none());
        assert!(c(&mut t, 0.0, -3.0).is_none());
        let mut cvd_only = PivotTracker::new(2, Channels::CVD_ONLY, ConflictFloor::NONE).unwrap();
        assert!(c(&mut cvd_only, 2.0, -2.0).is_none());
    }

    #[test]
    fn construction_rejects_out_of_range_swing_and_floor() {
        assert_eq!(
            PivotTracker::new(0, Channels::ALL, ConflictFloor::NONE).unwrap_err().name,
            "swing_l"
        );
        let floor = ConflictFloor { ofi: 1.0, cvd: -1.0 };
        let e = PivotTracker::new(3, Channels::ALL, floor).unwrap_err();
        assert_eq!(e.name, "conflict_floor.cvd");
    }

    #[test]
    fn reset_restarts_indices_and_forgets_pivots() {
        let prices = [5.0, 4.0, 1.0, 4.0, 5.0, 4.0, 0.5, 4.0, 5.0];
        let mut t = PivotTracker::new(2, Channels::ALL, ConflictFloor::NONE).unwrap();
        let first: Vec<_> = prices.iter().filter_map(|&p| t.update(&bar(p))).collect();
        t.reset();
        let second: Vec<_> = prices.iter().filter_map(|&p| t.update(&bar(p))).collect();
        assert_eq!(first, second);
    }
}
