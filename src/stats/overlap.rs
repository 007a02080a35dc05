//! Effective sample size of events whose forward windows overlap.
//!
//! Two events t_i <= t_j labelled with forward returns over H bars share
//! max(0, H - (t_j - t_i)) bars of their windows. Under a random walk with
//! independent increments the correlation of the two H-bar returns is the
//! shared fraction rho_ij = max(0, 1 - (t_j - t_i) / H). The variance of
//! the mean of n such outcomes is (sigma^2 / n) * (1 + 2/n * sum_{i<j} rho_ij),
//! a design effect in the sense of Kish, so the sample carries the
//! information of n_eff = n / (1 + 2/n * S) = n^2 / (n + 2 S) independent
//! events, with S = sum_{i<j} rho_ij.
//!
//! S is additive, so `tune` can compute it per (symbol, day), where bar
//! indices are comparable, sum it across shards with n, and only then call
//! [`effective_n_from_rho_sum`]. [`non_overlapping_subsample`] is the blunt
//! alternative: drop events until no two windows overlap.

use crate::core::ParamRangeError;

/// Sum over pairs i < j of rho_ij = max(0, 1 - (t_j - t_i) / H).
///
/// `event_bars` are bar indices within one symbol-day, sorted ascending;
/// repeated indices (events at the same bar) are allowed and count as
/// fully correlated (rho = 1). Runs in O(n): a sliding window keeps the
/// count and the index sum of earlier events within H bars, so the pair sum
/// is C - D / H with C the number of overlapping pairs and D the sum of
/// their gaps, both exact integers.
///
/// Edge cases: fewer than two events give 0. Errors: `horizon_bars` = 0,
/// unsorted input (names the first position out of order).
pub fn overlap_rho_sum(event_bars: &[usize], horizon_bars: usize) -> Result<f64, ParamRangeError> {
    check_horizon(horizon_bars)?;
    check_sorted(event_bars)?;

    let (mut pairs, mut gaps) = (0u128, 0u128);
    let (mut start, mut window_sum) = (0usize, 0u128);
    for (j, &t) in event_bars.iter().enumerate() {
        // Drop earlier events whose window ends before t (gap >= H).
        while t - event_bars[start] >= horizon_bars {
            window_sum -= event_bars[start] as u128;
            start += 1;
        }
        let count = (j - start) as u128;
        pairs += count;
        gaps += count * t as u128 - window_sum;
        window_sum += t as u128;
    }
    Ok(pairs as f64 - gaps as f64 / horizon_bars as f64)
}

/// n_eff = n^2 / (n + 2 S) from an event count and a pair sum S from
/// [`overlap_rho_sum`] (summed over independent groups if need be).
///
/// Ranges from n (no overlap, S = 0) down to 1 (all n events at one bar,
/// S = n (n - 1) / 2). n = 0 gives 0. Errors: S negative or NaN.
pub fn effective_n_from_rho_sum(n: usize, rho_sum: f64) -> Result<f64, ParamRangeError> {
    if rho_sum.is_nan() || rho_sum < 0.0 {
        return Err(ParamRangeError::new("rho_sum", "[0, inf)", rho_sum));
    }
    if n == 0 {
        return Ok(0.0);
    }
    let n = n as f64;
    Ok(n * n / (n + 2.0 * rho_sum))
}

/// Effective sample size of events at sorted bar indices with forward
/// windows of `horizon_bars` bars: [`overlap_rho_sum`] then
/// [`effective_n_from_rho_sum`].
///
/// Assumption: outcomes are H-bar returns of a random walk, so rho_ij is the
/// window overlap fraction. For hit indicators (signs of returns) the true
/// correlation is smaller (for Gaussian returns it is (2 / pi) asin(rho) <=
/// rho), so this n_eff errs on the conservative side. Clustering of events
/// for reasons other than overlap (regimes) is not modelled.
///
/// References: Kish, L. (1965), Survey Sampling, Wiley (design effect);
/// Hansen, L. P. and Hodrick, R. J. (1980), "Forward exchange rates as
/// optimal predictors of future spot rates", JPE 88(5), 829-853
/// (correlation induced by overlapping observations).
pub fn effective_sample_size(
    event_bars: &[usize],
    horizon_bars: usize,
) -> Result<f64, ParamRangeError> {
    let rho_sum = overlap_rho_sum(event_bars, horizon_bars)?;
    effective_n_from_rho_sum(event_bars.len(), rho_sum)
}

/// Positions (into `event_bars`) of a greedy non-overlapping subsample: the
/// first event is kept, and each later event is kept only if it starts at
/// least `horizon_bars` bars after the last kept one, so no two kept
/// windows share a bar.
///
/// Greedy-from-the-left keeps the maximum possible number of events for
/// equal-length windows (the interval-scheduling argument) and uses only
/// past information, so it is what a live filter could do. Events at the
/// same bar keep only the first. Empty input gives an empty vector.
/// Errors: `horizon_bars` = 0, unsorted input.
pub fn non_overlapping_subsample(
    event_bars: &[usize],
    horizon_bars: usize,
) -> Result<Vec<usize>, ParamRangeError> {
    check_horizon(horizon_bars)?;
    check_sorted(event_bars)?;
    let mut kept: Vec<usize> = Vec::new();
    for (pos, &t) in event_bars.iter().enumerate() {
        if kept.last().is_none_or(|&last| t - event_bars[last] >= horizon_bars) {
            kept.push(pos);
        }
    }
    Ok(kept)
}

fn check_horizon(horizon_bars: usize) -> Result<(), ParamRangeError> {
    if horizon_bars == 0 {
        return Err(ParamRangeError::new("horizon_bars", "[1, inf)", 0));
    }
    Ok(())
}

fn check_sorted(event_bars: &[usize]) -> Result<(), ParamRangeError> {
    match event_bars.windows(2).position(|w| w[1] < w[0]) {
        None => Ok(()),
        Some(i) => Err(ParamRangeError::new(
            &format!("event_bars[{}]", i + 1),
            &format!("[event_bars[{i}] = {}, inf) (sorted ascending)", event_bars[i]),
            event_bars[i + 1],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct O(n^2) sum of max(0, 1 - gap / H), the definition.
    fn rho_sum_by_definition(bars: &[usize], h: usize) -> f64 {
        let mut s = 0.0;
        for i in 0..bars.len() {
            for j in i + 1..bars.len() {
                s += (1.0 - (bars[j] - bars[i]) as f64 / h as f64).max(0.0);
            }
        }
        s
    }

    #[test]
    fn events_without_overlap_keep_full_sample_size() {
        let bars = [0, 10, 20, 35, 100];
        assert_eq!(overlap_rho_sum(&bars, 10).unwrap(), 0.0);
        assert_eq!(effective_sample_size(&bars, 10).unwrap(), 5.0);
    }

    #[test]
    fn events_all_at_one_bar_count_as_one() {
        // S = C(4, 2) = 6, n_eff = 16 / (4 + 12) = 1 exactly.
        let bars = [7, 7, 7, 7];
        assert_eq!(overlap_rho_sum(&bars, 20).unwrap(), 6.0);
        assert_eq!(effective_sample_size(&bars, 20).unwrap(), 1.0);
    }

    #[test]
    fn half_overlapping_triple_matches_hand_value() {
        // Pairs (0,5) and (5,10) overlap by half, (0,10) not at all: S = 1,
        // n_eff = 9 / (3 + 2) = 1.8.
        let bars = [0, 5, 10];
        assert_eq!(overlap_rho_sum(&bars, 10).unwrap(), 1.0);
        assert!((effective_sample_size(&bars, 10).unwrap() - 1.8).abs() < 1e-15);
    }

    #[test]
    fn sliding_window_sum_equals_pairwise_definition() {
        let bars = [0, 0, 3, 4, 9, 15, 16, 16, 30, 31, 33, 60];
        for h in [1, 2, 5, 10, 20, 100] {
            let fast = overlap_rho_sum(&bars, h).unwrap();
            let slow = rho_sum_by_definition(&bars, h);
            assert!((fast - slow).abs() < 1e-9, "h={h}: {fast} vs {slow}");
        }
    }

    #[test]
    fn effective_n_grows_with_spacing_until_windows_separate() {
        let h = 10;
        let mut last = 0.0;
        for spacing in 0..=h {
            let bars: Vec<usize> = (0..20).map(|i| i * spacing).collect();
            let n_eff = effective_sample_size(&bars, h).unwrap();
            assert!(n_eff > last, "spacing {spacing}: {n_eff} !> {last}");
            last = n_eff;
        }
        assert_eq!(last, 20.0);
    }

    #[test]
    fn empty_and_single_event_inputs_have_defined_sizes() {
        assert_eq!(effective_sample_size(&[], 10).unwrap(), 0.0);
        assert_eq!(effective_sample_size(&[42], 10).unwrap(), 1.0);
    }

    #[test]
    fn rho_sums_of_separate_days_add_up() {
        let (a, b) = ([0, 2, 4], [1, 1, 8]);
        let s = overlap_rho_sum(&a, 5).unwrap() + overlap_rho_sum(&b, 5).unwrap();
        // a: 0.6 + 0.2 + 0.6 = 1.4; b: 1 + 0 + 0 = 1.
        assert!((s - 2.4).abs() < 1e-12);
        let n_eff = effective_n_from_rho_sum(6, s).unwrap();
        assert!((n_eff - 36.0 / 10.8).abs() < 1e-12);
    }

    #[test]
    fn effective_n_rejects_negative_or_nan_rho_sum() {
        assert_eq!(effective_n_from_rho_sum(3, -0.5).unwrap_err().name, "rho_sum");
        assert!(effective_n_from_rho_sum(3, f64::NAN).is_err());
        assert_eq!(effective_n_from_rho_sum(0, 0.0).unwrap(), 0.0);
    }

    #[test]
    fn unsorted_bars_are_rejected_with_position() {
        let err = overlap_rho_sum(&[1, 5, 3], 10).unwrap_err();
        assert_eq!(err.name, "event_bars[2]");
        assert_eq!(err.value, "3");
        assert!(non_overlapping_subsample(&[2, 1], 3).is_err());
    }

    #[test]
    fn zero_horizon_is_rejected() {
        assert_eq!(overlap_rho_sum(&[1, 2], 0).unwrap_err().name, "horizon_bars");
        assert!(non_overlapping_subsample(&[1, 2], 0).is_err());
    }

    #[test]
    fn greedy_subsample_keeps_events_at_least_horizon_apart() {
        // H = 10: keep 0, skip 3 and 9, keep 10, skip 19, keep 20 and 35.
        let bars = [0, 3, 9, 10, 19, 20, 35];
        assert_eq!(non_overlapping_subsample(&bars, 10).unwrap(), vec![0, 3, 5, 6]);
    }

    #[test]
    fn greedy_subsample_keeps_one_of_tied_bars_and_handles_empty() {
        assert_eq!(non_overlapping_subsample(&[4, 4, 4], 1).unwrap(), vec![0]);
        assert!(non_overlapping_subsample(&[], 5).unwrap().is_empty());
    }

    #[test]
    fn greedy_subsample_has_no_overlap_left() {
        let bars = [0, 0, 3, 4, 9, 15, 16, 16, 30, 31, 33, 60];
        let kept: Vec<usize> =
            non_overlapping_subsample(&bars, 10).unwrap().iter().map(|&p| bars[p]).collect();
        assert_eq!(kept, vec![0, 15, 30, 60]);
        assert_eq!(effective_sample_size(&kept, 10).unwrap(), kept.len() as f64);
    }
}
