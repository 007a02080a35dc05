//! What the live service needs from `divergence_score_calibration.json`:
//! per horizon, a score -> (hit probability, expected return) lookup.
//!
//! Main types: [`ScoreMap`] and [`ScoreMapError`]. Loading reads only the
//! schema version and each horizon's verdict and two breakpoint lists, so
//! figures added to the file later do not break the service; the
//! breakpoints are checked (finite, x strictly increasing, y
//! non-decreasing, hit probabilities in [0, 1]) before they are trusted.

use serde::Deserialize;

use super::report::{CalibrationReport, SCHEMA_VERSION};
use super::verdict::Verdict;
use crate::stats::{interpolate, Breakpoint};

/// A calibration file that the service must not use.
#[derive(Debug, thiserror::Error)]
pub enum ScoreMapError {
    #[error("calibration JSON does not parse: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "calibration schema_version {found} is not supported (this build reads {expected}); \
         re-run the calibration with this divtune version"
    )]
    SchemaVersion { found: u32, expected: u32 },
    #[error("horizon {horizon}, {map} map, breakpoint {index}: {message}")]
    Breakpoints { horizon: usize, map: &'static str, index: usize, message: String },
    #[error("horizon {0} appears more than once")]
    DuplicateHorizon(usize),
}

/// The two monotone maps of one horizon.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct HorizonMap {
    pub horizon: usize,
    pub verdict: Verdict,
    #[serde(rename = "hit_map")]
    pub hit: Vec<Breakpoint>,
    #[serde(rename = "return_map")]
    pub ret: Vec<Breakpoint>,
}

/// Score -> (hit probability, expected return) per horizon.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreMap {
    /// Ascending by horizon.
    horizons: Vec<HorizonMap>,
}

#[derive(Deserialize)]
struct VersionView {
    schema_version: u32,
}

#[derive(Deserialize)]
struct FileView {
    horizons: Vec<HorizonMap>,
}

impl ScoreMap {
    /// Loads the maps from the text of `divergence_score_calibration.json`.
    pub fn from_json(text: &str) -> Result<ScoreMap, ScoreMapError> {
        // The version first, so a future layout fails with a clear message.
        let version: VersionView = serde_json::from_str(text)?;
        if version.schema_version != SCHEMA_VERSION {
            let (found, expected) = (version.schema_version, SCHEMA_VERSION);
            return Err(ScoreMapError::SchemaVersion { found, expected });
        }
        let file: FileView = serde_json::from_str(text)?;
        ScoreMap::new(file.horizons)
    }

    /// The maps of a report held in memory, checked like [`Self::from_json`].
    pub fn from_report(report: &CalibrationReport) -> Result<ScoreMap, ScoreMapError> {
        let horizons = report.horizons.iter().map(|h| HorizonMap {
            horizon: h.horizon,
            verdict: h.verdict,
            hit: h.hit_map.clone(),
            ret: h.return_map.clone(),
        });
        ScoreMap::new(horizons.collect())
    }

    fn new(mut horizons: Vec<HorizonMap>) -> Result<ScoreMap, ScoreMapError> {
        horizons.sort_by_key(|h| h.horizon);
        for pair in horizons.windows(2) {
            if pair[0].horizon == pair[1].horizon {
                return Err(ScoreMapError::DuplicateHorizon(pair[0].horizon));
            }
        }
        for h in &horizons {
            check_breakpoints(h.horizon, "hit", &h.hit, Some((0.0, 1.0)))?;
            check_breakpoints(h.horizon, "return", &h.ret, None)?;
        }
        Ok(ScoreMap { horizons })
    }

    /// (hit probability, expected return) at `score` for `horizon`: linear
    /// between breakpoints, clamped to the end values outside the fitted
    /// score range. None for an unknown horizon, a NaN score, or a horizon
    /// whose maps are empty (no usable events).
    pub fn map(&self, score: f64, horizon: usize) -> Option<(f64, f64)> {
        let h = self.get(horizon)?;
        if score.is_nan() || h.hit.is_empty() || h.ret.is_empty() {
            return None;
        }
        Some((interpolate(&h.hit, score), interpolate(&h.ret, score)))
    }

    /// The verdict the calibration gave `horizon`: a service may choose to
    /// ignore the score where it is not monotone.
    pub fn verdict(&self, horizon: usize) -> Option<Verdict> {
        self.get(horizon).map(|h| h.verdict)
    }

    /// The horizons held, ascending.
    pub fn horizons(&self) -> Vec<usize> {
        self.horizons.iter().map(|h| h.horizon).collect()
    }

    fn get(&self, horizon: usize) -> Option<&HorizonMap> {
        self.horizons.iter().find(|h| h.horizon == horizon)
    }
}

/// Finite values, strictly increasing x, non-decreasing y within `bounds`.
fn check_breakpoints(
    horizon: usize,
    map: &'static str,
    points: &[Breakpoint],
    bounds: Option<(f64, f64)>,
) -> Result<(), ScoreMapError> {
    let fail = |index: usize, message: String| {
        Err(ScoreMapError::Breakpoints { horizon, map, index, message })
    };
    for (i, p) in points.iter().enumerate() {
        if !p.x.is_finite() || !p.y.is_finite() {
            return fail(i, format!("({}, {}) is not finite", p.x, p.y));
        }
        if let Some((lo, hi)) = bounds.filter(|(lo, hi)| !(*lo..=*hi).contains(&p.y)) {
            return fail(i, format!("y = {} outside [{lo}, {hi}]", p.y));
        }
        if i > 0 && p.x <= points[i - 1].x {
            return fail(i, format!("x = {} not above the previous {}", p.x, points[i - 1].x));
        }
        if i > 0 && p.y < points[i - 1].y {
            return fail(i, format!("y = {} below the previous {}", p.y, points[i - 1].y));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hit map knots (20, 0.2), (40, 0.2), (60, 0.6); return map (20,
    /// -0.001), (60, 0.003); a second horizon without events.
    const FILE: &str = r#"{
      "schema_version": 1,
      "meta": {"run_id": "r1", "anything": "ignored"},
      "horizons": [
        {"horizon": 20, "verdict": "insufficient", "hit_map": [], "return_map": [],
         "bins": []},
        {"horizon": 10, "verdict": "monotone",
         "hit_map": [{"x": 20.0, "y": 0.2}, {"x": 40.0, "y": 0.2}, {"x": 60.0, "y": 0.6}],
         "return_map": [{"x": 20.0, "y": -0.001}, {"x": 60.0, "y": 0.003}]}
      ]
    }"#;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-15 && (a.1 - b.1).abs() < 1e-15
    }

    #[test]
    fn map_interpolates_linearly_between_knots() {
        let m = ScoreMap::from_json(FILE).unwrap();
        // 30: inside the flat block; 50: halfway 0.2 -> 0.6; returns on the
        // line from -0.001 to 0.003 (0.0001 per score point).
        assert!(close(m.map(30.0, 10).unwrap(), (0.2, 0.0)));
        assert!(close(m.map(50.0, 10).unwrap(), (0.4, 0.002)));
        assert!(close(m.map(40.0, 10).unwrap(), (0.2, 0.001)));
    }

    #[test]
    fn map_clamps_outside_the_fitted_range() {
        let m = ScoreMap::from_json(FILE).unwrap();
        assert_eq!(m.map(0.0, 10), Some((0.2, -0.001)));
        assert_eq!(m.map(100.0, 10), Some((0.6, 0.003)));
        assert_eq!(m.map(f64::INFINITY, 10), Some((0.6, 0.003)));
    }

    #[test]
    fn unknown_horizon_nan_score_and_empty_maps_give_none() {
        let m = ScoreMap::from_json(FILE).unwrap();
        assert_eq!(m.map(50.0, 30), None);
        assert_eq!(m.map(f64::NAN, 10), None);
        assert_eq!(m.map(50.0, 20), None);
        assert_eq!(m.horizons(), vec![10, 20]);
        assert_eq!(
            (m.verdict(10), m.verdict(20)),
            (Some(Verdict::Monotone), Some(Verdict::Insufficient))
        );
    }

    #[test]
    fn another_schema_version_is_refused_by_name() {
        let err = ScoreMap::from_json(r#"{"schema_version": 2, "horizons": {}}"#).unwrap_err();
        assert!(matches!(err, ScoreMapError::SchemaVersion { found: 2, expected: 1 }), "{err}");
        assert!(ScoreMap::from_json("{").is_err());
    }

    #[test]
    fn invalid_breakpoints_are_refused_with_horizon_and_index() {
        let bad = |hit: &str, ret: &str| {
            let text = format!(
                r#"{{"schema_version": 1, "horizons": [{{"horizon": 10,
                 "verdict": "monotone", "hit_map": {hit}, "return_map": {ret}}}]}}"#
            );
            ScoreMap::from_json(&text).unwrap_err().to_string()
        };
        let ok = r#"[{"x": 1, "y": 0.1}]"#;
        let msg = bad(r#"[{"x": 1, "y": 0.1}, {"x": 1, "y": 0.2}]"#, ok);
        assert_eq!(msg, "horizon 10, hit map, breakpoint 1: x = 1 not above the previous 1");
        assert!(bad(r#"[{"x": 1, "y": 1.5}]"#, ok).contains("outside [0, 1]"));
        assert!(bad(ok, r#"[{"x": 1, "y": 0.2}, {"x": 2, "y": 0.1}]"#).contains("return map"));
        assert!(bad(r#"[{"x": 1, "y": null}]"#, ok).contains("does not parse"));
    }

    #[test]
    fn duplicate_horizons_are_refused() {
        let text = r#"{"schema_version": 1, "horizons": [
            {"horizon": 10, "verdict": "monotone", "hit_map": [], "return_map": []},
            {"horizon": 10, "verdict": "monotone", "hit_map": [], "return_map": []}]}"#;
        assert!(matches!(ScoreMap::from_json(text), Err(ScoreMapError::DuplicateHorizon(10))));
    }
}
