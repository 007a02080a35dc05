//! The statistics that `tune` and `calibrate` share, one file per topic.
//!
//! Every function states its formula, its assumptions, a reference and what
//! it does with empty input, ties, constant input and NaN; each of those
//! cases has a named test next to it. Nothing here reads a clock or global
//! state; the one randomised method (the block bootstrap) takes an explicit
//! seed and uses `ChaCha8Rng`, so results are byte-identical across runs.
//!
//! - [`descriptive`]: mean, median, quantile (Hyndman-Fan type 7), normal
//!   cdf and quantile.
//! - [`proportion`]: Wilson interval, one-sided binomial test (exact and
//!   with an effective sample size).
//! - [`overlap`]: effective sample size of events whose forward windows
//!   overlap, and a greedy non-overlapping subsample.
//! - [`multiple`]: Holm step-down adjustment, Bonferroni and Sidak
//!   corrections for "best of N".
//! - [`rank`]: Spearman rank correlation with average ranks and t-test.
//! - [`isotonic`]: weighted pool-adjacent-violators with a breakpoint
//!   representation and a clamped linear `interpolate`.
//! - [`bootstrap`]: moving-block bootstrap percentile interval for a mean.
//! - [`calibration`]: Brier score and expected calibration error.
//! - [`json_float`]: serde adapter so NaN and infinities survive JSON.
//!
//! Parameter errors are [`crate::core::ParamRangeError`]; data problems that
//! have a defined answer (NaN, empty input, constants) are not errors but
//! are reported in the result (a NaN value, a dropped count, a status).
//! docs/statistics.md describes each method and how divtune uses it.

pub mod bootstrap;
pub mod calibration;
pub mod descriptive;
pub mod isotonic;
pub mod json_float;
pub mod multiple;
pub mod overlap;
pub mod proportion;
pub mod rank;

pub use bootstrap::{block_bootstrap_mean_ci, default_block_len, BootstrapCi, DEFAULT_RESAMPLES};
pub use calibration::{
    brier_score, expected_calibration_error, CalibrationBin, Ece, DEFAULT_ECE_BINS,
};
pub use descriptive::{mean, median, normal_cdf, normal_quantile, quantile, quantile_sorted};
pub use isotonic::{interpolate, isotonic_fit, Breakpoint, IsotonicBlock, IsotonicFit};
pub use multiple::{bonferroni_best_of, holm_adjust, sidak_best_of};
pub use overlap::{
    effective_n_from_rho_sum, effective_sample_size, non_overlapping_subsample, overlap_rho_sum,
};
pub use proportion::{
    binomial_test_greater, binomial_test_greater_effective, wilson_interval, BinomialMethod,
    BinomialTest, WilsonInterval, DEFAULT_LEVEL,
};
pub use rank::{fractional_ranks, spearman, Spearman, SpearmanStatus};

use crate::core::ParamRangeError;

/// Checks that a confidence level lies strictly inside (0, 1).
pub(crate) fn check_level(name: &str, level: f64) -> Result<(), ParamRangeError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(ParamRangeError::new(name, "(0, 1)", level))
    }
}

/// Checks that two paired inputs have the same length.
pub(crate) fn check_same_len(
    name: &str,
    len: usize,
    expected: usize,
) -> Result<(), ParamRangeError> {
    if len == expected {
        Ok(())
    } else {
        Err(ParamRangeError::new(name, &format!("length {expected} (paired input)"), len))
    }
}

/// Checks that a probability lies in [0, 1]; NaN fails.
pub(crate) fn check_probability(name: &str, p: f64) -> Result<(), ParamRangeError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ParamRangeError::new(name, "[0, 1]", p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_check_rejects_bounds_and_nan() {
        assert!(check_level("level", 0.95).is_ok());
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            let err = check_level("level", bad).unwrap_err();
            assert_eq!(err.name, "level");
            assert_eq!(err.range, "(0, 1)");
        }
    }

    #[test]
    fn length_check_names_expected_and_seen_lengths() {
        assert!(check_same_len("y", 3, 3).is_ok());
        let err = check_same_len("y", 2, 3).unwrap_err();
        assert_eq!(err.to_string(), "parameter `y` must be in length 3 (paired input), got 2");
    }

    #[test]
    fn probability_check_accepts_closed_unit_interval_only() {
        assert!(check_probability("p0", 0.0).is_ok());
        assert!(check_probability("p0", 1.0).is_ok());
        assert!(check_probability("p0", 1.0 + 1e-12).is_err());
        assert!(check_probability("p0", f64::NAN).is_err());
    }
}
