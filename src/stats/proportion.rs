//! Inference on a hit rate: the Wilson score interval and a one-sided
//! binomial test against a base rate, exact or with an effective sample size.
//!
//! Main types: [`WilsonInterval`], [`BinomialTest`] (with its
//! [`BinomialMethod`]). Counts in the effective variants are real numbers,
//! because an effective sample size (see `stats::overlap`) rarely is whole.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, DiscreteCDF};
use statrs::function::beta::beta_reg;

use crate::core::ParamRangeError;
use crate::stats::descriptive::normal_quantile;
use crate::stats::{check_level, check_probability};

/// The confidence level used when a caller has no reason to pick another.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// A two-sided Wilson score interval for a binomial proportion.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WilsonInterval {
    /// Observed proportion k / n; NaN when n = 0.
    #[serde(with = "crate::stats::json_float")]
    pub point: f64,
    pub lo: f64,
    pub hi: f64,
    pub hits: f64,
    pub n: f64,
    pub level: f64,
}

/// Wilson (1927) score interval for hits `k` out of `n` at confidence `level`.
///
/// Formula, with p = k / n and z = Phi^-1(1 - (1 - level) / 2):
/// centre = (p + z^2 / (2n)) / (1 + z^2 / n),
/// half = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2)),
/// interval = [centre - half, centre + half], clamped to [0, 1] against
/// rounding. Unlike the Wald interval it stays inside [0, 1] and keeps a
/// sensible width at k = 0 or k = n.
///
/// Assumes independent trials. Counts may be non-integer so that a caller
/// can pass effective counts (k and n scaled by n_eff / n): the formula is
/// defined for real n > 0 and the point estimate is unchanged by scaling.
///
/// Edge cases: n = 0 gives point NaN and the uninformative interval (0, 1).
/// Errors: negative or non-finite n, k outside [0, n], level outside (0, 1).
///
/// Reference: Wilson, E. B. (1927), "Probable inference, the law of
/// succession, and statistical inference", JASA 22(158), 209-212.
pub fn wilson_interval(hits: f64, n: f64, level: f64) -> Result<WilsonInterval, ParamRangeError> {
    check_counts(hits, n)?;
    check_level("level", level)?;
    if n == 0.0 {
        return Ok(WilsonInterval { point: f64::NAN, lo: 0.0, hi: 1.0, hits, n, level });
    }

    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    let p = hits / n;
    let z2n = z * z / n;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt();
    let (lo, hi) = ((centre - half).max(0.0), (centre + half).min(1.0));
    Ok(WilsonInterval { point: p, lo, hi, hits, n, level })
}

/// How a binomial p-value was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinomialMethod {
    /// Exact binomial upper tail on integer counts.
    Exact,
    /// Upper tail extended to real counts through the regularized incomplete
    /// beta function, on counts scaled to an effective sample size.
    EffectiveBeta,
}

/// Result of a one-sided binomial test of H1: p > p0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinomialTest {
    /// Hits used by the test (scaled in the effective variant).
    pub hits: f64,
    /// Trials used by the test (n_eff in the effective variant).
    pub n: f64,
    pub p0: f64,
    /// hits / n; NaN when n = 0.
    #[serde(with = "crate::stats::json_float")]
    pub hit_rate: f64,
    /// P(X >= hits) under Binomial(n, p0).
    pub p_value: f64,
    pub method: BinomialMethod,
}

/// Exact one-sided binomial test: p-value = P(X >= k), X ~ Binomial(n, p0).
///
/// Computed as the statrs survival function P(X > k - 1), which statrs
/// evaluates through the regularized incomplete beta I_p0(k, n - k + 1).
/// Assumes independent trials with a common hit probability; overlapping
/// forward windows break that, see [`binomial_test_greater_effective`].
///
/// Edge cases: k = 0 or n = 0 gives p = 1 (no evidence against H0);
/// p0 = 0 with k > 0 gives p = 0; p0 = 1 gives p = 1.
/// Errors: k > n, p0 outside [0, 1] or NaN.
///
/// Reference: Conover, W. J. (1999), Practical Nonparametric Statistics,
/// 3rd ed., section 3.1 (the binomial test).
pub fn binomial_test_greater(hits: u64, n: u64, p0: f64) -> Result<BinomialTest, ParamRangeError> {
    check_counts(hits as f64, n as f64)?;
    check_probability("p0", p0)?;
    let p_value = if hits == 0 {
        1.0
    } else {
        let dist = Binomial::new(p0, n).map_err(|_| ParamRangeError::new("p0", "[0, 1]", p0))?;
        dist.sf(hits - 1)
    };
    let hit_rate = rate(hits as f64, n as f64);
    Ok(BinomialTest {
        hits: hits as f64,
        n: n as f64,
        p0,
        hit_rate,
        p_value,
        method: BinomialMethod::Exact,
    })
}

/// One-sided binomial test on an effective sample size `n_eff` <= n.
///
/// Overlapping forward windows make hits positively correlated, so the
/// exact test on raw counts overstates the evidence. The counts are scaled
/// to k_eff = k * n_eff / n (keeping the observed rate) and the upper tail
/// is continued to real counts with the identity
/// P(X >= k) = I_p0(k, n - k + 1) for X ~ Binomial(n, p0), where I is the
/// regularized incomplete beta function (statrs `beta_reg`).
///
/// Why this and not a normal approximation with continuity correction: it
/// equals the exact test whenever n_eff = n (so the two variants agree where
/// they should), is continuous and monotone in n_eff, and needs no
/// correction whose size is unclear for non-integer counts.
///
/// Edge cases: k = 0, n = 0 or n_eff = 0 gives p = 1; p0 = 0 with k > 0
/// gives p = 0; p0 = 1 gives p = 1.
/// Errors: k > n, n_eff outside [0, n] or NaN, p0 outside [0, 1].
///
/// References: Johnson, N. L., Kemp, A. W. and Kotz, S. (2005), Univariate
/// Discrete Distributions, 3rd ed., ch. 3 (the binomial tail as an
/// incomplete beta function); Kish, L. (1965), Survey Sampling (design
/// effect and effective sample size).
pub fn binomial_test_greater_effective(
    hits: u64,
    n: u64,
    n_eff: f64,
    p0: f64,
) -> Result<BinomialTest, ParamRangeError> {
    check_counts(hits as f64, n as f64)?;
    check_probability("p0", p0)?;
    if !(0.0..=n as f64).contains(&n_eff) {
        return Err(ParamRangeError::new("n_eff", &format!("[0, n = {n}]"), n_eff));
    }

    let k_eff = if n == 0 { 0.0 } else { hits as f64 * n_eff / n as f64 };
    let p_value = if k_eff == 0.0 { 1.0 } else { beta_reg(k_eff, n_eff - k_eff + 1.0, p0) };
    Ok(BinomialTest {
        hits: k_eff,
        n: n_eff,
        p0,
        hit_rate: rate(k_eff, n_eff),
        p_value,
        method: BinomialMethod::EffectiveBeta,
    })
}

fn rate(hits: f64, n: f64) -> f64 {
    if n == 0.0 {
        f64::NAN
    } else {
        hits / n
    }
}

/// Checks 0 <= k <= n < inf.
fn check_counts(hits: f64, n: f64) -> Result<(), ParamRangeError> {
    if !(n >= 0.0 && n.is_finite()) {
        return Err(ParamRangeError::new("n", "[0, inf)", n));
    }
    if !(0.0..=n).contains(&hits) {
        return Err(ParamRangeError::new("hits", &format!("[0, n = {n}]"), hits));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wilson 95 % for 8 / 10, worked with z = 1.959963984540054:
    /// centre = (0.8 + 0.192073) / 1.384146 = 0.716740,
    /// half = 1.41598 * sqrt(0.016 + 0.0096037) = 0.226578.
    const WILSON_8_10: (f64, f64) = (0.4901624715366418, 0.9433178485456248);

    #[test]
    fn wilson_matches_hand_value_for_eight_of_ten() {
        let w = wilson_interval(8.0, 10.0, 0.95).unwrap();
        assert_eq!(w.point, 0.8);
        assert!((w.lo - WILSON_8_10.0).abs() < 1e-9, "{w:?}");
        assert!((w.hi - WILSON_8_10.1).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn wilson_at_99_percent_is_wider_than_at_95() {
        let w99 = wilson_interval(8.0, 10.0, 0.99).unwrap();
        // Same formula with z = 2.5758293035489004.
        assert!((w99.lo - 0.4008186965216716).abs() < 1e-9);
        assert!((w99.hi - 0.9598688474953836).abs() < 1e-9);
    }

    #[test]
    fn wilson_with_zero_hits_starts_at_zero_and_ends_at_hand_value() {
        // Upper end z^2 / n / (1 + z^2 / n) = 0.384146 / 1.384146.
        let w = wilson_interval(0.0, 10.0, 0.95).unwrap();
        assert_eq!(w.lo, 0.0);
        assert!((w.hi - 0.2775327998628892).abs() < 1e-9);
    }

    #[test]
    fn wilson_with_all_hits_mirrors_zero_hits() {
        let w = wilson_interval(10.0, 10.0, 0.95).unwrap();
        assert!((w.lo - (1.0 - 0.2775327998628892)).abs() < 1e-9);
        assert!(w.hi <= 1.0 && w.hi > 1.0 - 1e-12);
    }

    #[test]
    fn wilson_with_no_trials_is_uninformative_with_nan_point() {
        let w = wilson_interval(0.0, 0.0, 0.95).unwrap();
        assert!(w.point.is_nan());
        assert_eq!((w.lo, w.hi), (0.0, 1.0));
    }

    #[test]
    fn wilson_accepts_effective_non_integer_counts() {
        // 8 / 10 scaled to n_eff = 5: same point, wider than 8 / 10.
        let w = wilson_interval(4.0, 5.0, 0.95).unwrap();
        let full = wilson_interval(8.0, 10.0, 0.95).unwrap();
        assert_eq!(w.point, 0.8);
        assert!(w.lo < full.lo && w.hi > full.hi);
        assert!(wilson_interval(2.5, 3.5, 0.95).is_ok());
    }

    #[test]
    fn wilson_rejects_bad_counts_level_and_nan() {
        assert_eq!(wilson_interval(11.0, 10.0, 0.95).unwrap_err().name, "hits");
        assert_eq!(wilson_interval(-1.0, 10.0, 0.95).unwrap_err().name, "hits");
        assert_eq!(wilson_interval(f64::NAN, 10.0, 0.95).unwrap_err().name, "hits");
        assert_eq!(wilson_interval(1.0, f64::NAN, 0.95).unwrap_err().name, "n");
        assert_eq!(wilson_interval(1.0, 10.0, 1.0).unwrap_err().name, "level");
    }

    #[test]
    fn exact_binomial_tail_matches_hand_sums() {
        // P(X >= 8 | 10, 1/2) = (C(10,8) + C(10,9) + C(10,10)) / 2^10 = 56 / 1024.
        let t = binomial_test_greater(8, 10, 0.5).unwrap();
        assert!((t.p_value - 56.0 / 1024.0).abs() < 1e-14);
        assert_eq!(t.hit_rate, 0.8);
        assert_eq!(t.method, BinomialMethod::Exact);
        // P(X >= 2 | 3, 0.2) = 3 * 0.04 * 0.8 + 0.008 = 0.104.
        let t = binomial_test_greater(2, 3, 0.2).unwrap();
        assert!((t.p_value - 0.104).abs() < 1e-14);
    }

    #[test]
    fn exact_binomial_with_zero_hits_or_trials_has_p_one() {
        assert_eq!(binomial_test_greater(0, 10, 0.3).unwrap().p_value, 1.0);
        let t = binomial_test_greater(0, 0, 0.3).unwrap();
        assert_eq!(t.p_value, 1.0);
        assert!(t.hit_rate.is_nan());
    }

    #[test]
    fn exact_binomial_at_degenerate_base_rates() {
        assert_eq!(binomial_test_greater(1, 10, 0.0).unwrap().p_value, 0.0);
        assert_eq!(binomial_test_greater(3, 10, 1.0).unwrap().p_value, 1.0);
    }

    #[test]
    fn exact_binomial_rejects_more_hits_than_trials_and_bad_p0() {
        assert_eq!(binomial_test_greater(11, 10, 0.5).unwrap_err().name, "hits");
        assert_eq!(binomial_test_greater(1, 10, f64::NAN).unwrap_err().name, "p0");
        assert_eq!(binomial_test_greater(1, 10, 1.5).unwrap_err().name, "p0");
    }

    #[test]
    fn effective_test_equals_exact_test_when_n_eff_is_n() {
        for (k, n, p0) in [(8, 10, 0.5), (2, 3, 0.2), (17, 40, 0.3), (40, 40, 0.9)] {
            let exact = binomial_test_greater(k, n, p0).unwrap().p_value;
            let eff = binomial_test_greater_effective(k, n, n as f64, p0).unwrap().p_value;
            assert!((exact - eff).abs() < 1e-12, "k={k} n={n}: {exact} vs {eff}");
        }
    }

    #[test]
    fn effective_test_with_halved_n_matches_exact_test_on_halved_counts() {
        // 8 / 10 with n_eff = 5 -> k_eff = 4: P(X >= 4 | 5, 1/2) = 6 / 32.
        let t = binomial_test_greater_effective(8, 10, 5.0, 0.5).unwrap();
        assert_eq!((t.hits, t.n), (4.0, 5.0));
        assert!((t.p_value - 6.0 / 32.0).abs() < 1e-12);
        assert_eq!(t.method, BinomialMethod::EffectiveBeta);
    }

    #[test]
    fn effective_p_value_falls_as_n_eff_grows_above_base_rate() {
        let mut last = 1.0;
        for n_eff in [2.0, 3.7, 5.5, 8.25, 12.0, 20.0] {
            let p = binomial_test_greater_effective(14, 20, n_eff, 0.5).unwrap().p_value;
            assert!(p < last, "n_eff={n_eff}: {p} !< {last}");
            last = p;
        }
    }

    #[test]
    fn effective_test_edge_cases_have_defined_p_values() {
        assert_eq!(binomial_test_greater_effective(0, 10, 4.0, 0.5).unwrap().p_value, 1.0);
        assert_eq!(binomial_test_greater_effective(0, 0, 0.0, 0.5).unwrap().p_value, 1.0);
        assert_eq!(binomial_test_greater_effective(3, 10, 0.0, 0.5).unwrap().p_value, 1.0);
        assert_eq!(binomial_test_greater_effective(3, 10, 4.0, 0.0).unwrap().p_value, 0.0);
        assert_eq!(binomial_test_greater_effective(3, 10, 4.0, 1.0).unwrap().p_value, 1.0);
    }

    #[test]
    fn effective_test_rejects_n_eff_above_n_or_nan() {
        assert_eq!(binomial_test_greater_effective(3, 10, 10.5, 0.5).unwrap_err().name, "n_eff");
        let err = binomial_test_greater_effective(3, 10, f64::NAN, 0.5).unwrap_err();
        assert_eq!(err.name, "n_eff");
    }
}
