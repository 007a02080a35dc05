//! Monitoring of the live divergence service: the metric catalogue, the
//! Prometheus config, alert rules from service-level objectives, their
//! promtool unit tests, a Grafana dashboard, a replay exporter and the
//! nightly job's textfile metrics.
//!
//! Every metric name comes from [`metrics`]; every PromQL expression from
//! [`queries`] via [`indicators`]. [`write_monitoring`] writes a run's
//! `metrics/` directory:
//!
//! ```text
//! metrics/prometheus_divergence.yml
//! metrics/alerting_rules/divergence_alerts.yaml
//! metrics/alerting_rules/divergence_alerts.test.yaml   (promtool test rules)
//! metrics/dashboards/divergence_overview.json
//! ```
//!
//! Main types: [`SloConfig`], [`Indicator`], [`ExporterState`],
//! [`ExportEvent`], [`NightlyStatus`], [`MonitorError`].

pub mod alerts;
pub mod dashboard;
pub mod exporter;
pub mod indicators;
pub mod metrics;
pub mod prometheus;
pub mod queries;
pub mod rule_tests;
pub mod slo;
pub mod textfile;

pub use exporter::{serve, ExportEvent, ExporterState};
pub use indicators::Indicator;
pub use prometheus::ScrapeSettings;
pub use slo::{Level, Objective, RunFigures, SloConfig};
pub use textfile::{write_textfile, NightlyStatus};

use std::path::{Path, PathBuf};

/// Config file name, relative to the metrics directory.
pub const CONFIG_FILE: &str = "prometheus_divergence.yml";
/// Rule file, relative to the metrics directory (also [`prometheus::RULES_PATH`]).
pub const RULES_FILE: &str = prometheus::RULES_PATH;
/// promtool unit tests of the rules, beside the rule file.
pub const RULE_TESTS_FILE: &str = "alerting_rules/divergence_alerts.test.yaml";
/// Dashboard, relative to the metrics directory.
pub const DASHBOARD_FILE: &str = "dashboards/divergence_overview.json";

/// What can go wrong while generating or writing monitoring files.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error(transparent)]
    Write(#[from] crate::artifacts::WriteError),

    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },

    #[error(
        "cannot build rule tests for `{indicator}`: {message}; \
         move the level inside the metric's buckets or change the buckets in monitor::metrics"
    )]
    RuleTest { indicator: &'static str, message: String },

    #[error(transparent)]
    Param(#[from] crate::core::ParamRangeError),
}

/// Writes `bytes` to `path` atomically (temporary file in the same
/// directory, sync, rename) through the artifacts stage.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MonitorError> {
    crate::artifacts::write_bytes(path, bytes)?;
    Ok(())
}

/// Writes the Prometheus config (scraping `target`), the alert rules and
/// their promtool tests for `slo`, and the dashboard into `dir`, each
/// atomically. Returns the paths written, in the order above.
///
/// Everything is generated before anything is written, so an invalid `slo`
/// leaves `dir` untouched.
pub fn write_monitoring(
    dir: &Path,
    slo: &SloConfig,
    target: &str,
) -> Result<Vec<PathBuf>, MonitorError> {
    slo.validate()?;
    let files = [
        (CONFIG_FILE, prometheus::config_yaml(&ScrapeSettings::new(target))),
        (RULES_FILE, alerts::rules_yaml(slo)),
        (RULE_TESTS_FILE, rule_tests::rule_tests_yaml(slo, "divergence_alerts.yaml")?),
        (DASHBOARD_FILE, dashboard::dashboard_json(slo)),
    ];
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_monitoring_writes_four_files_and_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let slo = SloConfig::default();
        let paths = write_monitoring(dir.path(), &slo, "localhost:8003").unwrap();
        assert_eq!(paths.len(), 4);
        let first: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
        write_monitoring(dir.path(), &slo, "localhost:8003").unwrap();
        let second: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
        assert_eq!(first, second);
        let config = String::from_utf8(first[0].clone()).unwrap();
        assert!(config.contains("- localhost:8003\n"));
    }

    #[test]
    fn an_invalid_slo_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let slo = SloConfig { cpu_cores: 0.0, ..SloConfig::default() };
        let err = write_monitoring(dir.path(), &slo, "localhost:8003").unwrap_err();
        assert!(err.to_string().contains("cpu_cores"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
