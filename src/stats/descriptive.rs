//! Small descriptive helpers: mean, median, sample quantile and the
//! standard normal cdf and quantile.
//!
//! All three summaries ignore NaN (they are "NaN-filtered") and return NaN
//! when nothing is left, so an empty bucket reads as "no data" rather than
//! as zero. Infinite values are kept: they are data, not missing.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::core::ParamRangeError;

/// Arithmetic mean of the non-NaN values; NaN when there are none.
///
/// Formula: sum(x_i) / n over the values that are not NaN. A constant input
/// returns that constant; infinities propagate (inf + -inf gives NaN).
pub fn mean(values: &[f64]) -> f64 {
    let (sum, n) =
        values.iter().filter(|v| !v.is_nan()).fold((0.0, 0usize), |(sum, n), v| (sum + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// Median of the non-NaN values (the type 7 quantile at 0.5, i.e. the mean
/// of the two middle values for an even count); NaN when there are none.
pub fn median(values: &[f64]) -> f64 {
    quantile_sorted(&sorted_non_nan(values), 0.5)
}

/// Sample quantile of the non-NaN values by Hyndman and Fan (1996) type 7,
/// the default of R and NumPy.
///
/// Formula: with the sorted values x_(1) <= ... <= x_(n) and h = (n - 1) q,
/// Q(q) = x_(floor h + 1) + (h - floor h) (x_(floor h + 2) - x_(floor h + 1)).
/// Ties need no special care (equal order statistics interpolate to
/// themselves). Empty or all-NaN input gives NaN; `q` outside [0, 1] or NaN
/// is an error.
///
/// Reference: Hyndman, R. J. and Fan, Y. (1996), "Sample quantiles in
/// statistical packages", The American Statistician 50(4), 361-365.
pub fn quantile(values: &[f64], q: f64) -> Result<f64, ParamRangeError> {
    crate::stats::check_probability("q", q)?;
    Ok(quantile_sorted(&sorted_non_nan(values), q))
}

/// Type 7 quantile of values already sorted ascending and free of NaN.
///
/// The caller guarantees order; `q` is clamped to [0, 1] and NaN `q` gives
/// NaN. Empty input gives NaN. Used where the same sorted sample is queried
/// twice (bootstrap percentiles).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    // An exact hit needs no neighbour; this also keeps infinities finite-safe
    // (inf + 0 * (inf - inf) would be NaN).
    if frac == 0.0 || lo + 1 >= sorted.len() {
        sorted[lo]
    } else {
        sorted[lo] + frac * (sorted[lo + 1] - sorted[lo])
    }
}

/// Standard normal cumulative distribution function Phi(x), via statrs
/// (absolute error about 1e-11, ample for p-values).
/// NaN gives NaN; -inf gives 0 and +inf gives 1.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    standard_normal().cdf(x)
}

/// Standard normal quantile Phi^-1(p), via statrs.
///
/// p = 0 gives -inf and p = 1 gives +inf; p outside [0, 1] or NaN gives NaN
/// (statrs would panic there, and a quantile of an impossible probability
/// has no value).
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    standard_normal().inverse_cdf(p)
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// The non-NaN values, sorted ascending.
fn sorted_non_nan(values: &[f64]) -> Vec<f64> {
    let mut kept: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    kept.sort_by(f64::total_cmp);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;

    #[test]
    fn mean_of_small_sample_is_hand_value() {
        assert_eq!(mean(&[1.0, 2.0, 4.0, 5.0]), 3.0);
    }

    #[test]
    fn mean_ignores_nan_and_is_nan_when_empty() {
        assert_eq!(mean(&[NAN, 2.0, NAN, 4.0]), 3.0);
        assert!(mean(&[]).is_nan());
        assert!(mean(&[NAN, NAN]).is_nan());
    }

    #[test]
    fn mean_of_constant_is_the_constant() {
        assert_eq!(mean(&[0.25; 8]), 0.25);
    }

    #[test]
    fn median_of_odd_and_even_counts_is_hand_value() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn median_ignores_nan_and_is_nan_when_empty() {
        assert_eq!(median(&[NAN, 7.0, 1.0, NAN, 4.0]), 4.0);
        assert!(median(&[]).is_nan());
        assert!(median(&[NAN]).is_nan());
    }

    #[test]
    fn median_with_ties_returns_the_tied_value() {
        assert_eq!(median(&[2.0, 2.0, 2.0, 9.0]), 2.0);
    }

    #[test]
    fn quantile_type7_matches_hand_interpolation() {
        // Sorted 1, 2, 4, 8: h = 3 * 0.25 = 0.75 -> 1 + 0.75 * (2 - 1) = 1.75.
        let x = [8.0, 1.0, 4.0, 2.0];
        assert_eq!(quantile(&x, 0.25).unwrap(), 1.75);
        // h = 3 * 0.9 = 2.7 -> 4 + 0.7 * 4 = 6.8 (up to rounding of 0.7).
        assert!((quantile(&x, 0.9).unwrap() - 6.8).abs() < 1e-12);
        assert_eq!(quantile(&x, 0.0).unwrap(), 1.0);
        assert_eq!(quantile(&x, 1.0).unwrap(), 8.0);
    }

    #[test]
    fn quantile_rejects_probability_outside_unit_interval() {
        assert!(quantile(&[1.0], 1.5).is_err());
        assert!(quantile(&[1.0], NAN).is_err());
    }

    #[test]
    fn quantile_of_empty_or_all_nan_is_nan() {
        assert!(quantile(&[], 0.5).unwrap().is_nan());
        assert!(quantile(&[NAN], 0.5).unwrap().is_nan());
    }

    #[test]
    fn quantile_of_constant_is_the_constant() {
        assert_eq!(quantile(&[3.5; 5], 0.37).unwrap(), 3.5);
    }

    #[test]
    fn quantile_at_an_infinite_order_statistic_does_not_turn_nan() {
        let x = [1.0, f64::INFINITY];
        assert_eq!(quantile(&x, 1.0).unwrap(), f64::INFINITY);
        assert_eq!(quantile(&x, 0.5).unwrap(), f64::INFINITY);
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        assert_eq!(normal_cdf(0.0), 0.5);
        // Reference values from erfc; statrs agrees to about 1e-11.
        assert!((normal_cdf(1.959963984540054) - 0.975).abs() < 1e-10);
        assert!((normal_cdf(-1.0) - 0.15865525393145707).abs() < 1e-10);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert!(normal_cdf(NAN).is_nan());
    }

    #[test]
    fn normal_quantile_inverts_cdf_and_handles_bounds() {
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-9);
        assert_eq!(normal_quantile(0.5), 0.0);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(1.2).is_nan());
        assert!(normal_quantile(NAN).is_nan());
    }
}
