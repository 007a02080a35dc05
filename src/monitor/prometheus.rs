//! Generation of `prometheus_divergence.yml`: global intervals, one scrape
//! job `divergence` for the detector service and the alert rule file.
//!
//! `rule_files` is relative to the config file, as Prometheus resolves it.

use super::metrics::JOB;
use serde::Serialize;

/// The rule file's path relative to the Prometheus config.
pub const RULES_PATH: &str = "alerting_rules/divergence_alerts.yaml";
/// The detector service's default metrics address.
pub const DEFAULT_TARGET: &str = "localhost:8003";

/// Where and how often to scrape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrapeSettings {
    /// `host:port` of the detector service's `/metrics`.
    pub target: String,
    pub scrape_interval: String,
    pub evaluation_interval: String,
}

impl ScrapeSettings {
    /// 15 s scrape and evaluation intervals for `target`.
    pub fn new(target: &str) -> ScrapeSettings {
        let interval = "15s".to_string();
        ScrapeSettings {
            target: target.into(),
            scrape_interval: interval.clone(),
            evaluation_interval: interval,
        }
    }
}

#[derive(Serialize)]
struct Config<'a> {
    global: Global<'a>,
    rule_files: [&'a str; 1],
    scrape_configs: [ScrapeConfig<'a>; 1],
}

#[derive(Serialize)]
struct Global<'a> {
    scrape_interval: &'a str,
    evaluation_interval: &'a str,
}

#[derive(Serialize)]
struct ScrapeConfig<'a> {
    job_name: &'a str,
    metrics_path: &'a str,
    static_configs: [StaticConfig<'a>; 1],
}

#[derive(Serialize)]
struct StaticConfig<'a> {
    targets: [&'a str; 1],
}

/// The Prometheus config as YAML.
pub fn config_yaml(settings: &ScrapeSettings) -> String {
    let config = Config {
        global: Global {
            scrape_interval: &settings.scrape_interval,
            evaluation_interval: &settings.evaluation_interval,
        },
        rule_files: [RULES_PATH],
        scrape_configs: [ScrapeConfig {
            job_name: JOB,
            metrics_path: "/metrics",
            static_configs: [StaticConfig { targets: [&settings.target] }],
        }],
    };
    serde_yaml::to_string(&config).expect("config always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_scrapes_the_target_and_loads_the_rules() {
        let yaml = config_yaml(&ScrapeSettings::new("10.0.0.5:9000"));
        assert_eq!(
            yaml,
            "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n\
             rule_files:\n- alerting_rules/divergence_alerts.yaml\n\
             scrape_configs:\n- job_name: divergence\n  metrics_path: /metrics\n  \
             static_configs:\n  - targets:\n    - 10.0.0.5:9000\n"
        );
    }
}
