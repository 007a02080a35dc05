//! The monotonicity verdict of each horizon and of the whole run.
//!
//! Main types: [`Verdict`] and [`OverallVerdict`]. A horizon is monotone
//! when the score ranks forward returns (Spearman rho > 0 with one-sided
//! p < [`MONOTONE_ALPHA`]) and the isotonic hit map is not flat; the run is
//! monotone when at least one horizon is.

use serde::{Deserialize, Serialize};

use crate::stats::{Breakpoint, Spearman, SpearmanStatus};

/// Level of the one-sided Spearman test behind a monotone verdict.
pub const MONOTONE_ALPHA: f64 = 0.05;

/// What the held-out events say about the score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Higher scores go with higher returns, and the hit map rises.
    Monotone,
    /// Enough events, but one of the two conditions fails.
    NotMonotone,
    /// Fewer usable events than `min_events`.
    Insufficient,
}

/// The run's verdict and the horizons that carried it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverallVerdict {
    /// Monotone if any horizon is; insufficient if every horizon is;
    /// otherwise not monotone.
    pub verdict: Verdict,
    /// The monotone horizons, ascending; empty unless monotone.
    pub carried_by: Vec<usize>,
    /// The test level used ([`MONOTONE_ALPHA`]).
    pub alpha: f64,
}

/// The rise of an increasing map: last y - first y (its y range, since the
/// y are non-decreasing); NaN for an empty map.
pub fn map_rise(breakpoints: &[Breakpoint]) -> f64 {
    match (breakpoints.first(), breakpoints.last()) {
        (Some(a), Some(b)) => b.y - a.y,
        _ => f64::NAN,
    }
}

/// The verdict of one horizon, with one sentence per condition saying why.
pub fn horizon_verdict(
    n_used: usize,
    min_events: usize,
    rank: &Spearman,
    hit_map_rise: f64,
) -> (Verdict, Vec<String>) {
    if n_used < min_events {
        return (
            Verdict::Insufficient,
            vec![format!("{n_used} usable events < min_events {min_events}")],
        );
    }
    let (ranked, rank_reason) = rank_condition(rank);
    let rises = hit_map_rise > 0.0;
    let rise_reason = if rises {
        format!("isotonic hit map rises by {hit_map_rise:.4} over the fitted scores")
    } else {
        "isotonic hit map is flat: the score does not separate hits from misses".to_string()
    };
    let verdict = if ranked && rises { Verdict::Monotone } else { Verdict::NotMonotone };
    (verdict, vec![rank_reason, rise_reason])
}

/// Whether rho(score, return) > 0 with one-sided p < alpha, and why.
fn rank_condition(rank: &Spearman) -> (bool, String) {
    let undefined = match rank.status {
        SpearmanStatus::Ok => None,
        SpearmanStatus::TooFewPairs => Some("fewer than 3 pairs"),
        SpearmanStatus::ConstantX => Some("the score is constant"),
        SpearmanStatus::ConstantY => Some("the return is constant"),
    };
    if let Some(why) = undefined {
        return (false, format!("Spearman rho(score, return) is undefined: {why}"));
    }
    let ok = rank.rho > 0.0 && rank.p_greater < MONOTONE_ALPHA;
    let relation = if ok { "<" } else { ">=" };
    // Tiny p-values in e-notation: "p = 0.0000" would read as a certainty.
    let p = if rank.p_greater < 1e-4 {
        format!("{:.2e}", rank.p_greater)
    } else {
        format!("{:.4}", rank.p_greater)
    };
    let reason = format!(
        "Spearman rho(score, return) = {:.4}, one-sided p = {p} {relation} {MONOTONE_ALPHA}",
        rank.rho
    );
    (ok, if ok || rank.rho > 0.0 { reason } else { format!("{reason} (rho <= 0)") })
}

/// The run's verdict from (horizon, verdict) pairs.
pub fn overall_verdict(horizons: &[(usize, Verdict)]) -> OverallVerdict {
    let carried_by: Vec<usize> =
        horizons.iter().filter(|(_, v)| *v == Verdict::Monotone).map(|(h, _)| *h).collect();
    let verdict = if !carried_by.is_empty() {
        Verdict::Monotone
    } else if horizons.iter().all(|(_, v)| *v == Verdict::Insufficient) {
        Verdict::Insufficient
    } else {
        Verdict::NotMonotone
    };
    OverallVerdict { verdict, carried_by, alpha: MONOTONE_ALPHA }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::spearman;

    fn rank(y: &[f64]) -> Spearman {
        let x: Vec<f64> = (0..y.len()).map(|i| i as f64).collect();
        spearman(&x, y).unwrap()
    }

    #[test]
    fn significant_rank_and_rising_map_is_monotone() {
        let (v, why) = horizon_verdict(5, 3, &rank(&[1.0, 2.0, 3.0, 5.0, 4.0]), 0.3);
        assert_eq!(v, Verdict::Monotone);
        assert_eq!(why[0], "Spearman rho(score, return) = 0.9000, one-sided p = 0.0187 < 0.05");
        assert!(why[1].contains("rises by 0.3000"), "{why:?}");
        let (_, why) = horizon_verdict(4, 3, &rank(&[1.0, 2.0, 3.0, 4.0]), 0.3);
        assert!(why[0].ends_with("one-sided p = 0.00e0 < 0.05"), "{why:?}");
    }

    #[test]
    fn flat_hit_map_blocks_a_significant_rank() {
        let (v, why) = horizon_verdict(5, 3, &rank(&[1.0, 2.0, 3.0, 4.0, 5.0]), 0.0);
        assert_eq!(v, Verdict::NotMonotone);
        assert!(why[1].contains("flat"));
        assert_eq!(
            horizon_verdict(5, 3, &rank(&[1.0, 2.0, 3.0, 4.0, 5.0]), f64::NAN).0,
            Verdict::NotMonotone
        );
    }

    #[test]
    fn decreasing_or_insignificant_rank_is_not_monotone() {
        let (v, why) = horizon_verdict(5, 3, &rank(&[5.0, 4.0, 3.0, 2.0, 1.0]), 0.5);
        assert_eq!(v, Verdict::NotMonotone);
        assert!(why[0].contains("rho <= 0"), "{why:?}");
        // rho = 0.5 on 3 pairs has p = 1/3.
        let (v, _) = horizon_verdict(3, 3, &rank(&[1.0, 3.0, 2.0]), 0.5);
        assert_eq!(v, Verdict::NotMonotone);
    }

    #[test]
    fn constant_return_makes_rank_undefined_and_not_monotone() {
        let (v, why) = horizon_verdict(4, 3, &rank(&[0.1; 4]), 0.5);
        assert_eq!(v, Verdict::NotMonotone);
        assert!(why[0].contains("the return is constant"));
    }

    #[test]
    fn too_few_events_is_insufficient_whatever_the_figures() {
        let (v, why) = horizon_verdict(19, 20, &rank(&[1.0, 2.0, 3.0, 4.0]), 1.0);
        assert_eq!(v, Verdict::Insufficient);
        assert_eq!(why, vec!["19 usable events < min_events 20".to_string()]);
    }

    #[test]
    fn one_monotone_horizon_carries_the_run() {
        let o = overall_verdict(&[(10, Verdict::NotMonotone), (20, Verdict::Monotone)]);
        assert_eq!((o.verdict, o.carried_by, o.alpha), (Verdict::Monotone, vec![20], 0.05));
        let o = overall_verdict(&[(10, Verdict::Insufficient), (20, Verdict::NotMonotone)]);
        assert_eq!((o.verdict, o.carried_by.len()), (Verdict::NotMonotone, 0));
        let o = overall_verdict(&[(10, Verdict::Insufficient), (20, Verdict::Insufficient)]);
        assert_eq!(o.verdict, Verdict::Insufficient);
    }

    #[test]
    fn map_rise_is_last_minus_first_and_nan_when_empty() {
        let b = |x, y| Breakpoint { x, y };
        assert_eq!(map_rise(&[b(1.0, 0.25), b(5.0, 0.25), b(9.0, 0.75)]), 0.5);
        assert_eq!(map_rise(&[b(1.0, 0.2)]), 0.0);
        assert!(map_rise(&[]).is_nan());
    }
}
