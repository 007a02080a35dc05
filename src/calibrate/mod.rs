//! Score calibration on the held-out period: does a higher detector score
//! mean a better outcome, and what is a score worth?
//!
//! [`calibrate`] takes the chosen parameters' events from the test period
//! (never the training period the tuner chose them on) and, per forward
//! horizon, bins the scores (hit rate with a Wilson interval, mean return
//! with a block-bootstrap interval), tests the rank relation of score and
//! outcome (Spearman), fits two monotone maps (isotonic regression of hit
//! and of return on score), scores the hit probabilities (Brier, ECE; the
//! isotonic one cross-fitted over time-ordered folds), and gives a verdict.
//!
//! Main types: [`CalibrationEvent`] in; [`MonotonicityReport`] out, whose
//! [`MonotonicityReport::calibration_report`] is the service-facing
//! [`CalibrationReport`]; [`ScoreMap`] is what the service loads from it.
//! Degenerate input (no events, one event, constant scores, all hits, NaN)
//! gets defined figures and a [`Note`], never a panic. docs/calibration.md
//! gives the formulas, references and the JSON schema.

pub mod bins;
pub mod config;
pub mod horizon;
pub mod notes;
pub mod probability;
pub mod report;
pub mod sample;
pub mod score_map;
pub mod verdict;

pub use bins::ScoreBin;
pub use config::{Binning, CalibrationConfig};
pub use notes::{Note, NoteKind};
pub use probability::{CrossFit, CrossFitFold, ForecastScore, ProbabilityScores, CROSS_FIT_FOLDS};
pub use report::{
    write_calibration, CalibrationMeta, CalibrationReport, HorizonCalibration, HorizonDetails,
    HorizonMonotonicity, MonotonicityReport, CALIBRATION_FILE, MONOTONICITY_FILE, SCHEMA_VERSION,
};
pub use sample::InputCounts;
pub use score_map::{HorizonMap, ScoreMap, ScoreMapError};
pub use verdict::{OverallVerdict, Verdict, MONOTONE_ALPHA};

use crate::core::ParamRangeError;

/// One event's outcome at one forward horizon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HorizonOutcome {
    /// Bars ahead.
    pub horizon: usize,
    /// Side-adjusted forward return: positive when the call was right.
    /// None when the window ran past the data.
    pub ret: Option<f64>,
    /// Whether the event was a hit (beat the cost); None when undefined.
    pub hit: Option<bool>,
}

/// One detector event of the period being calibrated.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationEvent {
    /// Series (symbol-day) number; the caller numbers series in time order.
    pub series: u32,
    /// Bar of the event within its series.
    pub bar: u32,
    /// Detector score, 0-100.
    pub score: f64,
    pub horizons: Vec<HorizonOutcome>,
}

/// Calibrates the score of `events` at each of `horizons`.
///
/// Events are put in time order by (series, bar) first, so the result does
/// not depend on the input order. Each horizon uses the events with a
/// finite score in [0, 100] and a finite return and a hit at that horizon;
/// the others are counted by reason. Deterministic: the only randomness is
/// the bin bootstraps, seeded from `config.seed`.
///
/// Errors: an invalid `config`, or `horizons` empty, not strictly
/// increasing, or containing 0.
pub fn calibrate(
    events: &[CalibrationEvent],
    horizons: &[usize],
    config: &CalibrationConfig,
    meta: CalibrationMeta,
) -> Result<MonotonicityReport, ParamRangeError> {
    config.validate()?;
    check_horizons(horizons)?;

    let sorted = sample::time_ordered(events);
    let mut per_horizon = Vec::with_capacity(horizons.len());
    for &h in horizons {
        let sample = sample::HorizonSample::select(&sorted, h);
        per_horizon.push(horizon::analyse_horizon(h, &sample, config)?);
    }

    let verdicts: Vec<(usize, Verdict)> =
        per_horizon.iter().map(|h| (h.summary.horizon, h.summary.verdict)).collect();
    let notes = if events.is_empty() {
        vec![Note::new(NoteKind::NoEvents, "no events were given: every figure is empty or NaN")]
    } else {
        Vec::new()
    };
    Ok(MonotonicityReport {
        schema_version: SCHEMA_VERSION,
        meta,
        config: config.clone(),
        verdict: verdict::overall_verdict(&verdicts),
        n_events_input: events.len(),
        horizons: per_horizon,
        notes,
    })
}

/// Non-empty, each at least 1, strictly increasing.
fn check_horizons(horizons: &[usize]) -> Result<(), ParamRangeError> {
    let increasing = horizons.windows(2).all(|w| w[0] < w[1]);
    if horizons.is_empty() || horizons[0] == 0 || !increasing {
        let range = "non-empty, strictly increasing, each >= 1";
        return Err(ParamRangeError::new("horizons", range, format!("{horizons:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
