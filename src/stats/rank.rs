//! Spearman rank correlation with average ranks for ties and a t-test.
//!
//! Main types: [`Spearman`] (rho, t statistic, p-values, counts) and
//! [`SpearmanStatus`], which says why rho is undefined when it is.
//! [`fractional_ranks`] is public because calibration reports ranks too.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::core::ParamRangeError;
use crate::stats::check_same_len;

/// Why a Spearman correlation is, or is not, defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpearmanStatus {
    /// rho and the p-values are defined.
    Ok,
    /// Fewer than 3 complete pairs: the t-test has no degrees of freedom.
    TooFewPairs,
    /// Every x is tied: the ranks have no variance.
    ConstantX,
    /// Every y is tied (checked after x).
    ConstantY,
}

/// A Spearman rank correlation and its t-approximation p-values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spearman {
    /// Pearson correlation of the fractional ranks; NaN unless status is Ok.
    #[serde(with = "crate::stats::json_float")]
    pub rho: f64,
    /// rho sqrt((n - 2) / (1 - rho^2)); +-inf when |rho| = 1, NaN unless Ok.
    #[serde(with = "crate::stats::json_float")]
    pub t: f64,
    /// P(|T| >= |t|), T ~ Student t with n - 2 df; 1 unless Ok.
    #[serde(with = "crate::stats::json_float")]
    pub p_two_sided: f64,
    /// P(T >= t), the test of H1: rho > 0; 1 unless Ok.
    #[serde(with = "crate::stats::json_float")]
    pub p_greater: f64,
    /// Complete (non-NaN) pairs used.
    pub n: usize,
    /// Pairs dropped because x or y was NaN.
    pub n_dropped_nan: usize,
    pub status: SpearmanStatus,
}

/// Average ("fractional") ranks, 1-based: tied values share the mean of the
/// ranks they span, so 10, 20, 20, 30 rank 1, 2.5, 2.5, 4.
///
/// -0.0 and 0.0 are tied. NaN values get a NaN rank and take no rank, so
/// the other values rank as if the NaN were absent. Infinities rank as the
/// extremes. Empty input gives an empty vector.
pub fn fractional_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));

    let mut ranks = vec![f64::NAN; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold 1-based ranks start+1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = average);
        start = end;
    }
    ranks
}

/// Spearman's rank correlation of paired samples, with one- and two-sided
/// p-values from the t approximation.
///
/// Formula: rho = Pearson correlation of the fractional ranks of x and y
/// (exact with ties, unlike 1 - 6 sum d^2 / (n (n^2 - 1)), which assumes
/// none). t = rho sqrt((n - 2) / (1 - rho^2)) is referred to Student's t
/// with n - 2 degrees of freedom (statrs `StudentsT`).
///
/// Assumptions: pairs are independent; the t approximation is rough for
/// n < 10 (there an exact permutation test would be better) and ignores
/// the variance reduction from ties.
///
/// Edge cases: pairs with a NaN in x or y are dropped and counted. With
/// fewer than 3 pairs, or all x (then all y) tied, rho and t are NaN, both
/// p-values are 1 and `status` says why. |rho| = 1 gives t = +-inf,
/// p_two_sided = 0 and p_greater 0 (rho = 1) or 1 (rho = -1).
/// Errors: x and y of different lengths.
///
/// Reference: Spearman, C. (1904), "The proof and measurement of
/// association between two things", American Journal of Psychology 15(1),
/// 72-101; t approximation as in Zar, J. H. (2010), Biostatistical
/// Analysis, 5th ed., section 19.9.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Spearman, ParamRangeError> {
    check_same_len("y", y.len(), x.len())?;
    let (xs, ys): (Vec<f64>, Vec<f64>) =
        x.iter().zip(y).filter(|(a, b)| !a.is_nan() && !b.is_nan()).map(|(a, b)| (*a, *b)).unzip();
    let (n, n_dropped_nan) = (xs.len(), x.len() - xs.len());

    let status = degenerate_status(&xs, &ys);
    if status != SpearmanStatus::Ok {
        return Ok(undefined(n, n_dropped_nan, status));
    }

    let rho = pearson(&fractional_ranks(&xs), &fractional_ranks(&ys)).clamp(-1.0, 1.0);
    let (t, p_two_sided, p_greater) = t_test(rho, n);
    Ok(Spearman { rho, t, p_two_sided, p_greater, n, n_dropped_nan, status })
}

/// Too few pairs first, then constant x, then constant y.
fn degenerate_status(xs: &[f64], ys: &[f64]) -> SpearmanStatus {
    let constant = |v: &[f64]| v.iter().all(|a| *a == v[0]);
    if xs.len() < 3 {
        SpearmanStatus::TooFewPairs
    } else if constant(xs) {
        SpearmanStatus::ConstantX
    } else if constant(ys) {
        SpearmanStatus::ConstantY
    } else {
        SpearmanStatus::Ok
    }
}

fn undefined(n: usize, n_dropped_nan: usize, status: SpearmanStatus) -> Spearman {
    let nan = f64::NAN;
    Spearman { rho: nan, t: nan, p_two_sided: 1.0, p_greater: 1.0, n, n_dropped_nan, status }
}

/// (t, two-sided p, one-sided p for rho > 0) with n - 2 df; n >= 3.
fn t_test(rho: f64, n: usize) -> (f64, f64, f64) {
    if rho.abs() == 1.0 {
        let p_greater = if rho > 0.0 { 0.0 } else { 1.0 };
        return (rho * f64::INFINITY, 0.0, p_greater);
    }
    let df = (n - 2) as f64;
    let t = rho * (df / (1.0 - rho * rho)).sqrt();
    let dist = StudentsT::new(0.0, 1.0, df).expect("n >= 3 gives df >= 1");
    let (lower, upper) = (dist.cdf(t), dist.sf(t));
    (t, (2.0 * lower.min(upper)).min(1.0), upper)
}

/// Pearson correlation; callers guarantee non-constant inputs of equal length.
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Student t cdf with 3 df in closed form: with th = atan(t / sqrt 3),
    /// F(t) = 1/2 + (th + sin th cos th) / pi. Independent of statrs.
    fn t3_cdf(t: f64) -> f64 {
        let th = (t / 3f64.sqrt()).atan();
        0.5 + (th + th.sin() * th.cos()) / PI
    }

    /// Ties: x ranks 1, 2.5, 2.5, 4, 5 and y ranks 1, 3, 2, 4.5, 4.5. Rank
    /// deviations from 3: dx = -2, -.5, -.5, 1, 2; dy = -2, 0, -1, 1.5, 1.5.
    /// sum dx dy = 9, sum dx^2 = sum dy^2 = 9.5, so rho = 18 / 19. (The
    /// no-ties shortcut 1 - 6 * 1 / 120 would give 0.95.)
    const TIES_X: [f64; 5] = [1.0, 2.0, 2.0, 3.0, 4.0];
    const TIES_Y: [f64; 5] = [1.0, 3.0, 2.0, 4.0, 4.0];
    const TIES_RHO: f64 = 18.0 / 19.0;

    /// Decreasing: y ranks 4, 5, 3, 2, 1, d = -3, -3, 0, 2, 4, sum d^2 = 38,
    /// rho = 1 - 6 * 38 / 120 = -0.9; t = -0.9 sqrt(3 / 0.19) = -3.5762.
    const DEC_X: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
    const DEC_Y: [f64; 5] = [5.0, 6.0, 3.0, 2.0, 1.0];
    const DEC_RHO: f64 = -0.9;
    const DEC_T: f64 = -3.576237364075619;
    /// 2 * F_3(-3.5762) from the closed form above.
    const DEC_P_TWO_SIDED: f64 = 0.03738607346849865;

    #[test]
    fn fractional_ranks_average_tied_positions() {
        assert_eq!(fractional_ranks(&[10.0, 20.0, 20.0, 30.0]), vec![1.0, 2.5, 2.5, 4.0]);
        assert_eq!(fractional_ranks(&TIES_Y), vec![1.0, 3.0, 2.0, 4.5, 4.5]);
        assert_eq!(fractional_ranks(&[7.0, 7.0, 7.0]), vec![2.0, 2.0, 2.0]);
        assert_eq!(fractional_ranks(&[0.0, -0.0]), vec![1.5, 1.5]);
    }

    #[test]
    fn fractional_ranks_skip_nan_and_handle_empty() {
        let r = fractional_ranks(&[3.0, f64::NAN, 1.0, f64::INFINITY]);
        assert_eq!((r[0], r[2], r[3]), (2.0, 1.0, 3.0));
        assert!(r[1].is_nan());
        assert!(fractional_ranks(&[]).is_empty());
    }

    #[test]
    fn spearman_with_ties_matches_hand_value_and_rank_pearson() {
        let s = spearman(&TIES_X, &TIES_Y).unwrap();
        assert!((s.rho - TIES_RHO).abs() < 1e-15);
        let cross = pearson(&fractional_ranks(&TIES_X), &fractional_ranks(&TIES_Y));
        assert!((cross - TIES_RHO).abs() < 1e-15);
        assert_eq!(s.status, SpearmanStatus::Ok);
        assert!((s.p_greater - (1.0 - t3_cdf(s.t))).abs() < 1e-10);
    }

    #[test]
    fn spearman_of_decreasing_relation_matches_hand_value_and_t3_tail() {
        let s = spearman(&DEC_X, &DEC_Y).unwrap();
        assert!((s.rho - DEC_RHO).abs() < 1e-15);
        assert!((s.t - DEC_T).abs() < 1e-12);
        assert!((s.p_two_sided - DEC_P_TWO_SIDED).abs() < 1e-10);
        assert!((s.p_two_sided - 2.0 * t3_cdf(DEC_T)).abs() < 1e-10);
        assert!((s.p_greater - (1.0 - t3_cdf(DEC_T))).abs() < 1e-10);
        let cross = pearson(&fractional_ranks(&DEC_X), &fractional_ranks(&DEC_Y));
        assert!((cross - DEC_RHO).abs() < 1e-15);
    }

    #[test]
    fn spearman_on_three_pairs_uses_cauchy_tail() {
        // rho = 0.5, t = 1/sqrt 3; with 1 df P(T >= t) = 1/2 - atan(t)/pi = 1/3.
        let s = spearman(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap();
        assert!((s.rho - 0.5).abs() < 1e-15);
        assert!((s.p_greater - 1.0 / 3.0).abs() < 1e-10);
        assert!((s.p_two_sided - 2.0 / 3.0).abs() < 1e-10);
    }

    #[test]
    fn spearman_is_invariant_to_monotone_transforms() {
        let y_exp: Vec<f64> = DEC_Y.iter().map(|v| v.exp()).collect();
        let s = spearman(&DEC_X, &y_exp).unwrap();
        assert!((s.rho - DEC_RHO).abs() < 1e-15);
    }

    #[test]
    fn perfect_rank_agreement_gives_infinite_t_and_zero_p() {
        let s = spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 4.0, 9.0, 16.0]).unwrap();
        assert_eq!((s.rho, s.t, s.p_two_sided, s.p_greater), (1.0, f64::INFINITY, 0.0, 0.0));
        let s = spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]).unwrap();
        assert_eq!((s.rho, s.p_two_sided, s.p_greater), (-1.0, 0.0, 1.0));
    }

    #[test]
    fn fewer_than_three_pairs_is_undefined_with_p_one() {
        let s = spearman(&[1.0, 2.0], &[2.0, 1.0]).unwrap();
        assert_eq!(s.status, SpearmanStatus::TooFewPairs);
        assert!(s.rho.is_nan() && s.t.is_nan());
        assert_eq!((s.p_two_sided, s.p_greater), (1.0, 1.0));
        assert_eq!(spearman(&[], &[]).unwrap().status, SpearmanStatus::TooFewPairs);
    }

    #[test]
    fn constant_inputs_are_undefined_with_named_reason() {
        let s = spearman(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.status, SpearmanStatus::ConstantX);
        assert!(s.rho.is_nan());
        assert_eq!(s.p_greater, 1.0);
        let s = spearman(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]).unwrap();
        assert_eq!(s.status, SpearmanStatus::ConstantY);
    }

    #[test]
    fn nan_pairs_are_dropped_and_counted() {
        let x = [1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0, 9.0];
        let y = [5.0, 1.0, 6.0, 3.0, 2.0, 1.0, f64::NAN];
        let s = spearman(&x, &y).unwrap();
        assert_eq!((s.n, s.n_dropped_nan), (5, 2));
        assert!((s.rho - DEC_RHO).abs() < 1e-15);
    }

    #[test]
    fn nan_dropping_can_leave_too_few_pairs() {
        let s = spearman(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.status, s.n, s.n_dropped_nan), (SpearmanStatus::TooFewPairs, 2, 1));
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[1.0, 2.0]).unwrap_err().name, "y");
    }

    #[test]
    fn result_round_trips_through_json_including_nan_and_infinite_t() {
        let s = spearman(&TIES_X, &TIES_Y).unwrap();
        let back: Spearman = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        // serde_json parses floats to within one ulp unless its
        // `float_roundtrip` feature is on, so compare with a tolerance.
        assert!((back.rho - s.rho).abs() < 1e-15 && (back.t - s.t).abs() < 1e-14);
        assert_eq!((back.n, back.status), (s.n, s.status));
        let undefined = spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap();
        let text = serde_json::to_string(&undefined).unwrap();
        assert!(text.contains(r#""rho":null"#), "{text}");
        let back: Spearman = serde_json::from_str(&text).unwrap();
        assert!(back.rho.is_nan() && back.t.is_nan());
        let perfect = spearman(&[1.0, 2.0, 3.0], &[2.0, 4.0, 8.0]).unwrap();
        let back: Spearman =
            serde_json::from_str(&serde_json::to_string(&perfect).unwrap()).unwrap();
        assert_eq!(back.t, f64::INFINITY);
    }
}
