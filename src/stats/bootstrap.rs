//! Moving-block bootstrap percentile interval for the mean of a series.
//!
//! Main type: [`BootstrapCi`]. Resampling whole blocks of consecutive
//! values keeps the short-range dependence (overlapping forward returns,
//! clustered events) that an i.i.d. bootstrap would destroy and so would
//! make the interval too narrow. The only randomness is a `ChaCha8Rng`
//! seeded by the caller, so a seed fixes the result on every platform.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::core::ParamRangeError;
use crate::stats::check_level;
use crate::stats::descriptive::quantile_sorted;

/// Resamples used when a caller has no reason to pick another.
pub const DEFAULT_RESAMPLES: usize = 1000;

/// A bootstrap percentile interval for a mean, with what produced it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapCi {
    /// Mean of the series (NaN dropped); NaN when nothing is left.
    #[serde(with = "crate::stats::json_float")]
    pub mean: f64,
    #[serde(with = "crate::stats::json_float")]
    pub lo: f64,
    #[serde(with = "crate::stats::json_float")]
    pub hi: f64,
    pub level: f64,
    /// Block length used: the requested one, capped at the series length.
    pub block_len: usize,
    pub n_resamples: usize,
    pub seed: u64,
    /// Values used (not NaN).
    pub n_used: usize,
    pub n_dropped_nan: usize,
}

/// The smallest l with l^3 >= n (at least 1): the n^(1/3) rate that
/// minimises the mean squared error of block-bootstrap variance estimates
/// (Hall, Horowitz and Jing 1995). Integer arithmetic, so no rounding
/// surprise at perfect cubes. `tune` uses the forward horizon instead when
/// it knows it, since that is the length of the dependence it creates.
pub fn default_block_len(n: usize) -> usize {
    let mut l = 1usize;
    while l.saturating_mul(l).saturating_mul(l) < n {
        l += 1;
    }
    l
}

/// Moving-block bootstrap (Kunsch 1989) percentile interval for the mean.
///
/// Method: with n values and block length l (capped at n), each resample
/// concatenates ceil(n / l) blocks x[s..s+l], with starts s drawn uniformly
/// from 0..=n-l, truncated to n values; its mean is recorded. The interval
/// is the type 7 quantiles at (1 - level) / 2 and (1 + level) / 2 of the
/// `n_resamples` means. Blocks do not wrap around (the plain moving-block
/// scheme), so the first and last l - 1 values are slightly under-drawn.
///
/// Assumptions: the series is stationary and its dependence dies out
/// within about l steps. The percentile interval is first-order accurate
/// only; it is meant as an honest width, not a precise coverage.
///
/// Edge cases: NaN values are dropped and counted (their neighbours become
/// adjacent); empty input (or all NaN) gives NaN mean and bounds; a
/// constant series gives lo = hi = the constant exactly (every resample
/// sums the same values); l = n gives a zero-width interval at the mean.
/// Errors: block_len = 0, n_resamples = 0, level outside (0, 1).
///
/// References: Kunsch, H. R. (1989), "The jackknife and the bootstrap for
/// general stationary observations", Annals of Statistics 17(3), 1217-1241;
/// Efron, B. and Tibshirani, R. J. (1993), An Introduction to the
/// Bootstrap, ch. 13 (percentile interval).
pub fn block_bootstrap_mean_ci(
    series: &[f64],
    block_len: usize,
    n_resamples: usize,
    level: f64,
    seed: u64,
) -> Result<BootstrapCi, ParamRangeError> {
    check_params(block_len, n_resamples, level)?;
    let values: Vec<f64> = series.iter().copied().filter(|v| !v.is_nan()).collect();
    let (n, block_len) = (values.len(), block_len.min(values.len()));
    let mut ci = BootstrapCi {
        mean: f64::NAN,
        lo: f64::NAN,
        hi: f64::NAN,
        level,
        block_len,
        n_resamples,
        seed,
        n_used: n,
        n_dropped_nan: series.len() - n,
    };
    if n == 0 {
        return Ok(ci);
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> =
        (0..n_resamples).map(|_| resample_mean(&values, block_len, &mut rng)).collect();
    means.sort_by(f64::total_cmp);
    ci.mean = block_summed_mean(&values, block_len);
    ci.lo = quantile_sorted(&means, (1.0 - level) / 2.0);
    ci.hi = quantile_sorted(&means, (1.0 + level) / 2.0);
    Ok(ci)
}

/// The sample mean, summed block by block like a resample, so that a
/// constant series gives a mean bit-identical to every resample mean.
fn block_summed_mean(values: &[f64], block_len: usize) -> f64 {
    let sum: f64 = values.chunks(block_len).map(|c| c.iter().sum::<f64>()).sum();
    sum / values.len() as f64
}

/// Mean of one resample of n values built from blocks of `block_len`.
fn resample_mean(values: &[f64], block_len: usize, rng: &mut ChaCha8Rng) -> f64 {
    let n = values.len();
    let mut sum = 0.0;
    let mut taken = 0;
    while taken < n {
        let start = rng.random_range(0..=n - block_len);
        let take = block_len.min(n - taken);
        // Summed value by value, not from prefix sums, so that equal values
        // give bit-identical block sums whatever starts were drawn.
        sum += values[start..start + take].iter().sum::<f64>();
        taken += take;
    }
    sum / n as f64
}

fn check_params(block_len: usize, n_resamples: usize, level: f64) -> Result<(), ParamRangeError> {
    if block_len == 0 {
        return Err(ParamRangeError::new("block_len", "[1, inf)", block_len));
    }
    if n_resamples == 0 {
        return Err(ParamRangeError::new("n_resamples", "[1, inf)", n_resamples));
    }
    check_level("level", level)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of 10 equal values: strongly dependent at lags below 10.
    fn persistent_series() -> Vec<f64> {
        (0..200).map(|i| if (i / 10) % 3 == 0 { 1.0 } else { -0.4 }).collect()
    }

    #[test]
    fn default_block_len_is_ceiling_cube_root() {
        let got: Vec<usize> = [0, 1, 2, 8, 9, 27, 28, 1000, 1001].map(default_block_len).to_vec();
        assert_eq!(got, vec![1, 1, 2, 2, 3, 3, 4, 10, 11]);
    }

    #[test]
    fn same_seed_gives_identical_interval() {
        let s = persistent_series();
        let a = block_bootstrap_mean_ci(&s, 10, DEFAULT_RESAMPLES, 0.95, 7).unwrap();
        let b = block_bootstrap_mean_ci(&s, 10, DEFAULT_RESAMPLES, 0.95, 7).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.lo.to_bits(), b.lo.to_bits());
    }

    #[test]
    fn different_seeds_give_different_draws() {
        let s = persistent_series();
        let a = block_bootstrap_mean_ci(&s, 10, 200, 0.95, 1).unwrap();
        let b = block_bootstrap_mean_ci(&s, 10, 200, 0.95, 2).unwrap();
        assert!(a.lo != b.lo || a.hi != b.hi);
    }

    #[test]
    fn constant_series_gives_zero_width_interval_at_the_constant() {
        let ci = block_bootstrap_mean_ci(&[0.1; 37], 4, 500, 0.9, 3).unwrap();
        assert_eq!((ci.lo, ci.hi), (ci.mean, ci.mean));
        assert!((ci.mean - 0.1).abs() < 1e-15);
    }

    #[test]
    fn block_as_long_as_series_gives_zero_width_interval() {
        let s = [3.0, -1.0, 4.0, 1.5];
        let ci = block_bootstrap_mean_ci(&s, 99, 50, 0.95, 11).unwrap();
        assert_eq!(ci.block_len, 4);
        assert_eq!((ci.mean, ci.lo, ci.hi), (1.875, 1.875, 1.875));
    }

    #[test]
    fn two_point_iid_bootstrap_reaches_both_extremes() {
        // Means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5 % and
        // 97.5 % quantiles of 1000 draws are 0 and 1.
        let ci = block_bootstrap_mean_ci(&[0.0, 1.0], 1, 1000, 0.95, 5).unwrap();
        assert_eq!((ci.mean, ci.lo, ci.hi), (0.5, 0.0, 1.0));
    }

    #[test]
    fn longer_blocks_widen_interval_for_dependent_series() {
        let s = persistent_series();
        let iid = block_bootstrap_mean_ci(&s, 1, 2000, 0.95, 9).unwrap();
        let blocks = block_bootstrap_mean_ci(&s, 10, 2000, 0.95, 9).unwrap();
        assert!(iid.lo <= iid.mean && iid.mean <= iid.hi);
        assert!(blocks.hi - blocks.lo > 1.5 * (iid.hi - iid.lo), "{iid:?} {blocks:?}");
    }

    #[test]
    fn empty_or_all_nan_series_gives_nan_interval() {
        for s in [&[][..], &[f64::NAN, f64::NAN][..]] {
            let ci = block_bootstrap_mean_ci(s, 5, 10, 0.95, 1).unwrap();
            assert!(ci.mean.is_nan() && ci.lo.is_nan() && ci.hi.is_nan());
            assert_eq!((ci.n_used, ci.block_len), (0, 0));
        }
    }

    #[test]
    fn nan_values_are_dropped_and_counted() {
        let ci = block_bootstrap_mean_ci(&[1.0, f64::NAN, 3.0], 2, 10, 0.95, 1).unwrap();
        assert_eq!((ci.n_used, ci.n_dropped_nan, ci.mean), (2, 1, 2.0));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let s = [1.0, 2.0];
        assert_eq!(block_bootstrap_mean_ci(&s, 0, 10, 0.95, 1).unwrap_err().name, "block_len");
        assert_eq!(block_bootstrap_mean_ci(&s, 1, 0, 0.95, 1).unwrap_err().name, "n_resamples");
        assert_eq!(block_bootstrap_mean_ci(&s, 1, 10, 1.0, 1).unwrap_err().name, "level");
    }

    #[test]
    fn interval_round_trips_through_json_even_when_nan() {
        let ci = block_bootstrap_mean_ci(&[], 5, 10, 0.95, 1).unwrap();
        let back: BootstrapCi = serde_json::from_str(&serde_json::to_string(&ci).unwrap()).unwrap();
        assert!(back.mean.is_nan() && back.lo.is_nan());
        assert_eq!((back.seed, back.n_resamples), (1, 10));
    }
}
