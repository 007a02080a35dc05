//! PromQL expressions over the catalogue's metrics, shared by the alert
//! rules and the dashboard so both compute an indicator the same way.
//!
//! Every function returns a complete expression that Prometheus accepts on
//! its own (no Grafana variables), which the integration test checks
//! against a real Prometheus.

use super::metrics::{self, Metric};

/// `sum by (a, b) (inner)`, or `sum(inner)` when `by` is empty.
fn sum_by(by: &[&str], inner: &str) -> String {
    if by.is_empty() {
        format!("sum({inner})")
    } else {
        format!("sum by ({}) ({inner})", by.join(", "))
    }
}

/// The `q` quantile of histogram `m` over `window`, per group of `by`:
/// `histogram_quantile(q, sum by (le, ..) (rate(m_bucket[window])))`.
pub fn quantile(q: f64, m: &Metric, window: &str, by: &[&str]) -> String {
    let mut keys = vec!["le"];
    keys.extend_from_slice(by);
    let rate = format!("rate({}[{window}])", m.bucket());
    format!("histogram_quantile({q}, {})", sum_by(&keys, &rate))
}

/// Events (or any counter) per hour: `sum by (..) (rate(m[window])) * 3600`.
pub fn per_hour(m: &Metric, window: &str, by: &[&str]) -> String {
    format!("{} * 3600", sum_by(by, &format!("rate({}[{window}])", m.name)))
}

/// The ratio of two counters' rates, per group of `by`.
pub fn ratio(num: &Metric, den: &Metric, window: &str, by: &[&str]) -> String {
    let part = |m: &Metric| sum_by(by, &format!("rate({}[{window}])", m.name));
    format!("{} / {}", part(num), part(den))
}

/// Mean of a histogram's observations per group: rate of sum over rate of count.
pub fn mean(m: &Metric, window: &str, by: &[&str]) -> String {
    let part = |series: String| sum_by(by, &format!("rate({series}[{window}])"));
    format!("{} / {}", part(m.sum()), part(m.count()))
}

/// The worst instance's share of successful scrapes over `window`.
pub fn availability(window: &str) -> String {
    format!("min(avg_over_time({}{{job=\"{}\"}}[{window}]))", metrics::UP.name, metrics::JOB)
}

/// The largest value of a gauge across instances.
pub fn gauge_max(m: &Metric) -> String {
    format!("max({})", m.name)
}

/// CPU seconds per second of the busiest instance, over the allowed cores.
pub fn cpu_utilisation(window: &str, cores: f64) -> String {
    let cpu = metrics::PROCESS_CPU.name;
    format!("max(rate({cpu}{{job=\"{}\"}}[{window}])) / {cores}", metrics::JOB)
}

/// Resident memory over the service's declared limit, worst instance.
pub fn memory_utilisation() -> String {
    let (rss, limit) = (metrics::PROCESS_RSS.name, metrics::MEMORY_LIMIT.name);
    format!("max({rss}{{job=\"{}\"}} / {limit})", metrics::JOB)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::metrics::{DETECTION_LATENCY, EVENTS_TOTAL, HITS_TOTAL, LABELLED_TOTAL};

    #[test]
    fn quantiles_keep_le_first_in_the_grouping() {
        assert_eq!(
            quantile(0.95, &DETECTION_LATENCY, "5m", &[]),
            "histogram_quantile(0.95, sum by (le) \
             (rate(divergence_detection_latency_seconds_bucket[5m])))"
        );
        assert!(quantile(0.5, &DETECTION_LATENCY, "1h", &["horizon"]).contains("by (le, horizon)"));
    }

    #[test]
    fn ratios_and_rates_group_both_sides_alike() {
        assert_eq!(
            ratio(&HITS_TOTAL, &LABELLED_TOTAL, "1h", &["horizon"]),
            "sum by (horizon) (rate(divergence_hits_total[1h])) / \
             sum by (horizon) (rate(divergence_labelled_total[1h]))"
        );
        assert_eq!(
            per_hour(&EVENTS_TOTAL, "1h", &[]),
            "sum(rate(divergence_events_total[1h])) * 3600"
        );
    }

    #[test]
    fn process_metrics_are_restricted_to_the_divergence_job() {
        assert_eq!(
            cpu_utilisation("5m", 2.0),
            "max(rate(process_cpu_seconds_total{job=\"divergence\"}[5m])) / 2"
        );
        assert!(memory_utilisation().contains("process_resident_memory_bytes{job=\"divergence\"}"));
        assert!(availability("1h").contains("avg_over_time(up{job=\"divergence\"}[1h])"));
    }
}
