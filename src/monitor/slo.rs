//! Service-level objectives: for each indicator a target, a warning level
//! and a rollback level, each with the time it must hold (`for:`) before the
//! alert fires. [`SloConfig`] is serde-readable with defaults equal to the
//! table in docs/monitoring.md; [`SloConfig::from_run_figures`] derives the
//! event-rate, score and hit-rate levels from a run's own test figures.
//!
//! A [`Level`] fires when the indicator is `below` its lower bound or
//! `above` its upper bound (either may be absent), so one type serves
//! "too slow", "too few" and "outside 5-200 per hour".

use super::indicators::Indicator;
use crate::core::ParamRangeError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One alert level of an indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Fires when the indicator is strictly below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// Fires when the indicator is strictly above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// How long the condition must hold, as a Prometheus duration (`5m`).
    #[serde(rename = "for")]
    pub for_duration: String,
}

impl Level {
    fn above(x: f64, for_duration: &str) -> Option<Level> {
        Some(Level { below: None, above: Some(x), for_duration: for_duration.into() })
    }

    fn below(x: f64, for_duration: &str) -> Option<Level> {
        Some(Level { below: Some(x), above: None, for_duration: for_duration.into() })
    }

    fn outside(lo: f64, hi: f64, for_duration: &str) -> Option<Level> {
        Some(Level { below: Some(lo), above: Some(hi), for_duration: for_duration.into() })
    }

    /// True when `value` breaches this level. NaN breaches nothing, as in PromQL.
    pub fn breached_by(&self, value: f64) -> bool {
        self.below.is_some_and(|b| value < b) || self.above.is_some_and(|a| value > a)
    }
}

/// Target and alert levels of one indicator. An absent level has no alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// The objective in words, shown in alert descriptions (`< 10 ms`).
    pub target: String,
    #[serde(default)]
    pub warning: Option<Level>,
    #[serde(default)]
    pub rollback: Option<Level>,
}

impl Objective {
    fn new(target: &str, warning: Option<Level>, rollback: Option<Level>) -> Objective {
        Objective { target: target.into(), warning, rollback }
    }
}

/// Every objective, the PromQL windows and the CPU allowance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SloConfig {
    /// Window of `rate()` for latencies, errors and CPU. Default `5m`.
    pub rate_window: String,
    /// Window for event rate, median score and hit rate. Default `1h`.
    pub quality_window: String,
    /// Window of `avg_over_time(up)`. Default `1h`.
    pub availability_window: String,
    /// CPU cores the service may use; utilisation = CPU seconds per second / cores. Default 1.
    pub cpu_cores: f64,
    pub event_latency_p95_seconds: Objective,
    pub pipeline_latency_p95_seconds: Objective,
    pub compute_latency_p95_seconds: Objective,
    pub metric_closure_error: Objective,
    pub error_rate: Objective,
    pub availability: Objective,
    pub events_per_hour: Objective,
    pub median_score: Objective,
    pub hit_rate: Objective,
    pub cpu_utilisation: Objective,
    pub memory_utilisation: Objective,
    pub queue_backlog: Objective,
}

impl Default for SloConfig {
    fn default() -> Self {
        SloConfig {
            rate_window: "5m".into(),
            quality_window: "1h".into(),
            availability_window: "1h".into(),
            cpu_cores: 1.0,
            event_latency_p95_seconds: Objective::new(
                "< 2.5 ms",
                Level::above(0.002, "5m"),
                Level::above(0.005, "10m"),
            ),
            pipeline_latency_p95_seconds: Objective::new(
                "< 100 ms",
                Level::above(0.05, "5m"),
                Level::above(0.2, "10m"),
            ),
            compute_latency_p95_seconds: Objective::new(
                "< 10 ms",
                Level::above(0.005, "5m"),
                Level::above(0.02, "10m"),
            ),
            metric_closure_error: Objective::new(
                "< 10 %",
                Level::above(0.05, "10m"),
                Level::above(0.15, "10m"),
            ),
            error_rate: Objective::new(
                "< 1 %",
                Level::above(0.005, "5m"),
                Level::above(0.02, "5m"),
            ),
            availability: Objective::new(
                "> 99.9 %",
                Level::below(0.995, "5m"),
                Level::below(0.99, "5m"),
            ),
            events_per_hour: Objective::new(
                "10-100 per hour",
                Level::outside(5.0, 200.0, "30m"),
                Level::outside(1.0, 500.0, "30m"),
            ),
            median_score: Objective::new(
                "> 50",
                Level::below(40.0, "30m"),
                Level::below(30.0, "30m"),
            ),
            hit_rate: Objective::new("> 55 %", Level::below(0.5, "30m"), Level::below(0.45, "30m")),
            cpu_utilisation: Objective::new("< 80 %", Level::above(0.8, "10m"), None),
            memory_utilisation: Objective::new("< 80 %", Level::above(0.8, "10m"), None),
            queue_backlog: Objective::new("< 1000 bars", Level::above(1000.0, "5m"), None),
        }
    }
}

/// A run's own test-period figures, from which expected levels are set.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFigures {
    pub events_per_hour: f64,
    pub median_score: f64,
    /// Fraction of directional events that hit, in [0, 1].
    pub hit_rate: f64,
}

impl SloConfig {
    /// Reads a YAML file; absent keys keep their defaults.
    pub fn load(path: &Path) -> Result<SloConfig, super::MonitorError> {
        let err = |message: String| super::MonitorError::Input { path: path.into(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let slo: SloConfig = serde_yaml::from_str(&text).map_err(|e| err(e.to_string()))?;
        slo.validate().map_err(|e| err(e.to_string()))?;
        Ok(slo)
    }

    /// The defaults with event-rate, score and hit-rate levels set from a
    /// run's figures `e` (events per hour), `m` (median score), `h` (hit rate):
    ///
    /// - events per hour: warning outside `[e/2, 2e]`, rollback outside `[e/10, 5e]`
    ///   (the default 5-200 and 1-500 bands are these ratios around 10 and 100);
    /// - median score: warning below `m - 10`, rollback below `m - 20` points;
    /// - hit rate: warning below `h - 0.05`, rollback below `h - 0.10`.
    ///
    /// Levels are rounded to 6 decimals. `e` must be finite and > 0, `m` in
    /// [0, 100], `h` in [0, 1]; NaN is rejected.
    pub fn from_run_figures(figures: &RunFigures) -> Result<SloConfig, ParamRangeError> {
        let RunFigures { events_per_hour: e, median_score: m, hit_rate: h } = *figures;
        check_range("events_per_hour", "(0, inf)", e, e > 0.0 && e.is_finite())?;
        check_range("median_score", "[0, 100]", m, (0.0..=100.0).contains(&m))?;
        check_range("hit_rate", "[0, 1]", h, (0.0..=1.0).contains(&h))?;
        let mut slo = SloConfig::default();
        set_band(&mut slo.events_per_hour.warning, round6(e / 2.0), round6(2.0 * e));
        set_band(&mut slo.events_per_hour.rollback, round6(e / 10.0), round6(5.0 * e));
        slo.events_per_hour.target = format!("about {} per hour, as in the run", round6(e));
        set_floor(&mut slo.median_score.warning, round6(m - 10.0));
        set_floor(&mut slo.median_score.rollback, round6(m - 20.0));
        slo.median_score.target = format!("about {}, as in the run", round6(m));
        set_floor(&mut slo.hit_rate.warning, round6(h - 0.05));
        set_floor(&mut slo.hit_rate.rollback, round6(h - 0.10));
        slo.hit_rate.target = format!("about {} %, as in the run", round6(100.0 * h));
        Ok(slo)
    }

    /// Checks windows and durations, finite bounds, `below < above` within a
    /// level, and that rollback is at least as far out as warning.
    pub fn validate(&self) -> Result<(), ParamRangeError> {
        for (name, window) in [
            ("rate_window", &self.rate_window),
            ("quality_window", &self.quality_window),
            ("availability_window", &self.availability_window),
        ] {
            duration_seconds(window)
                .filter(|&s| s > 0)
                .ok_or_else(|| ParamRangeError::new(name, DURATION_RANGE, window))?;
        }
        let cores = self.cpu_cores;
        check_range("cpu_cores", "(0, inf)", cores, cores > 0.0 && cores.is_finite())?;
        Indicator::ALL.iter().try_for_each(|i| validate_objective(i.key(), i.objective(self)))
    }
}

const DURATION_RANGE: &str = "a Prometheus duration such as 30s, 5m, 1h";

fn validate_objective(name: &str, o: &Objective) -> Result<(), ParamRangeError> {
    for (which, level) in [("warning", &o.warning), ("rollback", &o.rollback)] {
        let Some(level) = level else { continue };
        let key = format!("{name}.{which}");
        validate_level(&key, level)?;
    }
    let (Some(w), Some(r)) = (&o.warning, &o.rollback) else { return Ok(()) };
    let wider = |rb: Option<f64>, wb: Option<f64>, outward: fn(f64, f64) -> bool| match (rb, wb) {
        (Some(r), Some(w)) => outward(r, w),
        _ => true,
    };
    if !wider(r.above, w.above, |r, w| r >= w) || !wider(r.below, w.below, |r, w| r <= w) {
        let range = "rollback bounds at or beyond the warning bounds";
        return Err(ParamRangeError::new(&format!("{name}.rollback"), range, format!("{r:?}")));
    }
    Ok(())
}

fn validate_level(key: &str, level: &Level) -> Result<(), ParamRangeError> {
    let bounds = [level.below, level.above];
    if bounds.iter().all(Option::is_none) || bounds.iter().flatten().any(|b| !b.is_finite()) {
        return Err(ParamRangeError::new(
            key,
            "finite `below` and/or `above`",
            format!("{level:?}"),
        ));
    }
    if let (Some(lo), Some(hi)) = (level.below, level.above) {
        check_range(key, "below < above", format!("{lo} >= {hi}"), lo < hi)?;
    }
    duration_seconds(&level.for_duration).map(|_| ()).ok_or_else(|| {
        ParamRangeError::new(&format!("{key}.for"), DURATION_RANGE, &level.for_duration)
    })
}

fn check_range(
    name: &str,
    range: &str,
    value: impl std::fmt::Display,
    ok: bool,
) -> Result<(), ParamRangeError> {
    if ok {
        Ok(())
    } else {
        Err(ParamRangeError::new(name, range, value))
    }
}

fn set_band(level: &mut Option<Level>, lo: f64, hi: f64) {
    if let Some(l) = level {
        (l.below, l.above) = (Some(lo), Some(hi));
    }
}

fn set_floor(level: &mut Option<Level>, lo: f64) {
    if let Some(l) = level {
        (l.below, l.above) = (Some(lo), None);
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Seconds in a Prometheus duration made of `<int><unit>` parts (`1h30m`),
/// units ms, s, m, h, d, w, y; `None` when malformed. Milliseconds round down.
pub fn duration_seconds(text: &str) -> Option<u64> {
    let mut total_ms: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit_ms: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return None,
        };
        total_ms = total_ms.checked_add(number.checked_mul(unit_ms)?)?;
        rest = &rest[unit_len..];
    }
    (!text.is_empty()).then_some(total_ms / 1000)
}

/// Reads the figures at `horizon` from `tuning_report.json`'s
/// `global.test` list (`events_per_hour`, `median_score`, `accuracy`).
pub fn run_figures_from_report(
    path: &Path,
    horizon: usize,
) -> Result<RunFigures, super::MonitorError> {
    let err = |message: String| super::MonitorError::Input { path: path.into(), message };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let report: serde_json::Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let rows =
        report["global"]["test"].as_array().ok_or_else(|| err("no `global.test` list".into()))?;
    let row = rows
        .iter()
        .find(|r| r["horizon"].as_u64() == Some(horizon as u64))
        .ok_or_else(|| err(format!("`global.test` has no row with horizon {horizon}")))?;
    let field = |name: &str| {
        row[name]
            .as_f64()
            .ok_or_else(|| err(format!("global.test[horizon={horizon}].{name} is not a number")))
    };
    Ok(RunFigures {
        events_per_hour: field("events_per_hour")?,
        median_score: field("median_score")?,
        hit_rate: field("accuracy")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_table_and_validate() {
        let slo = SloConfig::default();
        slo.validate().unwrap();
        let c = &slo.compute_latency_p95_seconds;
        assert_eq!(c.warning, Level::above(0.005, "5m"));
        assert_eq!(c.rollback, Level::above(0.02, "10m"));
        assert_eq!(slo.availability.rollback, Level::below(0.99, "5m"));
        assert_eq!(slo.events_per_hour.rollback, Level::outside(1.0, 500.0, "30m"));
        assert_eq!(slo.queue_backlog.rollback, None);
    }

    #[test]
    fn a_level_fires_strictly_outside_its_bounds_and_never_on_nan() {
        let band = Level::outside(5.0, 200.0, "1m").unwrap();
        let fired: Vec<bool> = [4.9, 5.0, 100.0, 200.0, 200.1, f64::NAN]
            .iter()
            .map(|&v| band.breached_by(v))
            .collect();
        assert_eq!(fired, [true, false, false, false, true, false]);
    }

    #[test]
    fn run_figures_at_the_table_anchors_give_the_table_levels() {
        let f = RunFigures { events_per_hour: 10.0, median_score: 50.0, hit_rate: 0.55 };
        let slo = SloConfig::from_run_figures(&f).unwrap();
        assert_eq!(slo.median_score.warning, Level::below(40.0, "30m"));
        assert_eq!(slo.median_score.rollback, Level::below(30.0, "30m"));
        assert_eq!(slo.hit_rate.warning, Level::below(0.5, "30m"));
        assert_eq!(slo.hit_rate.rollback, Level::below(0.45, "30m"));
        // e = 10 gives the table's lower bounds 5 and 1.
        assert_eq!(slo.events_per_hour.warning, Level::outside(5.0, 20.0, "30m"));
        assert_eq!(slo.events_per_hour.rollback, Level::outside(1.0, 50.0, "30m"));
        slo.validate().unwrap();
    }

    #[test]
    fn run_figures_out_of_range_or_nan_are_rejected() {
        let ok = RunFigures { events_per_hour: 30.0, median_score: 60.0, hit_rate: 0.6 };
        let cases = [
            RunFigures { events_per_hour: 0.0, ..ok.clone() },
            RunFigures { events_per_hour: f64::INFINITY, ..ok.clone() },
            RunFigures { median_score: f64::NAN, ..ok.clone() },
            RunFigures { hit_rate: 1.5, ..ok.clone() },
        ];
        for (case, name) in
            cases.iter().zip(["events_per_hour", "events_per_hour", "median_score", "hit_rate"])
        {
            assert_eq!(SloConfig::from_run_figures(case).unwrap_err().name, name);
        }
    }

    #[test]
    fn config_yaml_overrides_one_objective_and_keeps_the_rest() {
        let text = "error_rate:\n  target: '< 2 %'\n  rollback: {above: 0.05, for: 15m}\n";
        let slo: SloConfig = serde_yaml::from_str(text).unwrap();
        assert_eq!(slo.error_rate.warning, None);
        assert_eq!(slo.error_rate.rollback, Level::above(0.05, "15m"));
        assert_eq!(slo.availability, SloConfig::default().availability);
        assert!(serde_yaml::from_str::<SloConfig>("error_rat: {}\n").is_err(), "typo rejected");
    }

    #[test]
    fn invalid_levels_are_rejected_by_name() {
        let mut slo = SloConfig::default();
        slo.error_rate.rollback = Level::above(0.001, "5m");
        assert_eq!(slo.validate().unwrap_err().name, "error_rate.rollback");
        let mut slo = SloConfig::default();
        slo.availability.warning = Level::below(0.99, "5 minutes");
        assert_eq!(slo.validate().unwrap_err().name, "availability.warning.for");
        let mut slo = SloConfig::default();
        slo.events_per_hour.warning = Level::outside(300.0, 200.0, "5m");
        assert_eq!(slo.validate().unwrap_err().name, "events_per_hour.warning");
        let slo = SloConfig { rate_window: "0m".into(), ..SloConfig::default() };
        assert_eq!(slo.validate().unwrap_err().name, "rate_window");
    }

    #[test]
    fn durations_parse_like_prometheus() {
        assert_eq!(duration_seconds("5m"), Some(300));
        assert_eq!(duration_seconds("1h30m"), Some(5400));
        assert_eq!(duration_seconds("1500ms"), Some(1));
        for bad in ["", "5", "m", "5 m", "5min", "-5m"] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn figures_are_read_from_the_tuning_report_row_of_the_horizon() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tuning_report.json");
        let text = r#"{"global":{"test":[
            {"horizon":10,"accuracy":0.6,"events_per_hour":35.0,"median_score":55.0},
            {"horizon":20,"accuracy":0.58,"events_per_hour":35.0,"median_score":55.0}]}}"#;
        std::fs::write(&path, text).unwrap();
        let f = run_figures_from_report(&path, 20).unwrap();
        assert_eq!(f, RunFigures { events_per_hour: 35.0, median_score: 55.0, hit_rate: 0.58 });
        let err = run_figures_from_report(&path, 5).unwrap_err().to_string();
        assert!(err.contains("horizon 5") && err.contains("tuning_report.json"), "{err}");
    }
}
