//! The usable events of one horizon, in event time order, and the count of
//! every event left out and why.
//!
//! Main types: [`HorizonSample`] (paired scores, returns and 0/1 hits) and
//! [`InputCounts`]. Every later step works on a sample, so the rules for
//! what enters the analysis live here and nowhere else.

use serde::{Deserialize, Serialize};

use super::{CalibrationEvent, HorizonOutcome};

/// Highest score the detector emits; raw probability is score / 100.
pub const SCORE_MAX: f64 = 100.0;

/// How the events given to one horizon were used. Each left-out event is
/// counted once, under the first rule it fails, in the order of the fields;
/// so `n_input = n_used + the four drop counts`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCounts {
    /// Events passed to `calibrate`.
    pub n_input: usize,
    /// Events in the analysis.
    pub n_used: usize,
    /// Score NaN or infinite.
    pub n_nonfinite_score: usize,
    /// Finite score outside [0, 100] (a detector bug, not data).
    pub n_score_out_of_range: usize,
    /// No outcome at this horizon, or its return or hit is `None`.
    pub n_missing_label: usize,
    /// Return present but NaN or infinite.
    pub n_nonfinite_return: usize,
}

/// Paired observations of one horizon, sorted by (series, bar).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HorizonSample {
    pub scores: Vec<f64>,
    pub returns: Vec<f64>,
    /// 1.0 for a hit, 0.0 otherwise.
    pub hits: Vec<f64>,
    pub counts: InputCounts,
}

/// Why an event is not usable at a horizon.
enum Drop {
    NonFiniteScore,
    ScoreOutOfRange,
    MissingLabel,
    NonFiniteReturn,
}

impl HorizonSample {
    /// Selects the usable events of `horizon` from events already sorted in
    /// time order. An event's first outcome with this horizon is used.
    pub fn select(sorted: &[&CalibrationEvent], horizon: usize) -> HorizonSample {
        let mut s = HorizonSample::default();
        s.counts.n_input = sorted.len();
        for event in sorted {
            match usable(event, horizon) {
                Ok((ret, hit)) => {
                    s.scores.push(event.score);
                    s.returns.push(ret);
                    s.hits.push(if hit { 1.0 } else { 0.0 });
                }
                Err(reason) => s.count_drop(reason),
            }
        }
        s.counts.n_used = s.scores.len();
        s
    }

    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Number of hits.
    pub fn hit_count(&self) -> f64 {
        self.hits.iter().sum()
    }

    fn count_drop(&mut self, reason: Drop) {
        let c = &mut self.counts;
        match reason {
            Drop::NonFiniteScore => c.n_nonfinite_score += 1,
            Drop::ScoreOutOfRange => c.n_score_out_of_range += 1,
            Drop::MissingLabel => c.n_missing_label += 1,
            Drop::NonFiniteReturn => c.n_nonfinite_return += 1,
        }
    }
}

/// The (return, hit) of an event at `horizon`, or why it is left out.
fn usable(event: &CalibrationEvent, horizon: usize) -> Result<(f64, bool), Drop> {
    if !event.score.is_finite() {
        return Err(Drop::NonFiniteScore);
    }
    if !(0.0..=SCORE_MAX).contains(&event.score) {
        return Err(Drop::ScoreOutOfRange);
    }
    let outcome = event.horizons.iter().find(|o| o.horizon == horizon);
    let Some(&HorizonOutcome { ret: Some(ret), hit: Some(hit), .. }) = outcome else {
        return Err(Drop::MissingLabel);
    };
    if !ret.is_finite() {
        return Err(Drop::NonFiniteReturn);
    }
    Ok((ret, hit))
}

/// The events sorted by (series, bar); ties keep their input order. The
/// caller numbers series in time order (symbol-days by date), so this is
/// event time order for the bootstrap blocks and cross-fit folds.
pub fn time_ordered(events: &[CalibrationEvent]) -> Vec<&CalibrationEvent> {
    let mut sorted: Vec<&CalibrationEvent> = events.iter().collect();
    sorted.sort_by_key(|e| (e.series, e.bar));
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        series: u32,
        bar: u32,
        score: f64,
        ret: Option<f64>,
        hit: Option<bool>,
    ) -> CalibrationEvent {
        let horizons = vec![HorizonOutcome { horizon: 10, ret, hit }];
        CalibrationEvent { series, bar, score, horizons }
    }

    #[test]
    fn events_are_ordered_by_series_then_bar() {
        let events = [
            event(1, 5, 10.0, Some(0.1), Some(true)),
            event(0, 9, 20.0, Some(0.2), Some(true)),
            event(0, 3, 30.0, Some(0.3), Some(true)),
        ];
        let s = HorizonSample::select(&time_ordered(&events), 10);
        assert_eq!(s.scores, vec![30.0, 20.0, 10.0]);
    }

    #[test]
    fn each_dropped_event_is_counted_once_under_its_first_failing_rule() {
        let events = [
            event(0, 0, 50.0, Some(0.01), Some(true)),
            event(0, 1, f64::NAN, None, None),
            event(0, 2, 101.0, Some(0.01), Some(true)),
            event(0, 3, -0.5, Some(0.01), Some(true)),
            event(0, 4, 40.0, None, None),
            event(0, 5, 40.0, Some(0.01), None),
            event(0, 6, 40.0, Some(f64::NAN), Some(false)),
            event(0, 7, 40.0, Some(f64::INFINITY), Some(true)),
            event(0, 8, 0.0, Some(-0.02), Some(false)),
        ];
        let s = HorizonSample::select(&time_ordered(&events), 10);
        let c = s.counts;
        assert_eq!((c.n_input, c.n_used), (9, 2));
        assert_eq!((c.n_nonfinite_score, c.n_score_out_of_range), (1, 2));
        assert_eq!((c.n_missing_label, c.n_nonfinite_return), (2, 2));
        assert_eq!(
            (s.scores, s.returns, s.hits),
            (vec![50.0, 0.0], vec![0.01, -0.02], vec![1.0, 0.0])
        );
    }

    #[test]
    fn an_event_without_the_requested_horizon_is_a_missing_label() {
        let events = [event(0, 0, 50.0, Some(0.01), Some(true))];
        let s = HorizonSample::select(&time_ordered(&events), 20);
        assert_eq!((s.counts.n_used, s.counts.n_missing_label), (0, 1));
        assert!(s.is_empty());
    }
}
