//! The 0-100 event score: a weighted sum of components, each in [0, 1].
//!
//! Divergence score = 100 times the sum of 0.30 divergence size, 0.25 swing,
//! 0.25 freshness, 0.10 agreement and 0.10 consistency. Conflict score = 100
//! times the sum of 0.70 stretch and 0.30 disagreement (1 - consistency). Each
//! component is a `ramp` (a clamped linear interpolation) of one reading;
//! docs/detector.md gives the reasoning. NaN consistency scores the neutral 0.5;
//! a zero price earns no swing credit.

/// Divergence weights: size, swing, freshness, agreement, consistency. Sum 1.
pub const DIVERGENCE_WEIGHTS: [f64; 5] = [0.30, 0.25, 0.25, 0.10, 0.10];
/// Conflict weights: stretch, disagreement (1 - consistency). Sum 1.
pub const CONFLICT_WEIGHTS: [f64; 2] = [0.70, 0.30];
/// Consistency credit when the reading is NaN or infinite.
pub const NEUTRAL_CONSISTENCY: f64 = 0.5;

/// `(x - lo) / (hi - lo)` clamped to [0, 1]; a step at `lo` when `hi <= lo`.
pub fn ramp(x: f64, lo: f64, hi: f64) -> f64 {
    if hi <= lo {
        return if x >= lo { 1.0 } else { 0.0 };
    }
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// How far the indicator disagreed with price: the gap between the two
/// pivot readings (both already past the thresholds), full credit at a gap
/// of `z_hi`. A regular divergence is exhaustion, pressure that faded from A
/// to B while price went on; the size of the fade, not the pressure left at
/// B, is what should predict the reversal.
pub fn divergence_size(strong: f64, weak: f64, z_hi: f64) -> f64 {
    ramp(strong - weak, 0.0, z_hi)
}

/// Half for the stronger reading from `z_hi` (0) to `2 z_hi` (full), half for the
/// weaker from `z_mid` (0) to `z_hi` (full): how far both flows are stretched.
pub fn stretch(strong: f64, weak: f64, z_hi: f64, z_mid: f64) -> f64 {
    0.5 * ramp(strong, z_hi, 2.0 * z_hi) + 0.5 * ramp(weak, z_mid, z_hi)
}

/// Price range over the pair relative to `|price_b|`, full credit at `full_bps`.
pub fn swing(span_high: f64, span_low: f64, price_b: f64, full_bps: f64) -> f64 {
    if price_b == 0.0 {
        return 0.0;
    }
    let range_bps = (span_high - span_low) / price_b.abs() * 1e4;
    ramp(range_bps, 0.0, full_bps)
}

/// Freshness of the pair: full credit at `min` bars apart, falling linearly
/// to none at `max`, so a comparison with a recent pivot counts more than
/// one with a pivot that is about to go stale; 1 if the ends are equal.
pub fn separation(d: u64, min: usize, max: usize) -> f64 {
    if max <= min {
        return 1.0;
    }
    1.0 - ramp(d as f64, min as f64, max as f64)
}

/// Consistency reading clamped to [0, 1]; neutral when not finite.
pub fn consistency(c: f64) -> f64 {
    if c.is_finite() {
        c.clamp(0.0, 1.0)
    } else {
        NEUTRAL_CONSISTENCY
    }
}

/// The five divergence components, each in [0, 1].
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct DivergenceParts {
    pub strength: f64,
    pub swing: f64,
    pub separation: f64,
    /// Confirming channels over channels present.
    pub agreement: f64,
    pub consistency: f64,
}

impl DivergenceParts {
    /// Weighted sum scaled to 0-100.
    pub fn total(&self) -> f64 {
        let c = [self.strength, self.swing, self.separation, self.agreement, self.consistency];
        100.0 * c.iter().zip(DIVERGENCE_WEIGHTS).map(|(c, w)| c * w).sum::<f64>()
    }
}

/// Conflict score 0-100: stretched OFI (vs `z_hi`) and CVD (vs `z_mid`), low consistency.
pub fn conflict(z_ofi: f64, z_cvd: f64, c: f64, z_hi: f64, z_mid: f64) -> f64 {
    let s = stretch(z_ofi.abs(), z_cvd.abs(), z_hi, z_mid);
    let disagreement = 1.0 - consistency(c);
    100.0 * (CONFLICT_WEIGHTS[0] * s + CONFLICT_WEIGHTS[1] * disagreement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn weights_sum_to_one() {
        assert!(close(DIVERGENCE_WEIGHTS.iter().sum(), 1.0));
        assert!(close(CONFLICT_WEIGHTS.iter().sum(), 1.0));
    }

    #[test]
    fn ramp_interpolates_clamps_and_steps_on_a_degenerate_range() {
        assert_eq!(ramp(1.5, 1.0, 2.0), 0.5);
        assert_eq!((ramp(0.0, 1.0, 2.0), ramp(9.0, 1.0, 2.0)), (0.0, 1.0));
        assert_eq!((ramp(0.99, 1.0, 1.0), ramp(1.0, 1.0, 1.0)), (0.0, 1.0));
        assert!(ramp(f64::NAN, 0.0, 1.0).is_nan());
    }

    #[test]
    fn stretch_at_thresholds_is_zero_and_saturates_at_twice_z_hi() {
        assert_eq!(stretch(1.6, 0.6, 1.6, 0.6), 0.0);
        assert!(close(stretch(2.4, 1.1, 1.6, 0.6), 0.5 * 0.5 + 0.5 * 0.5));
        assert_eq!(stretch(5.0, 3.0, 1.6, 0.6), 1.0);
    }

    #[test]
    fn divergence_size_grows_with_the_gap_between_readings() {
        assert_eq!(divergence_size(2.0, 2.0, 1.6), 0.0);
        assert!(close(divergence_size(2.4, 1.6, 1.6), 0.5));
        assert_eq!(divergence_size(4.0, 0.6, 1.6), 1.0);
    }

    #[test]
    fn swing_is_range_in_bps_of_price_b_and_zero_price_gets_none() {
        // Range 0.1 on price 100 = 10 bps = half of 20.
        assert!(close(swing(100.1, 100.0, 100.0, 20.0), 0.5));
        assert_eq!(swing(1.0, -1.0, 0.0, 20.0), 0.0);
        assert_eq!(swing(3.0, 3.0, 3.0, 20.0), 0.0);
    }

    #[test]
    fn freshness_is_full_at_the_closest_pair_and_none_at_the_furthest() {
        assert_eq!((separation(20, 20, 200), separation(200, 20, 200)), (1.0, 0.0));
        assert_eq!(separation(110, 20, 200), 0.5);
        assert!(close(separation(65, 20, 200), 0.75));
        assert_eq!(separation(7, 7, 7), 1.0);
    }

    #[test]
    fn nan_consistency_is_neutral_and_out_of_range_is_clamped() {
        assert_eq!(consistency(f64::NAN), 0.5);
        assert_eq!(consistency(f64::INFINITY), 0.5);
        assert_eq!((consistency(1.3), consistency(-0.2)), (1.0, 0.0));
    }

    #[test]
    fn divergence_total_is_the_weighted_sum_in_percent() {
        let p = DivergenceParts {
            strength: 1.0,
            swing: 0.5,
            separation: 0.0,
            agreement: 1.0,
            consistency: 0.5,
        };
        assert!(close(p.total(), 30.0 + 12.5 + 0.0 + 10.0 + 5.0));
    }

    #[test]
    fn conflict_score_rewards_stretch_and_disagreement() {
        // Strength 0.5*ramp(2.4;1.6..3.2)=0.25 + 0.5*ramp(1.1;0.6..1.6)=0.25 -> 0.5.
        assert!(close(conflict(2.4, -1.1, 0.2, 1.6, 0.6), 70.0 * 0.5 + 30.0 * 0.8));
        assert!(close(conflict(-1.6, 0.6, f64::NAN, 1.6, 0.6), 15.0));
    }
}
