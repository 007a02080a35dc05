//! How good the score is as a hit probability: Brier score and expected
//! calibration error of the raw score / 100, of the isotonic map fitted on
//! all events (in-sample), and of the isotonic map cross-fitted over K
//! contiguous folds in event time order (out-of-fold, the honest figure).
//!
//! Main types: [`ProbabilityScores`] (the three forecasts, scored),
//! [`ForecastScore`] and [`CrossFit`] (fold boundaries and per-fold Brier).

use serde::{Deserialize, Serialize};

use super::sample::{HorizonSample, SCORE_MAX};
use crate::core::ParamRangeError;
use crate::stats::{brier_score, expected_calibration_error, isotonic_fit, CalibrationBin};
use crate::stats::{interpolate, IsotonicFit};

/// Folds of the cross-fit (fewer when there are fewer events).
pub const CROSS_FIT_FOLDS: usize = 5;

/// A probability forecast of the hits, scored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastScore {
    /// Mean squared error against the 0/1 hits; NaN with no forecast.
    #[serde(with = "crate::stats::json_float")]
    pub brier: f64,
    /// Expected calibration error over `bins` equal-width bins of [0, 1].
    #[serde(with = "crate::stats::json_float")]
    pub ece: f64,
    /// The ECE table: per probability bin the mean forecast and hit rate
    /// (the reliability diagram); empty bins have NaN means.
    pub reliability: Vec<CalibrationBin>,
}

/// The hit-probability figures of one horizon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbabilityScores {
    /// Hits / events; NaN with no events.
    #[serde(with = "crate::stats::json_float")]
    pub base_rate: f64,
    /// Brier of the constant forecast at the base rate, b (1 - b): the bar
    /// a useful forecast must get under (in-sample, like the base rate).
    #[serde(with = "crate::stats::json_float")]
    pub brier_base_rate: f64,
    /// p = score / 100, as the detector's score scale suggests.
    pub raw: ForecastScore,
    /// The isotonic hit map fitted on these events and scored on them:
    /// optimistic, kept for comparison only.
    pub isotonic_in_sample: ForecastScore,
    /// Each fold scored by a map fitted on the other folds.
    pub isotonic_cross_fit: ForecastScore,
}

/// One cross-fit fold: positions start..end of the time-ordered sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossFitFold {
    pub start: usize,
    pub end: usize,
    /// Events the fold's map was fitted on (all outside the fold).
    pub n_train: usize,
    /// Brier of the fold's out-of-fold forecasts.
    #[serde(with = "crate::stats::json_float")]
    pub brier: f64,
}

/// How the cross-fitted figure was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossFit {
    /// min(CROSS_FIT_FOLDS, n); 0 when n < 2 (no fold has training data).
    pub k: usize,
    pub folds: Vec<CrossFitFold>,
}

/// Scores the three forecasts of the hits in `sample`; `hit_fit` is the
/// isotonic hit map fitted on the whole sample.
pub fn probability_scores(
    sample: &HorizonSample,
    hit_fit: &IsotonicFit,
    ece_bins: usize,
) -> Result<(ProbabilityScores, CrossFit), ParamRangeError> {
    let raw: Vec<f64> = sample.scores.iter().map(|s| s / SCORE_MAX).collect();
    let in_sample: Vec<f64> = sample.scores.iter().map(|&s| hit_fit.predict(s)).collect();
    let (cross, cross_fit) = cross_fit_predictions(sample)?;

    let base_rate = crate::stats::mean(&sample.hits);
    let scores = ProbabilityScores {
        base_rate,
        brier_base_rate: base_rate * (1.0 - base_rate),
        raw: score(&raw, &sample.hits, ece_bins)?,
        isotonic_in_sample: score(&in_sample, &sample.hits, ece_bins)?,
        isotonic_cross_fit: score(&cross, &sample.hits, ece_bins)?,
    };
    Ok((scores, cross_fit))
}

fn score(p: &[f64], hits: &[f64], bins: usize) -> Result<ForecastScore, ParamRangeError> {
    let ece = expected_calibration_error(p, hits, bins)?;
    Ok(ForecastScore { brier: brier_score(p, hits)?, ece: ece.ece, reliability: ece.bins })
}

/// Out-of-fold isotonic hit probabilities: the sample (in time order) is
/// cut into k contiguous folds of sizes differing by at most one (the
/// first n mod k folds one longer); each fold is predicted by the PAV fit
/// of the other folds, interpolated and clamped like the saved map. With
/// n < 2 there is nothing to train on and every prediction is NaN.
pub fn cross_fit_predictions(
    sample: &HorizonSample,
) -> Result<(Vec<f64>, CrossFit), ParamRangeError> {
    let n = sample.len();
    let mut predictions = vec![f64::NAN; n];
    if n < 2 {
        return Ok((predictions, CrossFit { k: 0, folds: Vec::new() }));
    }

    let k = CROSS_FIT_FOLDS.min(n);
    let mut folds = Vec::with_capacity(k);
    let mut start = 0;
    for f in 0..k {
        let end = start + n / k + usize::from(f < n % k);
        let train = |v: &[f64]| [&v[..start], &v[end..]].concat();
        let fit = isotonic_fit(&train(&sample.scores), &train(&sample.hits), None)?;
        let fold = predictions[start..end].iter_mut().zip(&sample.scores[start..end]);
        fold.for_each(|(p, &s)| *p = interpolate(&fit.breakpoints, s));
        let brier = brier_score(&predictions[start..end], &sample.hits[start..end])?;
        folds.push(CrossFitFold { start, end, n_train: n - (end - start), brier });
        start = end;
    }
    Ok((predictions, CrossFit { k, folds }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six events in time order; the hand values below follow from them.
    fn six() -> HorizonSample {
        HorizonSample {
            scores: vec![10.0, 20.0, 20.0, 40.0, 50.0, 60.0],
            returns: vec![-0.02, 0.01, -0.01, 0.03, 0.02, 0.04],
            hits: vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0],
            counts: Default::default(),
        }
    }

    #[test]
    fn cross_fit_predictions_match_hand_worked_folds() {
        // Folds [0, 2), [2, 3), [3, 4), [4, 5), [5, 6). Fold 0 is fitted on
        // (20, 0), (40, 1), (50, 1), (60, 1): scores 10 and 20 map to 0.
        // Fold 1 on (10, 0), (20, 1), ...: 20 maps to 1. Fold 2 on (10, 0),
        // (20, 0.5 pooled), (50, 1), (60, 1): 40 maps to 0.5 + 20/30 * 0.5.
        // Folds 3 and 4 map 50 and 60 to 1.
        let (p, cf) = cross_fit_predictions(&six()).unwrap();
        let want = [0.0, 0.0, 1.0, 0.5 + 0.5 * 20.0 / 30.0, 1.0, 1.0];
        for (got, want) in p.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{p:?}");
        }
        assert_eq!(cf.k, 5);
        let bounds: Vec<(usize, usize)> = cf.folds.iter().map(|f| (f.start, f.end)).collect();
        assert_eq!(bounds, vec![(0, 2), (2, 3), (3, 4), (4, 5), (5, 6)]);
        assert_eq!((cf.folds[0].n_train, cf.folds[0].brier), (4, 0.5));
    }

    #[test]
    fn three_forecasts_score_to_hand_values() {
        let s = six();
        let fit = isotonic_fit(&s.scores, &s.hits, None).unwrap();
        let (scores, _) = probability_scores(&s, &fit, 2).unwrap();
        // Raw p 0.1, 0.2, 0.2, 0.4, 0.5, 0.6: squared errors sum to 1.46.
        assert!((scores.raw.brier - 1.46 / 6.0).abs() < 1e-15);
        // Two bins: [0, 0.5) mean p 0.225, hit rate 0.5, weight 4; [0.5, 1]
        // mean p 0.55, hit rate 1, weight 2. ECE = (4 * 0.275 + 2 * 0.45) / 6.
        assert!((scores.raw.ece - 2.0 / 6.0).abs() < 1e-15);
        // In-sample map 0, 0.5, 0.5, 1, 1, 1: errors 0.25 twice.
        assert!((scores.isotonic_in_sample.brier - 0.5 / 6.0).abs() < 1e-15);
        // Cross-fit: errors 0, 1, 1, (1/6)^2, 0, 0.
        let cf = (2.0 + 1.0 / 36.0) / 6.0;
        assert!((scores.isotonic_cross_fit.brier - cf).abs() < 1e-15);
        assert!((scores.base_rate - 4.0 / 6.0).abs() < 1e-15);
        assert!((scores.brier_base_rate - 2.0 / 9.0).abs() < 1e-15);
        assert_eq!(scores.raw.reliability.len(), 2);
    }

    #[test]
    fn cross_fit_is_undefined_below_two_events() {
        let mut s = six();
        s.scores.truncate(1);
        s.returns.truncate(1);
        s.hits.truncate(1);
        let (p, cf) = cross_fit_predictions(&s).unwrap();
        assert!(p[0].is_nan());
        assert_eq!((cf.k, cf.folds.len()), (0, 0));
        let fit = isotonic_fit(&s.scores, &s.hits, None).unwrap();
        let (scores, _) = probability_scores(&s, &fit, 10).unwrap();
        assert!(scores.isotonic_cross_fit.brier.is_nan());
        assert_eq!(scores.isotonic_in_sample.brier, 0.0);
    }

    #[test]
    fn two_events_give_two_folds_of_one() {
        let s = HorizonSample {
            scores: vec![30.0, 70.0],
            returns: vec![0.0, 0.0],
            hits: vec![0.0, 1.0],
            counts: Default::default(),
        };
        // Each event is predicted by the other alone: 30 -> 1, 70 -> 0.
        let (p, cf) = cross_fit_predictions(&s).unwrap();
        assert_eq!((p, cf.k), (vec![1.0, 0.0], 2));
    }
}
