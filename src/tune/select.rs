//! Choosing a parameter set on training cells.
//!
//! The objective is the worst horizon's lower Wilson bound of accuracy on
//! the effective sample size: it rewards accuracy that holds at every
//! horizon and penalises small samples, so a set that got lucky on a
//! handful of events does not win. A set is eligible when it meets the
//! deployment checklist's constraints on training data: at least
//! `min_events` events, `min_events_per_hour` to `max_events_per_hour`
//! events per hour (global choice only: a bucket covers a fraction of the
//! hours, so its rate is not comparable), and a median score of at least
//! `min_median_score`. Ties go to the lower point id, so the choice is
//! deterministic.

use super::evaluate::CellMetrics;
use serde::{Deserialize, Serialize};

/// The `tune.selection` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionConfig {
    pub min_events_per_hour: f64,
    pub max_events_per_hour: f64,
    pub min_median_score: f64,
    /// Fewest training events for the global choice.
    pub min_events: u64,
    /// Fewest training events for a bucket to get its own parameters;
    /// below it the bucket falls back to the global set.
    pub min_bucket_events: u64,
    /// Confidence level of the Wilson intervals.
    pub confidence: f64,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig {
            min_events_per_hour: 10.0,
            max_events_per_hour: 100.0,
            min_median_score: 50.0,
            min_events: 30,
            min_bucket_events: 30,
            confidence: 0.95,
        }
    }
}

impl SelectionConfig {
    pub fn validate(&self) -> Result<(), String> {
        let rate_ok =
            self.min_events_per_hour >= 0.0 && self.max_events_per_hour >= self.min_events_per_hour;
        if !rate_ok {
            return Err(format!(
                "tune.selection: need 0 <= min_events_per_hour <= max_events_per_hour, got {} and {}",
                self.min_events_per_hour, self.max_events_per_hour
            ));
        }
        if !(0.0..=100.0).contains(&self.min_median_score) {
            return Err(format!(
                "tune.selection.min_median_score must be in [0, 100], got {}",
                self.min_median_score
            ));
        }
        if !(self.confidence > 0.5 && self.confidence < 1.0) {
            return Err(format!(
                "tune.selection.confidence must be in (0.5, 1), got {}",
                self.confidence
            ));
        }
        Ok(())
    }
}

/// The outcome of one selection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    pub point: usize,
    /// The worst horizon's lower Wilson bound of the chosen point.
    pub objective: f64,
    /// How many points met every constraint.
    pub eligible: usize,
    /// Whether the chosen point met every constraint.
    pub constraints_met: bool,
    /// Why a bucket uses the global parameters instead of its own.
    pub fallback: Option<String>,
}

/// Chooses among `cells[point][horizon]`. With `global` given this is a
/// bucket choice, which falls back to that point when nothing is eligible.
pub fn choose(
    cells: &[Vec<CellMetrics>],
    config: &SelectionConfig,
    global: Option<usize>,
) -> Choice {
    let is_bucket = global.is_some();
    let scored: Vec<(usize, f64, bool)> = cells
        .iter()
        .enumerate()
        .map(|(point, horizons)| {
            (point, objective(horizons), eligible(horizons, config, is_bucket))
        })
        .collect();
    let best = |candidates: &mut dyn Iterator<Item = &(usize, f64, bool)>| {
        candidates
            .filter(|c| c.1.is_finite())
            .fold(None::<&(usize, f64, bool)>, |best, c| match best {
                Some(b) if b.1 >= c.1 => Some(b),
                _ => Some(c),
            })
            .copied()
    };
    let eligible_count = scored.iter().filter(|c| c.2).count();
    if let Some((point, objective, _)) = best(&mut scored.iter().filter(|c| c.2)) {
        return Choice {
            point,
            objective,
            eligible: eligible_count,
            constraints_met: true,
            fallback: None,
        };
    }
    match global {
        Some(point) => Choice {
            point,
            objective: scored.get(point).map_or(f64::NAN, |c| c.1),
            eligible: 0,
            constraints_met: false,
            fallback: Some(format!(
                "no parameter set had {} training events with a median score of at least {} in this bucket",
                config.min_bucket_events, config.min_median_score
            )),
        },
        None => {
            let (point, objective, _) = best(&mut scored.iter()).unwrap_or((0, f64::NAN, false));
            Choice { point, objective, eligible: 0, constraints_met: false, fallback: None }
        }
    }
}

/// The worst horizon's lower bound; NaN (never chosen) when any horizon
/// has no labelled event or there are no horizons.
fn objective(horizons: &[CellMetrics]) -> f64 {
    if horizons.is_empty() || horizons.iter().any(|m| m.wilson_lo.is_nan()) {
        return f64::NAN;
    }
    horizons.iter().map(|m| m.wilson_lo).fold(f64::INFINITY, f64::min)
}

fn eligible(horizons: &[CellMetrics], config: &SelectionConfig, is_bucket: bool) -> bool {
    let Some(first) = horizons.first() else { return false };
    let min_events = if is_bucket { config.min_bucket_events } else { config.min_events };
    let rate_ok = is_bucket
        || (first.events_per_hour >= config.min_events_per_hour
            && first.events_per_hour <= config.max_events_per_hour);
    first.events >= min_events && rate_ok && first.median_score >= config.min_median_score
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(events: u64, rate: f64, score: f64, lo: f64) -> CellMetrics {
        CellMetrics {
            events,
            events_per_hour: rate,
            median_score: score,
            wilson_lo: lo,
            ..Default::default()
        }
    }

    #[test]
    fn the_eligible_point_with_the_best_worst_horizon_bound_wins() {
        let config = SelectionConfig::default();
        let cells = vec![
            vec![cell(100, 20.0, 60.0, 0.52), cell(100, 20.0, 60.0, 0.50)],
            vec![cell(100, 20.0, 60.0, 0.58), cell(100, 20.0, 60.0, 0.51)],
            vec![cell(100, 500.0, 60.0, 0.70), cell(100, 500.0, 60.0, 0.70)],
        ];
        let choice = choose(&cells, &config, None);
        assert_eq!(choice.point, 1, "point 2 fires too often to be eligible");
        assert_eq!(choice.objective, 0.51);
        assert_eq!(choice.eligible, 2);
        assert!(choice.constraints_met);
    }

    #[test]
    fn ties_go_to_the_lower_point_id() {
        let cells = vec![vec![cell(50, 20.0, 60.0, 0.55)], vec![cell(50, 20.0, 60.0, 0.55)]];
        assert_eq!(choose(&cells, &SelectionConfig::default(), None).point, 0);
    }

    #[test]
    fn a_bucket_without_enough_events_falls_back_to_the_global_point() {
        let cells = vec![vec![cell(5, 1.0, 60.0, 0.9)], vec![cell(8, 1.0, 60.0, 0.9)]];
        let choice = choose(&cells, &SelectionConfig::default(), Some(1));
        assert_eq!(choice.point, 1);
        assert!(choice.fallback.as_deref().unwrap().contains("30 training events"));
    }

    #[test]
    fn with_nothing_eligible_the_global_choice_is_flagged() {
        let cells = vec![vec![cell(100, 500.0, 60.0, 0.6)], vec![cell(100, 500.0, 60.0, 0.7)]];
        let choice = choose(&cells, &SelectionConfig::default(), None);
        assert_eq!(choice.point, 1);
        assert!(!choice.constraints_met);
    }
}
