//! Multiple-testing corrections: Holm's step-down adjustment of a family of
//! p-values, and Bonferroni / Sidak corrections for the best of N tries.
//!
//! The tuner tries many parameter sets and keeps the best; the p-value of
//! the winner alone is optimistic by the number of sets tried. These
//! functions turn raw p-values into ones that account for that search.

use crate::core::ParamRangeError;
use crate::stats::check_probability;

/// Holm (1979) step-down adjusted p-values, returned in the input order.
///
/// Formula: sort the m p-values ascending, p_(1) <= ... <= p_(m); then
/// adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)). The running maximum
/// makes the adjusted values monotone in the raw ones; rejecting where
/// adj <= alpha controls the family-wise error rate at alpha under any
/// dependence between the tests.
///
/// Ties: equal raw p-values get equal adjusted values (the running maximum
/// carries the first of them forward). NaN entries stay NaN in the output,
/// are ordered after every number and still count in m, because the test
/// was tried (conservative). Empty input gives an empty vector.
/// Errors: a non-NaN value outside [0, 1].
///
/// Reference: Holm, S. (1979), "A simple sequentially rejective multiple
/// test procedure", Scandinavian Journal of Statistics 6(2), 65-70.
pub fn holm_adjust(p_values: &[f64]) -> Result<Vec<f64>, ParamRangeError> {
    for (i, &p) in p_values.iter().enumerate() {
        if !p.is_nan() {
            check_probability(&format!("p_values[{i}]"), p)?;
        }
    }

    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    // NaN (of either sign) goes last; the sort is stable for ties.
    order.sort_by(|&a, &b| {
        let (pa, pb) = (p_values[a], p_values[b]);
        pa.is_nan().cmp(&pb.is_nan()).then(pa.total_cmp(&pb))
    });

    let mut adjusted = vec![f64::NAN; m];
    let mut running_max: f64 = 0.0;
    for (rank, &idx) in order.iter().enumerate() {
        let p = p_values[idx];
        if p.is_nan() {
            continue;
        }
        running_max = running_max.max(((m - rank) as f64 * p).min(1.0));
        adjusted[idx] = running_max;
    }
    Ok(adjusted)
}

/// Bonferroni bound for the best of `n_tests` p-values: min(1, N p).
///
/// Valid under any dependence between the N tests; N = 1 returns p.
/// Errors: p outside [0, 1] or NaN, N = 0.
///
/// Reference: Dunn, O. J. (1961), "Multiple comparisons among means",
/// JASA 56(293), 52-64.
pub fn bonferroni_best_of(p: f64, n_tests: usize) -> Result<f64, ParamRangeError> {
    check_best_of(p, n_tests)?;
    Ok((n_tests as f64 * p).min(1.0))
}

/// Sidak correction for the best of `n_tests` p-values: 1 - (1 - p)^N.
///
/// Exact when the N tests are independent (the chance that at least one of
/// N null p-values falls below p), and slightly less conservative than
/// Bonferroni. Computed as -expm1(N ln1p(-p)) so that tiny p do not vanish
/// in 1 - (1 - p). Parameter sets on one dataset are positively dependent,
/// which makes this conservative rather than exact.
/// Errors: p outside [0, 1] or NaN, N = 0.
///
/// Reference: Sidak, Z. (1967), "Rectangular confidence regions for the
/// means of multivariate normal distributions", JASA 62(318), 626-633.
pub fn sidak_best_of(p: f64, n_tests: usize) -> Result<f64, ParamRangeError> {
    check_best_of(p, n_tests)?;
    Ok((-(n_tests as f64 * (-p).ln_1p()).exp_m1()).min(1.0))
}

fn check_best_of(p: f64, n_tests: usize) -> Result<(), ParamRangeError> {
    check_probability("p", p)?;
    if n_tests == 0 {
        return Err(ParamRangeError::new("n_tests", "[1, inf)", n_tests));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12 || (g.is_nan() && w.is_nan()), "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn holm_matches_hand_worked_family_in_original_order() {
        // Sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, 1*0.04
        // = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
        let adj = holm_adjust(&[0.01, 0.04, 0.03, 0.005]).unwrap();
        assert_close(&adj, &[0.03, 0.06, 0.06, 0.02]);
    }

    #[test]
    fn holm_caps_at_one() {
        // 3 * 0.5 = 1.5 -> 1; later values keep the cap.
        let adj = holm_adjust(&[0.5, 0.6, 0.9]).unwrap();
        assert_close(&adj, &[1.0, 1.0, 1.0]);
    }

    #[test]
    fn holm_gives_tied_p_values_equal_adjustments() {
        // Sorted 0.01, 0.02, 0.02 -> 0.03, 0.04, 0.02 -> max 0.03, 0.04, 0.04.
        let adj = holm_adjust(&[0.02, 0.01, 0.02]).unwrap();
        assert_close(&adj, &[0.04, 0.03, 0.04]);
    }

    #[test]
    fn holm_adjusted_values_are_monotone_in_raw_values() {
        let raw = [0.2, 0.001, 0.04, 0.03, 0.5, 0.0101, 0.01];
        let adj = holm_adjust(&raw).unwrap();
        for i in 0..raw.len() {
            for j in 0..raw.len() {
                if raw[i] <= raw[j] {
                    assert!(adj[i] <= adj[j], "{raw:?} -> {adj:?}");
                }
            }
            assert!(adj[i] >= raw[i]);
        }
    }

    #[test]
    fn holm_keeps_nan_in_place_and_counts_it_in_m() {
        // m = 3 including the NaN: 3 * 0.01 = 0.03, 2 * 0.02 = 0.04.
        let adj = holm_adjust(&[0.02, f64::NAN, 0.01]).unwrap();
        assert_close(&adj, &[0.04, f64::NAN, 0.03]);
        let adj = holm_adjust(&[0.02, -f64::NAN, 0.01]).unwrap();
        assert_close(&adj, &[0.04, f64::NAN, 0.03]);
    }

    #[test]
    fn holm_of_empty_family_is_empty_and_single_is_unchanged() {
        assert!(holm_adjust(&[]).unwrap().is_empty());
        assert_close(&holm_adjust(&[0.07]).unwrap(), &[0.07]);
    }

    #[test]
    fn holm_rejects_values_outside_unit_interval() {
        assert_eq!(holm_adjust(&[0.1, 1.2]).unwrap_err().name, "p_values[1]");
        assert!(holm_adjust(&[-0.1]).is_err());
    }

    #[test]
    fn bonferroni_and_sidak_best_of_ten_match_hand_values() {
        assert!((bonferroni_best_of(0.01, 10).unwrap() - 0.1).abs() < 1e-15);
        // 1 - 0.99^10 = 0.0956179249911955...
        assert!((sidak_best_of(0.01, 10).unwrap() - 0.095_617_924_991_195_5).abs() < 1e-15);
    }

    #[test]
    fn best_of_one_returns_the_raw_p_value() {
        assert_eq!(bonferroni_best_of(0.03, 1).unwrap(), 0.03);
        assert!((sidak_best_of(0.03, 1).unwrap() - 0.03).abs() < 1e-16);
    }

    #[test]
    fn sidak_keeps_precision_for_tiny_p_and_caps_at_one() {
        // 1 - (1 - 1e-18)^1000 = 1e-15 to first order; naive 1 - (1 - p)^N gives 0.
        assert!((sidak_best_of(1e-18, 1000).unwrap() - 1e-15).abs() < 1e-25);
        assert_eq!(sidak_best_of(1.0, 5).unwrap(), 1.0);
        assert_eq!(bonferroni_best_of(0.3, 5).unwrap(), 1.0);
        assert_eq!(sidak_best_of(0.0, 5).unwrap(), 0.0);
    }

    #[test]
    fn sidak_is_never_above_bonferroni() {
        for p in [1e-6, 0.001, 0.01, 0.05, 0.2] {
            for n in [1, 2, 10, 300] {
                assert!(sidak_best_of(p, n).unwrap() <= bonferroni_best_of(p, n).unwrap());
            }
        }
    }

    #[test]
    fn best_of_rejects_zero_tests_and_bad_p() {
        assert_eq!(sidak_best_of(0.1, 0).unwrap_err().name, "n_tests");
        assert_eq!(bonferroni_best_of(f64::NAN, 3).unwrap_err().name, "p");
        assert_eq!(sidak_best_of(1.5, 3).unwrap_err().name, "p");
    }
}
