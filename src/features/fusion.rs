//! Blending the OFI and CVD z-scores: fusion and consistency.
//!
//! Fusion is the weighted mean of the two scores,
//!
//! ```text
//! fusion = (w_ofi z_ofi + w_cvd z_cvd) / (w_ofi + w_cvd)
//! ```
//!
//! so it stays on the z scale (and within the clip). Consistency measures
//! how far the two agree, in [0, 1]:
//!
//! ```text
//! consistency = 0.5 (1 + s min(|a|, |b|) / max(|a|, |b|)),   s = sign(a) sign(b)
//! ```
//!
//! 1 when both point the same way with equal strength, 0 when they point
//! opposite ways with equal strength, 0.5 when either is 0 (no opinion; by
//! definition also when both are 0). Both functions give NaN when either
//! score is NaN (a missing channel or a warm-up bar); consistency also
//! gives NaN for an infinite score, where the ratio is undefined. Both are
//! public because the data stage reuses them for feature recordings that
//! carry the two scores but no fusion.

use crate::core::ParamRangeError;

/// Checks fusion weights: finite, non-negative, not both zero.
pub fn validate_weights(w_ofi: f64, w_cvd: f64) -> Result<(), ParamRangeError> {
    for (name, w) in [("w_ofi", w_ofi), ("w_cvd", w_cvd)] {
        if !(w.is_finite() && w >= 0.0) {
            return Err(ParamRangeError::new(name, "[0, inf)", w));
        }
    }
    if w_ofi + w_cvd <= 0.0 {
        let sum = w_ofi + w_cvd;
        return Err(ParamRangeError::new("w_ofi + w_cvd", "(0, inf)", sum));
    }
    Ok(())
}

/// The weighted mean of the two scores, weights normalised to sum 1.
///
/// The weights must pass [`validate_weights`]. A weight of 0 still
/// propagates a NaN score: a missing channel leaves fusion undefined.
pub fn fuse(z_ofi: f64, z_cvd: f64, w_ofi: f64, w_cvd: f64) -> f64 {
    (w_ofi * z_ofi + w_cvd * z_cvd) / (w_ofi + w_cvd)
}

/// Agreement of the two scores in [0, 1]; NaN if either is not finite.
pub fn consistency(z_ofi: f64, z_cvd: f64) -> f64 {
    if !(z_ofi.is_finite() && z_cvd.is_finite()) {
        return f64::NAN;
    }
    let (small, large) = if z_ofi.abs() <= z_cvd.abs() {
        (z_ofi.abs(), z_cvd.abs())
    } else {
        (z_cvd.abs(), z_ofi.abs())
    };
    if large == 0.0 {
        return 0.5;
    }
    // With one score 0 the ratio is 0, so its sign does not matter.
    let same_sign = (z_ofi > 0.0) == (z_cvd > 0.0);
    let s = if same_sign { 1.0 } else { -1.0 };
    0.5 * (1.0 + s * small / large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_normalises_the_weights() {
        assert_eq!(fuse(2.0, 1.0, 3.0, 1.0), 1.75);
        assert_eq!(fuse(2.0, 1.0, 0.5, 0.5), 1.5);
        assert_eq!(fuse(2.0, 1.0, 1.0, 0.0), 2.0);
    }

    #[test]
    fn fusion_is_nan_when_a_score_is_missing_even_with_zero_weight() {
        assert!(fuse(f64::NAN, 1.0, 0.5, 0.5).is_nan());
        assert!(fuse(1.0, f64::NAN, 1.0, 0.0).is_nan());
    }

    #[test]
    fn negative_or_non_finite_weights_are_rejected() {
        let err = validate_weights(-0.1, 1.0).unwrap_err();
        assert_eq!(err.name, "w_ofi");
        assert_eq!(validate_weights(1.0, f64::NAN).unwrap_err().name, "w_cvd");
        assert_eq!(validate_weights(f64::INFINITY, 1.0).unwrap_err().name, "w_ofi");
    }

    #[test]
    fn both_zero_weights_are_rejected() {
        let err = validate_weights(0.0, 0.0).unwrap_err();
        assert_eq!(err.to_string(), "parameter `w_ofi + w_cvd` must be in (0, inf), got 0");
    }

    #[test]
    fn valid_weights_pass() {
        assert!(validate_weights(0.5, 0.5).is_ok());
        assert!(validate_weights(0.0, 2.0).is_ok());
    }

    #[test]
    fn consistency_of_same_sign_scores_is_half_plus_half_the_ratio() {
        assert_eq!(consistency(2.0, 1.0), 0.75);
        assert_eq!(consistency(-1.0, -4.0), 0.625);
        assert_eq!(consistency(3.0, 3.0), 1.0);
    }

    #[test]
    fn consistency_of_opposite_scores_is_below_half() {
        assert_eq!(consistency(2.0, -1.0), 0.25);
        assert_eq!(consistency(-3.0, 3.0), 0.0);
    }

    #[test]
    fn consistency_is_half_when_either_or_both_scores_are_zero() {
        assert_eq!(consistency(0.0, 0.0), 0.5);
        assert_eq!(consistency(0.0, -3.0), 0.5);
        assert_eq!(consistency(2.0, 0.0), 0.5);
        assert_eq!(consistency(-0.0, 2.0), 0.5);
    }

    #[test]
    fn consistency_is_nan_for_missing_or_infinite_scores() {
        assert!(consistency(f64::NAN, 1.0).is_nan());
        assert!(consistency(1.0, f64::NAN).is_nan());
        assert!(consistency(f64::INFINITY, 1.0).is_nan());
    }
}
