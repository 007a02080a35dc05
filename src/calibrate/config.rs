//! The `calibrate:` config section: how scores are binned, how intervals are
//! drawn, and how many events a verdict needs.
//!
//! Main types: [`CalibrationConfig`] and [`Binning`]. Every key has a
//! default and unknown keys are rejected, like every other config section.

use serde::{Deserialize, Serialize};

use crate::core::ParamRangeError;

/// Seed of the bin bootstraps when the config names none.
pub const DEFAULT_SEED: u64 = 1904;
/// Largest number of score bins accepted.
pub const MAX_BINS: usize = 100;
/// Largest number of bootstrap resamples accepted.
pub const MAX_RESAMPLES: usize = 1_000_000;
/// Smallest `min_events`: Spearman's t-test needs three pairs.
pub const MIN_MIN_EVENTS: usize = 3;

/// How events are grouped into score bins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// Equal-count bins between type 7 quantiles of the observed scores
    /// (deciles when `bins` is 10). Tied scores stay in one bin, so counts
    /// can be unequal and empty bins are dropped.
    Deciles,
    /// `bins` equal-width bins over the score scale 0-100; empty bins kept.
    EqualWidth,
}

/// Settings of the calibration stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalibrationConfig {
    /// Score bins, and equal-width probability bins of the ECE; [1, 100]. Default 10.
    pub bins: usize,
    /// Score binning. Default `deciles`.
    pub binning: Binning,
    /// Block-bootstrap resamples per bin; [1, 1000000]. Default 1000.
    pub bootstrap_resamples: usize,
    /// Seed of every bootstrap (per-bin seeds are derived from it). Default 1904.
    pub seed: u64,
    /// Level of the Wilson and bootstrap intervals; (0, 1). Default 0.95.
    pub confidence: f64,
    /// Usable events a horizon needs for a verdict other than
    /// `insufficient`; at least 3. Default 20.
    pub min_events: usize,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            bins: 10,
            binning: Binning::Deciles,
            bootstrap_resamples: crate::stats::DEFAULT_RESAMPLES,
            seed: DEFAULT_SEED,
            confidence: crate::stats::DEFAULT_LEVEL,
            min_events: 20,
        }
    }
}

impl CalibrationConfig {
    /// Checks every range; the error names the parameter, range and value.
    pub fn validate(&self) -> Result<(), ParamRangeError> {
        if !(1..=MAX_BINS).contains(&self.bins) {
            return Err(ParamRangeError::new("bins", &format!("[1, {MAX_BINS}]"), self.bins));
        }
        if !(1..=MAX_RESAMPLES).contains(&self.bootstrap_resamples) {
            let range = format!("[1, {MAX_RESAMPLES}]");
            return Err(ParamRangeError::new(
                "bootstrap_resamples",
                &range,
                self.bootstrap_resamples,
            ));
        }
        crate::stats::check_level("confidence", self.confidence)?;
        if self.min_events < MIN_MIN_EVENTS {
            let range = format!("[{MIN_MIN_EVENTS}, inf)");
            return Err(ParamRangeError::new("min_events", &range, self.min_events));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = CalibrationConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!((c.bins, c.binning, c.bootstrap_resamples), (10, Binning::Deciles, 1000));
        assert_eq!((c.seed, c.confidence, c.min_events), (1904, 0.95, 20));
    }

    #[test]
    fn each_out_of_range_parameter_is_named() {
        let bad = |f: fn(&mut CalibrationConfig)| {
            let mut c = CalibrationConfig::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert_eq!(bad(|c| c.bins = 0).name, "bins");
        assert_eq!(bad(|c| c.bins = 101).name, "bins");
        assert_eq!(bad(|c| c.bootstrap_resamples = 0).name, "bootstrap_resamples");
        assert_eq!(bad(|c| c.confidence = 1.0).name, "confidence");
        assert_eq!(bad(|c| c.confidence = f64::NAN).name, "confidence");
        let err = bad(|c| c.min_events = 2);
        assert_eq!(err.to_string(), "parameter `min_events` must be in [3, inf), got 2");
    }

    #[test]
    fn partial_config_fills_defaults_and_unknown_keys_are_rejected() {
        let c: CalibrationConfig =
            serde_json::from_str(r#"{"bins": 5, "binning": "equal_width"}"#).unwrap();
        assert_eq!((c.bins, c.binning, c.min_events), (5, Binning::EqualWidth, 20));
        let err = serde_json::from_str::<CalibrationConfig>(r#"{"bin": 5}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `bin`"), "{err}");
    }
}
