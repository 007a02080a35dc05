//! The metric catalogue: every Prometheus family the divergence service and
//! the nightly job expose, with its type, help text, labels and buckets.
//!
//! The rules ([`super::alerts`]), the dashboard ([`super::dashboard`]), the
//! exporter ([`super::exporter`]) and the textfile ([`super::textfile`]) all
//! take names from the [`Metric`] constants here, so they cannot drift apart.
//! Labels are low-cardinality by design: source, side, kind and horizon,
//! never a symbol.

use crate::detector::{EventKind, Side};
use crate::tune::buckets::Source;

/// The Prometheus job name of the detector service.
pub const JOB: &str = "divergence";

/// Label names.
pub const LABEL_SOURCE: &str = "source";
pub const LABEL_SIDE: &str = "side";
pub const LABEL_KIND: &str = "kind";
pub const LABEL_HORIZON: &str = "horizon";
pub const LABEL_RUN_ID: &str = "run_id";
pub const LABEL_VERSION: &str = "version";

/// A Prometheus metric type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
}

impl MetricType {
    /// The name used in `# TYPE` lines.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
        }
    }
}

/// One metric family.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub kind: MetricType,
    pub help: &'static str,
    pub labels: &'static [&'static str],
    /// Upper bounds of the finite buckets, increasing; empty unless a histogram.
    pub buckets: &'static [f64],
}

impl Metric {
    /// `NAME_bucket`, the series of a histogram's cumulative buckets.
    pub fn bucket(&self) -> String {
        format!("{}_bucket", self.name)
    }

    /// `NAME_sum`.
    pub fn sum(&self) -> String {
        format!("{}_sum", self.name)
    }

    /// `NAME_count`.
    pub fn count(&self) -> String {
        format!("{}_count", self.name)
    }
}

const fn family(
    name: &'static str,
    kind: MetricType,
    help: &'static str,
    labels: &'static [&'static str],
    buckets: &'static [f64],
) -> Metric {
    Metric { name, kind, help, labels, buckets }
}

use MetricType::{Counter, Gauge, Histogram};

// Latency buckets include every default SLO level (2, 2.5, 5 ms; 5, 10,
// 20 ms; 50, 100, 200 ms) so that quantiles at those levels are exact.
const EVENT_LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.002, 0.0025, 0.005, 0.01, 0.025, 0.1];
const COMPUTE_LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25];
const PIPELINE_LATENCY_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5];
const SCORE_BUCKETS: &[f64] = &[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0];
const GAP_BUCKETS: &[f64] = &[1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0];
// Simple returns in the event's expected direction (0.001 = 10 bp).
const RETURN_BUCKETS: &[f64] =
    &[-0.01, -0.005, -0.002, -0.001, -0.0005, 0.0, 0.0005, 0.001, 0.002, 0.005, 0.01];

pub const EVENTS_TOTAL: Metric = family(
    "divergence_events_total",
    Counter,
    "Divergence events emitted, by channel source, side and kind.",
    &[LABEL_SOURCE, LABEL_SIDE, LABEL_KIND],
    &[],
);
pub const DETECTION_LATENCY: Metric = family(
    "divergence_detection_latency_seconds",
    Histogram,
    "Time the detector spends on one bar (divergence compute).",
    &[],
    COMPUTE_LATENCY_BUCKETS,
);
pub const EVENT_LATENCY: Metric = family(
    "divergence_event_latency_seconds",
    Histogram,
    "End-to-end time from bar close to event emission.",
    &[],
    EVENT_LATENCY_BUCKETS,
);
pub const PIPELINE_LATENCY: Metric = family(
    "divergence_pipeline_latency_seconds",
    Histogram,
    "Time from tick arrival to the bar's features being ready.",
    &[],
    PIPELINE_LATENCY_BUCKETS,
);
pub const SCORE: Metric =
    family("divergence_score", Histogram, "Score (0-100) of emitted events.", &[], SCORE_BUCKETS);
pub const PAIRING_GAP: Metric = family(
    "divergence_pairing_gap_bars",
    Histogram,
    "Bars between the two pivots an event compares.",
    &[],
    GAP_BUCKETS,
);
pub const FORWARD_RETURN: Metric = family(
    "divergence_forward_return",
    Histogram,
    "Simple forward return in the event's expected direction, by horizon in bars.",
    &[LABEL_HORIZON],
    RETURN_BUCKETS,
);
pub const HITS_TOTAL: Metric = family(
    "divergence_hits_total",
    Counter,
    "Labelled directional events whose forward return beat the cost, by horizon.",
    &[LABEL_HORIZON],
    &[],
);
pub const LABELLED_TOTAL: Metric = family(
    "divergence_labelled_total",
    Counter,
    "Directional events with a forward-return outcome, by horizon.",
    &[LABEL_HORIZON],
    &[],
);
pub const ERRORS_TOTAL: Metric =
    family("divergence_errors_total", Counter, "Requests that failed.", &[], &[]);
pub const REQUESTS_TOTAL: Metric =
    family("divergence_requests_total", Counter, "Requests handled (bars processed).", &[], &[]);
pub const CLOSURE_ERROR: Metric = family(
    "divergence_metric_closure_error",
    Gauge,
    "Relative difference between live (dashboard) and offline event counts.",
    &[],
    &[],
);
pub const QUEUE_BACKLOG: Metric =
    family("divergence_queue_backlog", Gauge, "Bars waiting to be processed.", &[], &[]);
pub const CONFIG_INFO: Metric = family(
    "divergence_config_info",
    Gauge,
    "Always 1; labels name the active deployed run and version.",
    &[LABEL_RUN_ID, LABEL_VERSION],
    &[],
);
pub const MEMORY_LIMIT: Metric = family(
    "divergence_memory_limit_bytes",
    Gauge,
    "Memory the service may use, the denominator of memory utilisation.",
    &[],
    &[],
);

/// Prometheus' own scrape health series, 1 when the target answered.
pub const UP: Metric = family("up", Gauge, "Scrape succeeded.", &[], &[]);
/// Standard process metrics (the client-library names).
pub const PROCESS_CPU: Metric =
    family("process_cpu_seconds_total", Counter, "User and system CPU time.", &[], &[]);
pub const PROCESS_RSS: Metric =
    family("process_resident_memory_bytes", Gauge, "Resident memory size.", &[], &[]);

/// The service's own families, in exposition order.
pub const SERVICE_METRICS: [Metric; 15] = [
    EVENTS_TOTAL,
    DETECTION_LATENCY,
    EVENT_LATENCY,
    PIPELINE_LATENCY,
    SCORE,
    PAIRING_GAP,
    FORWARD_RETURN,
    HITS_TOTAL,
    LABELLED_TOTAL,
    ERRORS_TOTAL,
    REQUESTS_TOTAL,
    CLOSURE_ERROR,
    QUEUE_BACKLOG,
    CONFIG_INFO,
    MEMORY_LIMIT,
];

// The nightly job's textfile-collector families.
pub const NIGHTLY_DURATION: Metric = family(
    "divtune_nightly_run_duration_seconds",
    Gauge,
    "Wall time of the last nightly divtune run.",
    &[],
    &[],
);
pub const NIGHTLY_LAST_SUCCESS: Metric = family(
    "divtune_nightly_last_success_timestamp_seconds",
    Gauge,
    "Unix time at which a nightly run last completed.",
    &[],
    &[],
);
pub const NIGHTLY_GATE_PASSED: Metric = family(
    "divtune_nightly_gate_passed",
    Gauge,
    "1 when the last run passed its acceptance gate, else 0.",
    &[],
    &[],
);
pub const NIGHTLY_ACCURACY: Metric = family(
    "divtune_nightly_accuracy",
    Gauge,
    "Test-period accuracy of the chosen parameters, by horizon in bars.",
    &[LABEL_HORIZON],
    &[],
);
pub const NIGHTLY_RUN_INFO: Metric = family(
    "divtune_nightly_run_info",
    Gauge,
    "Always 1; the label names the last run.",
    &[LABEL_RUN_ID],
    &[],
);

/// Values of the `source` label.
pub fn sources() -> [&'static str; 3] {
    Source::ALL.map(Source::as_str)
}

/// The directional sides, whose events have forward-return outcomes.
pub const DIRECTIONAL_SIDES: [Side; 2] = [Side::Bull, Side::Bear];

/// The `(side, kind)` pairs an event can have: regular and hidden events
/// are bull or bear, conflicts have no side.
pub fn side_kind_pairs() -> [(Side, EventKind); 5] {
    [
        (Side::Bull, EventKind::Regular),
        (Side::Bear, EventKind::Regular),
        (Side::Bull, EventKind::Hidden),
        (Side::Bear, EventKind::Hidden),
        (Side::None, EventKind::Conflict),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_a_valid_prometheus_name_with_its_prefix() {
        let valid = |s: &str| {
            s.chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
        };
        for m in SERVICE_METRICS {
            assert!(m.name.starts_with("divergence_") && valid(m.name), "{}", m.name);
            assert!(m.labels.iter().all(|l| valid(l)), "{}", m.name);
        }
        for m in [NIGHTLY_DURATION, NIGHTLY_LAST_SUCCESS, NIGHTLY_GATE_PASSED, NIGHTLY_ACCURACY] {
            assert!(m.name.starts_with("divtune_nightly_"), "{}", m.name);
        }
    }

    #[test]
    fn counters_end_in_total_and_only_histograms_have_buckets() {
        for m in SERVICE_METRICS {
            assert_eq!(m.kind == Counter, m.name.ends_with("_total"), "{}", m.name);
            assert_eq!(m.kind == Histogram, !m.buckets.is_empty(), "{}", m.name);
            assert!(m.buckets.windows(2).all(|w| w[0] < w[1]), "{} buckets increase", m.name);
        }
    }

    #[test]
    fn no_family_has_a_per_symbol_label() {
        for m in SERVICE_METRICS {
            assert!(m.labels.iter().all(|l| !l.contains("symbol")), "{}", m.name);
        }
    }

    #[test]
    fn label_values_come_from_the_detector_vocabulary() {
        assert_eq!(sources(), ["OFI_ONLY", "CVD_ONLY", "FUSION"]);
        let pairs: Vec<(&str, &str)> =
            side_kind_pairs().iter().map(|(s, k)| (s.as_str(), k.as_str())).collect();
        assert_eq!(pairs[4], ("none", "conflict"));
        let kinds: std::collections::HashSet<_> = side_kind_pairs().map(|p| p.1).into();
        assert_eq!(kinds.len(), EventKind::ALL.len());
    }

    #[test]
    fn score_buckets_run_from_ten_to_one_hundred_by_ten() {
        let expected: Vec<f64> = (1..=10).map(|i| 10.0 * i as f64).collect();
        assert_eq!(SCORE.buckets, expected.as_slice());
    }
}
