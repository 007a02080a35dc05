//! The two calibration artifacts and how they are written.
//!
//! [`CalibrationReport`] is `divergence_score_calibration.json`, the file
//! the live service loads (through [`super::ScoreMap`]) and the plots are
//! drawn from. [`MonotonicityReport`] is `monotonicity_report.json`: the
//! same per-horizon figures plus what went into them (counts of dropped
//! events, isotonic blocks, cross-fit folds, notes). Both derive serde with
//! a fixed field order; values that can be NaN or infinite go through
//! `stats::json_float` (NaN as null, infinities as "inf" / "-inf").

use serde::{Deserialize, Serialize};
use std::path::Path;

use super::bins::ScoreBin;
use super::config::CalibrationConfig;
use super::notes::Note;
use super::probability::{CrossFit, ProbabilityScores};
use super::sample::InputCounts;
use super::verdict::{OverallVerdict, Verdict};
use crate::artifacts::{write_json, WriteError};
use crate::stats::{Breakpoint, IsotonicFit, Spearman};

/// Version of both files' layout; bumped when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;
/// File name of [`CalibrationReport`].
pub const CALIBRATION_FILE: &str = "divergence_score_calibration.json";
/// File name of [`MonotonicityReport`].
pub const MONOTONICITY_FILE: &str = "monotonicity_report.json";

/// Where the events came from, supplied by the caller so that the output
/// depends on nothing but the arguments (no clock is read here).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationMeta {
    pub run_id: String,
    /// RFC 3339 time the run was made.
    pub created_at: String,
    /// Period the events come from; "test" (held out from tuning).
    pub source_period: String,
    /// First and last time of the period's data, as the caller writes them.
    pub data_start: String,
    pub data_end: String,
    /// The detector parameters the events were produced with.
    pub params: serde_json::Value,
    /// Events of the period as counted by the caller.
    pub n_events_total: usize,
}

/// The figures of one horizon that the service and the plots need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HorizonCalibration {
    /// Bars after the event's confirmation bar.
    pub horizon: usize,
    pub verdict: Verdict,
    /// One sentence per verdict condition.
    pub reasons: Vec<String>,
    /// Events in the analysis (finite score in [0, 100], finite return, hit).
    pub n_used: usize,
    /// Score bins in increasing score order.
    pub bins: Vec<ScoreBin>,
    /// Isotonic map score -> hit probability: knots, linear between them,
    /// flat outside. Empty when no event was usable.
    pub hit_map: Vec<Breakpoint>,
    /// Isotonic map score -> expected side-adjusted forward return.
    pub return_map: Vec<Breakpoint>,
    /// Rise of the hit map (last y - first y); NaN when empty.
    #[serde(with = "crate::stats::json_float")]
    pub hit_map_rise: f64,
    /// Spearman of score vs forward return (drives the verdict).
    pub spearman_return: Spearman,
    /// Spearman of score vs hit (0/1).
    pub spearman_hit: Spearman,
    /// Brier and ECE of the raw, in-sample and cross-fitted probabilities.
    pub probability: ProbabilityScores,
}

/// `divergence_score_calibration.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    pub meta: CalibrationMeta,
    pub config: CalibrationConfig,
    pub verdict: OverallVerdict,
    /// One entry per requested horizon, ascending.
    pub horizons: Vec<HorizonCalibration>,
}

/// What went into one horizon's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HorizonDetails {
    pub horizon: usize,
    /// Events given, used, and dropped by reason.
    pub counts: InputCounts,
    /// The full PAV fit of hit on score (blocks with weights and counts).
    pub hit_fit: IsotonicFit,
    /// The full PAV fit of return on score.
    pub return_fit: IsotonicFit,
    /// Folds of the cross-fitted hit probability.
    pub cross_fit: CrossFit,
    pub notes: Vec<Note>,
}

/// One horizon of `monotonicity_report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HorizonMonotonicity {
    pub summary: HorizonCalibration,
    pub details: HorizonDetails,
}

/// `monotonicity_report.json`: everything `calibrate` found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonotonicityReport {
    pub schema_version: u32,
    pub meta: CalibrationMeta,
    pub config: CalibrationConfig,
    pub verdict: OverallVerdict,
    /// Events passed to `calibrate` (before any per-horizon drop).
    pub n_events_input: usize,
    pub horizons: Vec<HorizonMonotonicity>,
    /// Notes about the whole input (per-horizon notes are in the details).
    pub notes: Vec<Note>,
}

impl MonotonicityReport {
    /// The service-facing artifact: the same figures without the details.
    pub fn calibration_report(&self) -> CalibrationReport {
        CalibrationReport {
            schema_version: self.schema_version,
            meta: self.meta.clone(),
            config: self.config.clone(),
            verdict: self.verdict.clone(),
            horizons: self.horizons.iter().map(|h| h.summary.clone()).collect(),
        }
    }
}

impl CalibrationReport {
    /// The figures of `horizon`, if it was calibrated.
    pub fn horizon(&self, horizon: usize) -> Option<&HorizonCalibration> {
        self.horizons.iter().find(|h| h.horizon == horizon)
    }
}

/// Writes [`CALIBRATION_FILE`] and [`MONOTONICITY_FILE`] into `dir`, each
/// atomically (temporary file, flush, rename), as pretty JSON.
pub fn write_calibration(dir: &Path, report: &MonotonicityReport) -> Result<(), WriteError> {
    write_json(&dir.join(CALIBRATION_FILE), &report.calibration_report())?;
    write_json(&dir.join(MONOTONICITY_FILE), report)
}
