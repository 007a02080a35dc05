//! The config file (`config/divtune.yaml`): one section per stage, every
//! key optional with a documented default, unknown keys rejected so that a
//! typo cannot silently leave a default in force.

use crate::calibrate::CalibrationConfig;
use crate::data::DataConfig;
use crate::detector::DetectorParams;
use crate::features::FeatureParams;
use crate::gate::GateConfig;
use crate::labels::LabelParams;
use crate::synth::MarketConfig;
use crate::tune::buckets::BucketConfig;
use crate::tune::TuneConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data: DataConfig,
    pub features: FeatureParams,
    pub detector: DetectorParams,
    pub labels: LabelParams,
    pub tune: TuneConfig,
    pub buckets: BucketConfig,
    pub calibrate: CalibrationConfig,
    pub gate: GateConfig,
    pub monitor: MonitorConfig,
    pub synth: MarketConfig,
}

/// The `monitor:` section: alert levels and the service to scrape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Where Prometheus scrapes the detector service.
    pub target: String,
    /// Set the event-rate, score and hit-rate levels from the run's own
    /// test figures instead of `slo`.
    pub levels_from_run: bool,
    pub slo: crate::monitor::SloConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            target: "localhost:8003".to_string(),
            levels_from_run: true,
            slo: crate::monitor::SloConfig::default(),
        }
    }
}

/// A config that cannot be used, naming the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// Where the config comes from when `--config` is not given.
pub const DEFAULT_PATH: &str = "config/divtune.yaml";

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError { path: path.to_path_buf(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let config: Config = serde_yaml::from_str(&text).map_err(|e| err(e.to_string()))?;
        config.validate().map_err(err)?;
        Ok(config)
    }

    /// Reads `path` if given, else the default file if it exists, else the
    /// built-in defaults. Returns the config and where it came from.
    pub fn resolve(path: Option<&Path>) -> Result<(Config, String), ConfigError> {
        match path {
            Some(p) => Ok((Config::load(p)?, p.display().to_string())),
            None if Path::new(DEFAULT_PATH).exists() => {
                Ok((Config::load(Path::new(DEFAULT_PATH))?, DEFAULT_PATH.to_string()))
            }
            None => Ok((Config::default(), "built-in defaults".to_string())),
        }
    }

    /// Checks every section's ranges.
    pub fn validate(&self) -> Result<(), String> {
        self.data.checked()?;
        self.features.validate().map_err(|e| format!("features: {e}"))?;
        self.detector.validate().map_err(|e| format!("detector: {e}"))?;
        self.labels.validate().map_err(|e| format!("labels: {e}"))?;
        self.tune.validate(&self.detector)?;
        crate::tune::buckets::SessionClock::new(&self.buckets.session)?;
        self.buckets.liquidity.validate()?;
        self.calibrate.validate().map_err(|e| format!("calibrate: {e}"))?;
        self.gate.validate()?;
        self.monitor.slo.validate().map_err(|e| format!("monitor.slo: {e}"))?;
        self.synth.validate().map_err(|e| format!("synth: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_is_rejected_with_its_name() {
        let err = serde_yaml::from_str::<Config>("detector:\n  swing: 5\n").unwrap_err();
        assert!(err.to_string().contains("swing"), "{err}");
    }

    #[test]
    fn an_empty_file_means_all_defaults() {
        let config: Config = serde_yaml::from_str("{}").unwrap();
        assert_eq!(config, Config::default());
        assert!(config.validate().is_ok());
    }

    #[test]
    fn the_shipped_config_loads_and_validates() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_PATH);
        Config::load(&path).unwrap();
    }
}
