//! Classifying a pivot pair: which divergence its prices allow, and whether one
//! channel's readings at the two pivots confirm it strongly enough.
//!
//! | type         | price at B vs A | indicator at B vs A | side |
//! |--------------|-----------------|---------------------|------|
//! | regular bull | lower low       | higher low          | bull |
//! | hidden bull  | higher low      | lower low           | bull |
//! | regular bear | higher high     | lower high          | bear |
//! | hidden bear  | lower high      | higher high         | bear |
//!
//! Equal prices or equal readings are no divergence. Strength rule: with
//! pressure `s = -z` for bull and `s = +z` for bear (how stretched flow is in the
//! direction price just moved), the stronger of `s_A, s_B` must reach `z_hi` and
//! the weaker must reach `z_mid`. So a bull divergence needs selling pressure at
//! both lows, at least `z_hi` at one of them.

use super::event::{Channel, EventKind, Side};
use super::pivots::{PivotKind, PivotPair};

/// Divergence type its prices allow for a pair, or `None` when the prices are equal.
pub fn price_type(pair: &PivotPair) -> Option<(EventKind, Side)> {
    let (a, b) = (pair.a.price, pair.b.price);
    let t = match pair.kind {
        PivotKind::Low if b < a => (EventKind::Regular, Side::Bull),
        PivotKind::Low if b > a => (EventKind::Hidden, Side::Bull),
        PivotKind::High if b > a => (EventKind::Regular, Side::Bear),
        PivotKind::High if b < a => (EventKind::Hidden, Side::Bear),
        _ => return None,
    };
    Some(t)
}

/// Whether indicator readings `a` (older) and `b` move against price as `kind` needs.
pub fn indicator_diverges(kind: EventKind, side: Side, a: f64, b: f64) -> bool {
    match (kind, side) {
        (EventKind::Regular, Side::Bull) | (EventKind::Hidden, Side::Bear) => b > a,
        (EventKind::Hidden, Side::Bull) | (EventKind::Regular, Side::Bear) => b < a,
        _ => false,
    }
}

/// Pressure readings of one confirming channel: `strong >= z_hi`, `weak >= z_mid`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Strength {
    pub channel: Channel,
    /// The larger of the two pivot pressures.
    pub strong: f64,
    /// The smaller of the two pivot pressures.
    pub weak: f64,
}

impl Strength {
    /// Orders candidates for primary channel: larger `strong`, then larger `weak`.
    pub fn beats(&self, other: &Strength) -> bool {
        (self.strong, self.weak) > (other.strong, other.weak)
    }
}

/// The channel's confirmation of divergence `(kind, side)` on `pair`, if it passes.
pub fn channel_strength(
    pair: &PivotPair,
    (kind, side): (EventKind, Side),
    channel: Channel,
    z_hi: f64,
    z_mid: f64,
) -> Option<Strength> {
    let (a, b) = (pair.a.ind[channel.idx()], pair.b.ind[channel.idx()]);
    if !indicator_diverges(kind, side, a, b) {
        return None;
    }
    // Bull: pressure is selling, -z; bear: buying, +z.
    let (sa, sb) = (-side.sign() * a, -side.sign() * b);
    let (strong, weak) = (sa.max(sb), sa.min(sb));
    (strong >= z_hi && weak >= z_mid).then_some(Strength { channel, strong, weak })
}

/// Cooldown slot of an event type: 0-3 divergences, 4 conflicts.
pub fn type_slot(kind: EventKind, side: Side) -> usize {
    match (kind, side) {
        (EventKind::Regular, Side::Bull) => 0,
        (EventKind::Regular, _) => 1,
        (EventKind::Hidden, Side::Bull) => 2,
        (EventKind::Hidden, _) => 3,
        (EventKind::Conflict, _) => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::pivots::Pivot;

    fn pair(kind: PivotKind, pa: f64, pb: f64, za: f64, zb: f64) -> PivotPair {
        let pivot = |seq, price, z| Pivot { seq, price, ind: [z, f64::NAN, z], ..Pivot::default() };
        let (a, b) = (pivot(10, pa, za), pivot(40, pb, zb));
        PivotPair { kind, a, b, span_high: pa.max(pb), span_low: pa.min(pb) }
    }

    fn check(p: &PivotPair) -> Option<(EventKind, Side, f64, f64)> {
        let t = price_type(p)?;
        channel_strength(p, t, Channel::Ofi, 1.6, 0.6).map(|s| (t.0, t.1, s.strong, s.weak))
    }

    #[test]
    fn lower_low_with_higher_indicator_low_is_regular_bull() {
        let p = pair(PivotKind::Low, 100.0, 99.0, -2.0, -0.8);
        assert_eq!(check(&p), Some((EventKind::Regular, Side::Bull, 2.0, 0.8)));
    }

    #[test]
    fn higher_high_with_lower_indicator_high_is_regular_bear() {
        let p = pair(PivotKind::High, 100.0, 101.0, 1.7, 0.6);
        assert_eq!(check(&p), Some((EventKind::Regular, Side::Bear, 1.7, 0.6)));
    }

    #[test]
    fn higher_low_with_lower_indicator_low_is_hidden_bull() {
        let p = pair(PivotKind::Low, 99.0, 100.0, -0.9, -1.8);
        assert_eq!(check(&p), Some((EventKind::Hidden, Side::Bull, 1.8, 0.9)));
    }

    #[test]
    fn lower_high_with_higher_indicator_high_is_hidden_bear() {
        let p = pair(PivotKind::High, 101.0, 100.0, 0.7, 2.5);
        assert_eq!(check(&p), Some((EventKind::Hidden, Side::Bear, 2.5, 0.7)));
    }

    #[test]
    fn equal_prices_or_equal_readings_are_no_divergence() {
        assert_eq!(price_type(&pair(PivotKind::Low, 100.0, 100.0, -2.0, -1.0)), None);
        assert_eq!(check(&pair(PivotKind::Low, 100.0, 99.0, -2.0, -2.0)), None);
    }

    #[test]
    fn indicator_moving_with_price_is_no_divergence() {
        assert_eq!(check(&pair(PivotKind::Low, 100.0, 99.0, -0.8, -2.0)), None);
    }

    #[test]
    fn strength_needs_z_hi_on_the_stronger_and_z_mid_on_the_weaker_reading() {
        // Just at the bounds passes (>=), just below either fails.
        assert!(check(&pair(PivotKind::Low, 100.0, 99.0, -1.6, -0.6)).is_some());
        assert!(check(&pair(PivotKind::Low, 100.0, 99.0, -1.59, -0.6)).is_none());
        assert!(check(&pair(PivotKind::Low, 100.0, 99.0, -1.6, -0.59)).is_none());
    }

    #[test]
    fn readings_on_the_wrong_side_of_zero_fail_the_strength_rule() {
        // Higher low of the indicator, but positive (buying) at both lows.
        assert!(check(&pair(PivotKind::Low, 100.0, 99.0, 0.7, 2.0)).is_none());
    }

    #[test]
    fn type_slots_are_distinct() {
        let mut slots = vec![
            type_slot(EventKind::Regular, Side::Bull),
            type_slot(EventKind::Regular, Side::Bear),
            type_slot(EventKind::Hidden, Side::Bull),
            type_slot(EventKind::Hidden, Side::Bear),
            type_slot(EventKind::Conflict, Side::None),
        ];
        slots.sort();
        assert_eq!(slots, vec![0, 1, 2, 3, 4]);
    }
}
