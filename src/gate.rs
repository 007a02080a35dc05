//! The acceptance gate: the deployment checklist's rules applied to a
//! run's held-out figures, with one verdict per rule.
//!
//! Every rule reads the test period (never training figures): accuracy at
//! each horizon against an absolute floor, its p-value after the run's
//! multiple-testing correction, the events-per-hour band, the median score,
//! and the calibration's Spearman test. The verdict is written as
//! gate.json and as a JUnit XML file (one test case per rule) for CI
//! systems; the exit code is 0 when every rule passes and 1 otherwise.

use crate::artifacts::{self, WriteError};
use crate::run::SCHEMA_VERSION;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// The `gate:` section of the config: the checklist's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// Test accuracy every horizon must reach.
    pub min_accuracy: f64,
    /// Largest corrected p-value accepted for accuracy and for Spearman.
    pub max_p_value: f64,
    pub min_events_per_hour: f64,
    pub max_events_per_hour: f64,
    pub min_median_score: f64,
    /// Require the calibration's Spearman rho > 0 with p below
    /// `max_p_value` on at least one horizon.
    pub require_monotone_score: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            min_accuracy: 0.55,
            max_p_value: 0.05,
            min_events_per_hour: 10.0,
            max_events_per_hour: 100.0,
            min_median_score: 50.0,
            require_monotone_score: true,
        }
    }
}

impl GateConfig {
    pub fn validate(&self) -> Result<(), String> {
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        if !unit(self.min_accuracy) || !unit(self.max_p_value) {
            return Err(format!(
                "gate: min_accuracy and max_p_value must be in [0, 1], got {} and {}",
                self.min_accuracy, self.max_p_value
            ));
        }
        if !(self.min_events_per_hour >= 0.0
            && self.max_events_per_hour >= self.min_events_per_hour)
        {
            return Err("gate: need 0 <= min_events_per_hour <= max_events_per_hour".to_string());
        }
        Ok(())
    }
}

/// The held-out figures the rules read, per horizon.
#[derive(Clone, Debug, PartialEq)]
pub struct HorizonEvidence {
    pub horizon: usize,
    pub accuracy: f64,
    pub labelled: u64,
    pub p_corrected: f64,
    /// Spearman rho of score against forward return on test events, and its
    /// one-sided p-value (rho > 0).
    pub spearman_rho: f64,
    pub spearman_p: f64,
}

/// Everything the gate looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub run_id: String,
    pub horizons: Vec<HorizonEvidence>,
    pub events_per_hour: f64,
    pub median_score: f64,
}

/// gate.json and its rules, as deployment reads them back.
pub use crate::deploy::run_files::{GateFile as GateReport, GateRule as RuleResult};

/// Applies every rule. NaN figures (no events) fail their rule.
pub fn evaluate(evidence: &Evidence, config: &GateConfig) -> GateReport {
    let mut rules = Vec::new();
    for h in &evidence.horizons {
        rules.push(RuleResult {
            name: format!("acc@{}", h.horizon),
            value: finite(h.accuracy),
            threshold: format!(">= {}", config.min_accuracy),
            passed: h.accuracy >= config.min_accuracy,
            detail: format!("test accuracy over {} labelled events", h.labelled),
        });
        rules.push(RuleResult {
            name: format!("p@{}", h.horizon),
            value: finite(h.p_corrected),
            threshold: format!("< {}", config.max_p_value),
            passed: h.p_corrected < config.max_p_value,
            detail: "one-sided binomial p against the base rate, effective n, Holm-adjusted".into(),
        });
    }
    rules.push(rate_rule(evidence.events_per_hour, config));
    rules.push(RuleResult {
        name: "median_score".into(),
        value: finite(evidence.median_score),
        threshold: format!(">= {}", config.min_median_score),
        passed: evidence.median_score >= config.min_median_score,
        detail: "median score of test events".into(),
    });
    if config.require_monotone_score {
        rules.push(monotone_rule(&evidence.horizons, config));
    }
    let passed = rules.iter().all(|r| r.passed);
    GateReport { schema_version: SCHEMA_VERSION, run_id: evidence.run_id.clone(), passed, rules }
}

fn rate_rule(rate: f64, config: &GateConfig) -> RuleResult {
    RuleResult {
        name: "events_per_hour".into(),
        value: finite(rate),
        threshold: format!("{} to {}", config.min_events_per_hour, config.max_events_per_hour),
        passed: rate >= config.min_events_per_hour && rate <= config.max_events_per_hour,
        detail: "events per hour in the test period, all kinds".into(),
    }
}

/// Spearman rho > 0 with p below the limit on at least one horizon; the
/// value reported is the best horizon's p-value.
fn monotone_rule(horizons: &[HorizonEvidence], config: &GateConfig) -> RuleResult {
    let carried: Vec<usize> = horizons
        .iter()
        .filter(|h| h.spearman_rho > 0.0 && h.spearman_p < config.max_p_value)
        .map(|h| h.horizon)
        .collect();
    let best = horizons.iter().map(|h| h.spearman_p).fold(f64::NAN, f64::min);
    let detail = if carried.is_empty() {
        "no horizon has score rank-correlated with forward return".to_string()
    } else {
        format!("carried by horizon {:?}", carried)
    };
    RuleResult {
        name: "spearman".into(),
        value: finite(best),
        threshold: format!("rho > 0 and p < {} on a horizon", config.max_p_value),
        passed: !carried.is_empty(),
        detail,
    }
}

/// A figure for gate.json: None where it could not be computed (no events).
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The lines printed on stdout: one per rule, then the verdict.
pub fn render(report: &GateReport) -> String {
    let mut out = String::new();
    for r in &report.rules {
        let verdict = if r.passed { "pass" } else { "FAIL" };
        let _ = writeln!(
            out,
            "{:<16} {:>12} {:<32} {}",
            r.name,
            format_value(r.value),
            r.threshold,
            verdict
        );
    }
    let _ = match report.passed {
        true => writeln!(out, "gate: PASSED ({} rules)", report.rules.len()),
        false => writeln!(out, "gate: FAILED: {}", report.failed_rules().join(", ")),
    };
    out
}

fn format_value(v: Option<f64>) -> String {
    let Some(v) = v else { return "n/a".to_string() };
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
    }
}

/// JUnit XML with one test case per rule, as CI systems read it.
pub fn junit(report: &GateReport) -> String {
    let failures = report.rules.iter().filter(|r| !r.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"divtune gate\" tests=\"{}\" failures=\"{failures}\">",
        report.rules.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"gate.{}\" tests=\"{}\" failures=\"{failures}\">",
        xml_escape(&report.run_id),
        report.rules.len()
    );
    for r in &report.rules {
        let _ = write!(
            out,
            "    <testcase classname=\"divtune.gate\" name=\"{}\"",
            xml_escape(&r.name)
        );
        if r.passed {
            let _ = writeln!(out, "/>");
        } else {
            let message = format!("{} = {}, needs {}", r.name, format_value(r.value), r.threshold);
            let _ = writeln!(out, ">");
            let _ = writeln!(
                out,
                "      <failure message=\"{}\">{}</failure>",
                xml_escape(&message),
                xml_escape(&r.detail)
            );
            let _ = writeln!(out, "    </testcase>");
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Writes gate.json and gate_junit.xml into the run directory.
pub fn write(dir: &Path, report: &GateReport) -> Result<(), WriteError> {
    artifacts::write_json(&dir.join("gate.json"), report)?;
    artifacts::write_bytes(&dir.join("gate_junit.xml"), junit(report).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(acc: f64, p: f64, rate: f64, score: f64, rho: f64, rho_p: f64) -> Evidence {
        let h = |horizon| HorizonEvidence {
            horizon,
            accuracy: acc,
            labelled: 200,
            p_corrected: p,
            spearman_rho: rho,
            spearman_p: rho_p,
        };
        Evidence {
            run_id: "r1".into(),
            horizons: vec![h(10), h(20)],
            events_per_hour: rate,
            median_score: score,
        }
    }

    #[test]
    fn a_run_meeting_every_rule_passes() {
        let report =
            evaluate(&evidence(0.6, 0.001, 30.0, 55.0, 0.2, 0.001), &GateConfig::default());
        assert!(report.passed, "{}", render(&report));
        assert_eq!(report.rules.len(), 7);
    }

    #[test]
    fn each_rule_fails_on_its_own() {
        let config = GateConfig::default();
        let cases = [
            (evidence(0.54, 0.001, 30.0, 55.0, 0.2, 0.001), "acc@10"),
            (evidence(0.6, 0.05, 30.0, 55.0, 0.2, 0.001), "p@10"),
            (evidence(0.6, 0.001, 9.9, 55.0, 0.2, 0.001), "events_per_hour"),
            (evidence(0.6, 0.001, 100.1, 55.0, 0.2, 0.001), "events_per_hour"),
            (evidence(0.6, 0.001, 30.0, 49.9, 0.2, 0.001), "median_score"),
            (evidence(0.6, 0.001, 30.0, 55.0, -0.2, 0.001), "spearman"),
            (evidence(0.6, 0.001, 30.0, 55.0, 0.2, 0.2), "spearman"),
        ];
        for (e, rule) in cases {
            let report = evaluate(&e, &config);
            assert!(!report.passed);
            assert!(
                report.failed_rules().iter().any(|r| r == rule),
                "{rule}: {:?}",
                report.failed_rules()
            );
        }
    }

    #[test]
    fn no_events_fail_rather_than_pass() {
        let report = evaluate(
            &evidence(f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
            &GateConfig::default(),
        );
        assert!(report.rules.iter().all(|r| !r.passed), "{}", render(&report));
    }

    #[test]
    fn junit_has_one_case_per_rule_and_a_failure_for_each_failed_rule() {
        let report = evaluate(&evidence(0.5, 0.3, 30.0, 55.0, 0.2, 0.001), &GateConfig::default());
        let xml = junit(&report);
        assert_eq!(xml.matches("<testcase ").count(), 7);
        assert_eq!(xml.matches("<failure ").count(), 4);
        assert!(xml.contains("tests=\"7\" failures=\"4\""));
    }

    #[test]
    fn gate_json_round_trips_with_missing_values() {
        let report =
            evaluate(&evidence(f64::NAN, 1.0, 0.0, 50.0, 0.1, 0.01), &GateConfig::default());
        let text = serde_json::to_string(&report).unwrap();
        let back: GateReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back.rules.len(), report.rules.len());
        assert_eq!(back.rules[0].value, None);
    }
}
