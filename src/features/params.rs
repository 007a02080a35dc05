//! The settings of the feature stage: [`FeatureParams`] and its validation.
//!
//! Defaults and why:
//! - `bar = 1s`: fine enough for intraday pivots, coarse enough that most
//!   bars hold several book updates.
//! - `z_window = 300` bars (5 minutes of 1 s bars) with `z_min_periods`
//!   equal to it: a score is only produced against a full baseline.
//! - `std_floor = 1e-9`, absolute, in the units of the series (quantity).
//!   It only guards the division for a constant baseline and leaves any
//!   real spread alone; a relative floor would need a scale that a run of
//!   empty bars (all zeros) does not have. Raise it to stop a lone trade
//!   after a quiet spell from scoring the full clip.
//! - `z_clip = 5`: heavy-tailed flow would otherwise let one burst dominate
//!   pivots and fusion.
//! - `ema_span = 5` (alpha 1/3): per-bar flow is close to white noise, so
//!   raw values zig-zag and give the detector spurious pivots; span 5
//!   removes most bar-to-bar noise for an average lag of 2 bars, small
//!   against pivot confirmation windows. `null` turns smoothing off.
//! - `w_ofi = w_cvd = 0.5`: no prior preference between the two.
//! - `ofi_levels = 1` with equal weights: most sources carry the top level
//!   only.
//! - `cvd_reset = never`, `cvd_mode = delta`: the detector reads the flow of
//!   each bar, which a reset cannot disturb.

use serde::{Deserialize, Serialize};

use super::bars::BarSpec;
use super::cvd::{CvdMode, CvdReset};
use super::fusion::validate_weights;
use super::zscore::ZScoreSpec;
use crate::core::{ParamRangeError, MAX_LEVELS};

/// Largest accepted `z_window`, to keep the ring buffers bounded (80 MB each).
pub const MAX_Z_WINDOW: usize = 10_000_000;

/// Everything the feature stage can be told. Unknown keys are rejected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureParams {
    /// Bar length (`"100ms"`, `"1s"`, `"1m"`, ...) or `"trade"`.
    pub bar: BarSpec,
    /// Bars in the z-score baseline, `2..=MAX_Z_WINDOW`.
    pub z_window: usize,
    /// Baseline values needed before scoring, `2..=z_window`; `None` or 0
    /// means `z_window`.
    pub z_min_periods: Option<usize>,
    /// Absolute floor on the baseline standard deviation, > 0.
    pub std_floor: f64,
    /// Scores are clipped to `±z_clip`, in `(0, inf]`.
    pub z_clip: f64,
    /// EMA span applied to each bar's value before it is scored, >= 1;
    /// `None` for no smoothing.
    pub ema_span: Option<usize>,
    /// Weight of the OFI score in fusion, >= 0.
    pub w_ofi: f64,
    /// Weight of the CVD score in fusion, >= 0; not both weights 0.
    pub w_cvd: f64,
    /// Book levels read by OFI, `1..=MAX_LEVELS`.
    pub ofi_levels: usize,
    /// One non-negative weight per OFI level (normalised), or empty for equal.
    pub ofi_level_weights: Vec<f64>,
    pub cvd_reset: CvdReset,
    pub cvd_mode: CvdMode,
}

impl Default for FeatureParams {
    fn default() -> Self {
        FeatureParams {
            bar: BarSpec::default(),
            z_window: 300,
            z_min_periods: None,
            std_floor: 1e-9,
            z_clip: 5.0,
            ema_span: Some(5),
            w_ofi: 0.5,
            w_cvd: 0.5,
            ofi_levels: 1,
            ofi_level_weights: Vec::new(),
            cvd_reset: CvdReset::Never,
            cvd_mode: CvdMode::Delta,
        }
    }
}

impl FeatureParams {
    /// Checks every range; the error names the first offending parameter.
    pub fn validate(&self) -> Result<(), ParamRangeError> {
        self.validate_bar()?;
        self.validate_zscore()?;
        validate_weights(self.w_ofi, self.w_cvd)?;
        self.validate_ofi_levels()
    }

    /// `z_min_periods` with its default applied.
    pub fn min_periods(&self) -> usize {
        match self.z_min_periods {
            None | Some(0) => self.z_window,
            Some(n) => n,
        }
    }

    /// The z-score settings shared by the OFI and CVD scores.
    pub fn zscore_spec(&self) -> ZScoreSpec {
        ZScoreSpec {
            window: self.z_window,
            min_periods: self.min_periods(),
            std_floor: self.std_floor,
            z_clip: self.z_clip,
            ema_span: self.ema_span,
        }
    }

    fn validate_bar(&self) -> Result<(), ParamRangeError> {
        match self.bar {
            BarSpec::Time { ns } if ns <= 0 => Err(ParamRangeError::new("bar", "ns > 0", ns)),
            _ => Ok(()),
        }
    }

    fn validate_zscore(&self) -> Result<(), ParamRangeError> {
        let window_range = format!("2..={MAX_Z_WINDOW}");
        if !(2..=MAX_Z_WINDOW).contains(&self.z_window) {
            return Err(ParamRangeError::new("z_window", &window_range, self.z_window));
        }
        let min_periods = self.min_periods();
        if !(2..=self.z_window).contains(&min_periods) {
            let range = format!("2..={} (z_window), or null", self.z_window);
            return Err(ParamRangeError::new("z_min_periods", &range, min_periods));
        }
        if !(self.std_floor.is_finite() && self.std_floor > 0.0) {
            return Err(ParamRangeError::new("std_floor", "(0, inf)", self.std_floor));
        }
        if self.z_clip.is_nan() || self.z_clip <= 0.0 {
            return Err(ParamRangeError::new("z_clip", "(0, inf]", self.z_clip));
        }
        match self.ema_span {
            Some(0) => Err(ParamRangeError::new("ema_span", "1.., or null", 0)),
            _ => Ok(()),
        }
    }

    fn validate_ofi_levels(&self) -> Result<(), ParamRangeError> {
        let levels_range = format!("1..={MAX_LEVELS}");
        if !(1..=MAX_LEVELS).contains(&self.ofi_levels) {
            return Err(ParamRangeError::new("ofi_levels", &levels_range, self.ofi_levels));
        }
        let weights = &self.ofi_level_weights;
        if weights.is_empty() {
            return Ok(());
        }
        if weights.len() != self.ofi_levels {
            let range = format!("empty or {} values (ofi_levels)", self.ofi_levels);
            return Err(ParamRangeError::new("ofi_level_weights", &range, weights.len()));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(ParamRangeError::new("ofi_level_weights", "[0, inf) each", w));
        }
        let sum: f64 = weights.iter().sum();
        if sum <= 0.0 {
            return Err(ParamRangeError::new("ofi_level_weights", "a positive sum", sum));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_name(params: FeatureParams) -> String {
        params.validate().unwrap_err().name
    }

    #[test]
    fn defaults_are_valid_and_as_documented() {
        let p = FeatureParams::default();
        assert!(p.validate().is_ok());
        assert_eq!(p.bar, BarSpec::Time { ns: 1_000_000_000 });
        assert_eq!((p.z_window, p.min_periods(), p.z_clip, p.ema_span), (300, 300, 5.0, Some(5)));
        assert_eq!((p.w_ofi, p.w_cvd, p.ofi_levels), (0.5, 0.5, 1));
        assert_eq!((p.cvd_reset, p.cvd_mode), (CvdReset::Never, CvdMode::Delta));
    }

    #[test]
    fn min_periods_of_none_or_zero_means_the_window() {
        let mut p = FeatureParams { z_window: 50, ..Default::default() };
        assert_eq!(p.min_periods(), 50);
        p.z_min_periods = Some(0);
        assert_eq!(p.min_periods(), 50);
        p.z_min_periods = Some(7);
        assert_eq!(p.zscore_spec().min_periods, 7);
    }

    #[test]
    fn each_out_of_range_parameter_is_named_in_the_error() {
        let d = FeatureParams::default;
        let cases: Vec<(FeatureParams, &str)> = vec![
            (FeatureParams { bar: BarSpec::Time { ns: 0 }, ..d() }, "bar"),
            (FeatureParams { z_window: 1, ..d() }, "z_window"),
            (FeatureParams { z_window: MAX_Z_WINDOW + 1, ..d() }, "z_window"),
            (FeatureParams { z_min_periods: Some(1), ..d() }, "z_min_periods"),
            (FeatureParams { z_min_periods: Some(301), ..d() }, "z_min_periods"),
            (FeatureParams { std_floor: 0.0, ..d() }, "std_floor"),
            (FeatureParams { std_floor: f64::NAN, ..d() }, "std_floor"),
            (FeatureParams { z_clip: 0.0, ..d() }, "z_clip"),
            (FeatureParams { z_clip: f64::NAN, ..d() }, "z_clip"),
            (FeatureParams { ema_span: Some(0), ..d() }, "ema_span"),
            (FeatureParams { w_ofi: -1.0, ..d() }, "w_ofi"),
            (FeatureParams { w_ofi: 0.0, w_cvd: 0.0, ..d() }, "w_ofi + w_cvd"),
            (FeatureParams { ofi_levels: 0, ..d() }, "ofi_levels"),
            (FeatureParams { ofi_levels: MAX_LEVELS + 1, ..d() }, "ofi_levels"),
            (FeatureParams { ofi_level_weights: vec![1.0, 1.0], ..d() }, "ofi_level_weights"),
            (FeatureParams { ofi_level_weights: vec![-1.0], ..d() }, "ofi_level_weights"),
            (FeatureParams { ofi_level_weights: vec![0.0], ..d() }, "ofi_level_weights"),
        ];
        for (params, name) in cases {
            assert_eq!(error_name(params), name);
        }
    }

    #[test]
    fn error_message_states_range_and_value() {
        let err = FeatureParams { ofi_levels: 9, ..Default::default() }.validate().unwrap_err();
        assert_eq!(err.to_string(), "parameter `ofi_levels` must be in 1..=5, got 9");
    }

    #[test]
    fn infinite_clip_is_allowed() {
        assert!(FeatureParams { z_clip: f64::INFINITY, ..Default::default() }.validate().is_ok());
    }

    #[test]
    fn missing_keys_take_defaults_and_strings_parse() {
        let json =
            r#"{"bar": "100ms", "cvd_mode": "level", "cvd_reset": "daily", "ema_span": null}"#;
        let p: FeatureParams = serde_json::from_str(json).unwrap();
        assert_eq!(p.bar, BarSpec::Time { ns: 100_000_000 });
        assert_eq!((p.cvd_mode, p.cvd_reset, p.ema_span), (CvdMode::Level, CvdReset::Daily, None));
        assert_eq!(p.z_window, 300);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = serde_json::from_str::<FeatureParams>(r#"{"z_windw": 10}"#).unwrap_err();
        assert!(err.to_string().contains("z_windw"), "{err}");
    }

    #[test]
    fn params_round_trip_through_yaml() {
        let p = FeatureParams {
            bar: BarSpec::PerTrade,
            ofi_levels: 2,
            ofi_level_weights: vec![2.0, 1.0],
            ..Default::default()
        };
        let text = serde_yaml::to_string(&p).unwrap();
        assert!(text.contains("bar: trade"), "{text}");
        assert_eq!(serde_yaml::from_str::<FeatureParams>(&text).unwrap(), p);
    }
}
