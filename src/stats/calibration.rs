//! Scores for probability forecasts: the Brier score and the expected
//! calibration error over equal-width bins.
//!
//! Main types: [`Ece`] (the error and its per-bin table) and
//! [`CalibrationBin`]. Forecasts `p` and outcomes `y` are paired slices;
//! outcomes are usually 0/1 hits but any value in [0, 1] is accepted.

use serde::{Deserialize, Serialize};

use crate::core::ParamRangeError;
use crate::stats::{check_probability, check_same_len};

/// Bins used when a caller has no reason to pick another number.
pub const DEFAULT_ECE_BINS: usize = 10;

/// One equal-width bin of forecast probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
    /// Mean forecast in the bin; NaN when empty.
    #[serde(with = "crate::stats::json_float")]
    pub mean_p: f64,
    /// Mean outcome in the bin; NaN when empty.
    #[serde(with = "crate::stats::json_float")]
    pub mean_y: f64,
}

/// Expected calibration error with the table it was computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ece {
    /// sum_b n_b / N |mean_y_b - mean_p_b|; NaN when N = 0.
    #[serde(with = "crate::stats::json_float")]
    pub ece: f64,
    pub bins: Vec<CalibrationBin>,
    pub n_used: usize,
    pub n_dropped_nan: usize,
}

/// Brier (1950) score: mean of (p_i - y_i)^2 over complete pairs.
///
/// Lower is better; 0 is a perfect forecast, and a constant forecast equal
/// to the base rate b scores b (1 - b). Pairs with a NaN in p or y are
/// skipped; no complete pair gives NaN. Ties and constants need no care.
/// Errors: lengths differ, a non-NaN p or y outside [0, 1].
///
/// Reference: Brier, G. W. (1950), "Verification of forecasts expressed in
/// terms of probability", Monthly Weather Review 78(1), 1-3.
pub fn brier_score(p: &[f64], y: &[f64]) -> Result<f64, ParamRangeError> {
    let pairs = complete_pairs(p, y)?;
    if pairs.is_empty() {
        return Ok(f64::NAN);
    }
    let sum: f64 = pairs.iter().map(|(pi, yi)| (pi - yi) * (pi - yi)).sum();
    Ok(sum / pairs.len() as f64)
}

/// Expected calibration error over `n_bins` equal-width bins of [0, 1].
///
/// Formula: ECE = sum_b (n_b / N) |mean(y)_b - mean(p)_b|. A forecast p
/// falls in bin floor(p * B), with p = 1 in the last bin, so bin b covers
/// [b / B, (b + 1) / B) and the last bin is closed. Empty bins add nothing
/// and are reported with NaN means. Pairs with a NaN are skipped and
/// counted; no complete pair gives NaN. A constant forecast puts every pair
/// in one bin, where ECE is |base rate - p|.
/// Errors: lengths differ, n_bins = 0, a non-NaN p or y outside [0, 1].
///
/// ECE depends on the binning (few events per bin bias it upward); report
/// it next to the Brier score, not instead of it.
///
/// Reference: Naeini, M. P., Cooper, G. F. and Hauskrecht, M. (2015),
/// "Obtaining well calibrated probabilities using Bayesian binning", AAAI.
pub fn expected_calibration_error(
    p: &[f64],
    y: &[f64],
    n_bins: usize,
) -> Result<Ece, ParamRangeError> {
    if n_bins == 0 {
        return Err(ParamRangeError::new("n_bins", "[1, inf)", n_bins));
    }
    let pairs = complete_pairs(p, y)?;

    // Accumulate count and sums per bin.
    let mut sums = vec![(0usize, 0.0, 0.0); n_bins];
    for &(pi, yi) in &pairs {
        let b = ((pi * n_bins as f64) as usize).min(n_bins - 1);
        sums[b] = (sums[b].0 + 1, sums[b].1 + pi, sums[b].2 + yi);
    }

    // Turn sums into the table and the weighted gap.
    let total = pairs.len();
    let bins: Vec<CalibrationBin> =
        sums.iter().enumerate().map(|(b, &s)| bin_of(b, n_bins, s)).collect();
    let ece = if total == 0 {
        f64::NAN
    } else {
        let gap = |bin: &CalibrationBin| bin.n as f64 * (bin.mean_y - bin.mean_p).abs();
        bins.iter().filter(|bin| bin.n > 0).map(gap).sum::<f64>() / total as f64
    };
    Ok(Ece { ece, bins, n_used: total, n_dropped_nan: p.len() - total })
}

fn bin_of(b: usize, n_bins: usize, (n, sum_p, sum_y): (usize, f64, f64)) -> CalibrationBin {
    let (lo, hi) = (b as f64 / n_bins as f64, (b + 1) as f64 / n_bins as f64);
    let mean = |sum: f64| if n == 0 { f64::NAN } else { sum / n as f64 };
    CalibrationBin { lo, hi, n, mean_p: mean(sum_p), mean_y: mean(sum_y) }
}

/// Pairs without NaN, after checking lengths and that values lie in [0, 1].
fn complete_pairs(p: &[f64], y: &[f64]) -> Result<Vec<(f64, f64)>, ParamRangeError> {
    check_same_len("y", y.len(), p.len())?;
    let mut pairs = Vec::with_capacity(p.len());
    for (i, (&pi, &yi)) in p.iter().zip(y).enumerate() {
        if pi.is_nan() || yi.is_nan() {
            continue;
        }
        check_probability(&format!("p[{i}]"), pi)?;
        check_probability(&format!("y[{i}]"), yi)?;
        pairs.push((pi, yi));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: [f64; 4] = [0.1, 0.4, 0.35, 0.8];
    const Y: [f64; 4] = [0.0, 0.0, 1.0, 1.0];

    #[test]
    fn brier_matches_hand_value() {
        // (0.01 + 0.16 + 0.4225 + 0.04) / 4 = 0.158125.
        assert!((brier_score(&P, &Y).unwrap() - 0.158125).abs() < 1e-15);
    }

    #[test]
    fn brier_of_perfect_and_base_rate_forecasts() {
        assert_eq!(brier_score(&[1.0, 0.0], &[1.0, 0.0]).unwrap(), 0.0);
        // Constant 0.25 on a 1-in-4 base rate: 0.25 * 0.75 = 0.1875.
        let b = brier_score(&[0.25; 4], &[1.0, 0.0, 0.0, 0.0]).unwrap();
        assert!((b - 0.1875).abs() < 1e-15);
    }

    #[test]
    fn brier_skips_nan_pairs_and_is_nan_when_empty() {
        let b = brier_score(&[0.1, f64::NAN, 0.4], &[0.0, 1.0, f64::NAN]).unwrap();
        assert!((b - 0.01).abs() < 1e-15);
        assert!(brier_score(&[], &[]).unwrap().is_nan());
    }

    #[test]
    fn ece_with_one_forecast_per_bin_is_mean_absolute_gap() {
        // Bins 1, 4, 3, 8; gaps 0.1, 0.4, 0.65, 0.2 -> 1.35 / 4 = 0.3375.
        let e = expected_calibration_error(&P, &Y, DEFAULT_ECE_BINS).unwrap();
        assert!((e.ece - 0.3375).abs() < 1e-15);
        let counts: Vec<usize> = e.bins.iter().map(|b| b.n).collect();
        assert_eq!(counts, vec![0, 1, 0, 1, 1, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn ece_with_two_bins_pools_forecasts_by_hand() {
        // [0, 0.5): mean p 0.85 / 3, mean y 1 / 3, gap 0.05, weight 3/4.
        // [0.5, 1]: p 0.8, y 1, gap 0.2, weight 1/4. ECE = 0.0375 + 0.05.
        let e = expected_calibration_error(&P, &Y, 2).unwrap();
        assert!((e.ece - 0.0875).abs() < 1e-15);
        assert!((e.bins[0].mean_p - 0.85 / 3.0).abs() < 1e-15);
        assert_eq!((e.bins[1].lo, e.bins[1].hi), (0.5, 1.0));
    }

    #[test]
    fn ece_puts_probability_one_in_last_bin_and_zero_in_first() {
        let e = expected_calibration_error(&[0.0, 1.0], &[0.0, 1.0], 4).unwrap();
        assert_eq!((e.bins[0].n, e.bins[3].n), (1, 1));
        assert_eq!(e.ece, 0.0);
    }

    #[test]
    fn ece_of_constant_forecast_is_gap_to_base_rate() {
        let e = expected_calibration_error(&[0.3; 4], &[1.0, 0.0, 0.0, 0.0], 10).unwrap();
        assert!((e.ece - 0.05).abs() < 1e-15);
    }

    #[test]
    fn ece_reports_empty_bins_as_nan_and_empty_input_as_nan() {
        let e = expected_calibration_error(&P, &Y, 10).unwrap();
        assert!(e.bins[0].mean_p.is_nan() && e.bins[0].mean_y.is_nan());
        let empty = expected_calibration_error(&[], &[], 10).unwrap();
        assert!(empty.ece.is_nan());
        assert_eq!(empty.bins.len(), 10);
    }

    #[test]
    fn ece_skips_and_counts_nan_pairs() {
        let e = expected_calibration_error(&[0.1, f64::NAN, 0.9], &[0.0, 1.0, 1.0], 10).unwrap();
        assert_eq!((e.n_used, e.n_dropped_nan), (2, 1));
        assert!((e.ece - 0.1).abs() < 1e-15);
    }

    #[test]
    fn out_of_range_values_zero_bins_and_lengths_are_rejected() {
        assert_eq!(brier_score(&[1.2], &[1.0]).unwrap_err().name, "p[0]");
        assert_eq!(brier_score(&[0.2, 0.3], &[1.0, 2.0]).unwrap_err().name, "y[1]");
        assert_eq!(brier_score(&[0.2], &[]).unwrap_err().name, "y");
        assert_eq!(expected_calibration_error(&P, &Y, 0).unwrap_err().name, "n_bins");
    }

    #[test]
    fn ece_round_trips_through_json_with_empty_bins() {
        let e = expected_calibration_error(&P, &Y, 10).unwrap();
        let back: Ece = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back.ece, e.ece);
        assert!(back.bins[0].mean_p.is_nan());
        assert_eq!(back.bins[1], e.bins[1]);
    }
}
