//! Generation of `alerting_rules/divergence_alerts.yaml` from an
//! [`SloConfig`]: per indicator one rule per configured level, named
//! `<Stem>Warning` and `<Stem>Rollback` and labelled `severity: warning` or
//! `severity: rollback` plus `slo: <config key>`.
//!
//! Descriptions carry the value as `{{ $value | printf "%.3g" }}`; the rule
//! unit tests ([`super::rule_tests`]) render the same text to compare.

use super::indicators::Indicator;
use super::slo::{Level, SloConfig};
use serde::Serialize;
use std::collections::BTreeMap;

/// Name of the rule group in the generated file.
pub const GROUP_NAME: &str = "divergence-slo";

/// The severity of an alert level.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Rollback,
}

impl Severity {
    pub const ALL: [Severity; 2] = [Severity::Warning, Severity::Rollback];

    /// The `severity` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Rollback => "rollback",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Severity::Warning => "Warning",
            Severity::Rollback => "Rollback",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Severity::Warning => "Investigate before it reaches the rollback level.",
            Severity::Rollback => {
                "Roll back the deployed parameters: divtune rollback --deploy DEPLOY_DIR"
            }
        }
    }

    /// The level of this severity in an objective.
    pub fn level(self, objective: &super::slo::Objective) -> Option<&Level> {
        match self {
            Severity::Warning => objective.warning.as_ref(),
            Severity::Rollback => objective.rollback.as_ref(),
        }
    }
}

/// A rule file: `groups: [{name, rules}]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

/// One rule group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<AlertRule>,
}

/// One alerting rule, in Prometheus' field order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRule {
    pub alert: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_duration: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// The alert name of an indicator at a severity.
pub fn alert_name(indicator: Indicator, severity: Severity) -> String {
    format!("{}{}", indicator.alert_stem(), severity.suffix())
}

/// Every alert rule of `slo`, in [`Indicator::ALL`] order, warning first.
pub fn alert_rules(slo: &SloConfig) -> Vec<AlertRule> {
    let mut rules = Vec::new();
    for indicator in Indicator::ALL {
        for severity in Severity::ALL {
            if let Some(level) = severity.level(indicator.objective(slo)) {
                rules.push(alert_rule(slo, indicator, severity, level));
            }
        }
    }
    rules
}

fn alert_rule(slo: &SloConfig, ind: Indicator, severity: Severity, level: &Level) -> AlertRule {
    let labels = [("severity", severity.as_str()), ("slo", ind.key())];
    let annotations = [
        ("summary", summary(ind, severity, level)),
        ("description", description(slo, ind, severity, level, VALUE_TEMPLATE)),
    ];
    AlertRule {
        alert: alert_name(ind, severity),
        expr: condition(&ind.expr(slo), level),
        for_duration: level.for_duration.clone(),
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        annotations: annotations.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}

/// How the alert's value is printed in its description.
pub const VALUE_TEMPLATE: &str = "{{ $value | printf \"%.3g\" }}";

/// `expr > above`, `expr < below`, or both joined by `or`.
fn condition(expr: &str, level: &Level) -> String {
    match (level.below, level.above) {
        (Some(lo), Some(hi)) => format!("({expr}) < {lo} or ({expr}) > {hi}"),
        (Some(lo), None) => format!("{expr} < {lo}"),
        (None, Some(hi)) => format!("{expr} > {hi}"),
        (None, None) => unreachable!("a validated level has a bound"),
    }
}

/// `below 5 or above 200 events/h for 30m`.
pub(crate) fn level_text(ind: Indicator, level: &Level) -> String {
    let unit = ind.unit();
    let bounds: Vec<String> = [("below", level.below), ("above", level.above)]
        .iter()
        .filter_map(|(word, b)| b.map(|b| format!("{word} {b} {unit}")))
        .collect();
    format!("{} for {}", bounds.join(" or "), level.for_duration)
}

fn summary(ind: Indicator, severity: Severity, level: &Level) -> String {
    format!("Divergence {} {} ({} level)", ind.title(), level_text(ind, level), severity.as_str())
}

/// The description with `value` standing for the alert's value: the
/// template in rules, the rendered number in rule tests.
pub(crate) fn description(
    slo: &SloConfig,
    ind: Indicator,
    severity: Severity,
    level: &Level,
    value: &str,
) -> String {
    let scope = match ind.group_labels() {
        [] => String::new(),
        _ => " at horizon {{ $labels.horizon }} bars".to_string(),
    };
    format!(
        "The {}{scope} is {value} {}; the {} level is {}; target {}. {}",
        ind.title(),
        ind.unit(),
        severity.as_str(),
        level_text(ind, level),
        ind.objective(slo).target,
        severity.action()
    )
}

/// The rule file of `slo` as YAML (stable: fields in declared order).
pub fn rules_yaml(slo: &SloConfig) -> String {
    let file = RuleFile {
        groups: vec![RuleGroup { name: GROUP_NAME.to_string(), rules: alert_rules(slo) }],
    };
    serde_yaml::to_string(&file).expect("rules always serialize")
}

/// Every distinct PromQL expression in the rules: indicators and conditions.
pub fn expressions(slo: &SloConfig) -> Vec<String> {
    let mut exprs: Vec<String> = Indicator::ALL.iter().map(|i| i.expr(slo)).collect();
    exprs.extend(alert_rules(slo).into_iter().map(|r| r.expr));
    exprs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rules_have_both_levels_except_for_resource_warnings() {
        let rules = alert_rules(&SloConfig::default());
        assert_eq!(rules.len(), 9 * 2 + 3);
        let rollback =
            rules.iter().find(|r| r.alert == "DivergenceComputeLatencyP95Rollback").unwrap();
        assert_eq!(rollback.for_duration, "10m");
        assert_eq!(rollback.labels["severity"], "rollback");
        assert_eq!(rollback.labels["slo"], "compute_latency_p95_seconds");
        assert!(rollback.expr.ends_with("[5m]))) > 0.02"), "{}", rollback.expr);
        assert!(rules.iter().all(|r| !r.alert.starts_with("DivergenceQueueBacklogRollback")));
    }

    #[test]
    fn a_two_sided_level_joins_both_conditions_with_or() {
        let rules = alert_rules(&SloConfig::default());
        let rate = rules.iter().find(|r| r.alert == "DivergenceEventRateWarning").unwrap();
        assert_eq!(
            rate.expr,
            "(sum(rate(divergence_events_total[1h])) * 3600) < 5 or \
             (sum(rate(divergence_events_total[1h])) * 3600) > 200"
        );
        assert_eq!(
            rate.annotations["summary"],
            "Divergence events per hour below 5 events/h or \
            above 200 events/h for 30m (warning level)"
        );
    }

    #[test]
    fn levels_and_durations_follow_the_config() {
        let mut slo = SloConfig::default();
        slo.error_rate.rollback =
            Some(Level { below: None, above: Some(0.03), for_duration: "7m".into() });
        let yaml = rules_yaml(&slo);
        assert!(
            yaml.contains("/ sum(rate(divergence_requests_total[5m])) > 0.03\n    for: 7m"),
            "{yaml}"
        );
    }

    #[test]
    fn the_rule_file_is_byte_identical_between_calls() {
        let slo = SloConfig::default();
        assert_eq!(rules_yaml(&slo), rules_yaml(&slo));
        assert!(
            rules_yaml(&slo).starts_with("groups:\n- name: divergence-slo\n  rules:\n  - alert: ")
        );
    }
}
