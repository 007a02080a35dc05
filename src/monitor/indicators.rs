//! The service-level indicators: what each measures, its PromQL expression
//! (from [`super::queries`]), its unit and its objective in [`SloConfig`].
//!
//! [`Indicator::ALL`] is the order of the alert rules, the generated rule
//! tests and the SLO table in docs/monitoring.md.

use super::metrics::{self, LABEL_HORIZON};
use super::queries;
use super::slo::{Objective, SloConfig};

/// One service-level indicator.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Indicator {
    EventLatencyP95,
    PipelineLatencyP95,
    ComputeLatencyP95,
    ClosureError,
    ErrorRate,
    Availability,
    EventsPerHour,
    MedianScore,
    HitRate,
    CpuUtilisation,
    MemoryUtilisation,
    QueueBacklog,
}

impl Indicator {
    pub const ALL: [Indicator; 12] = [
        Indicator::EventLatencyP95,
        Indicator::PipelineLatencyP95,
        Indicator::ComputeLatencyP95,
        Indicator::ClosureError,
        Indicator::ErrorRate,
        Indicator::Availability,
        Indicator::EventsPerHour,
        Indicator::MedianScore,
        Indicator::HitRate,
        Indicator::CpuUtilisation,
        Indicator::MemoryUtilisation,
        Indicator::QueueBacklog,
    ];

    /// The key of its objective in [`SloConfig`], also the `slo` alert label.
    pub fn key(self) -> &'static str {
        match self {
            Indicator::EventLatencyP95 => "event_latency_p95_seconds",
            Indicator::PipelineLatencyP95 => "pipeline_latency_p95_seconds",
            Indicator::ComputeLatencyP95 => "compute_latency_p95_seconds",
            Indicator::ClosureError => "metric_closure_error",
            Indicator::ErrorRate => "error_rate",
            Indicator::Availability => "availability",
            Indicator::EventsPerHour => "events_per_hour",
            Indicator::MedianScore => "median_score",
            Indicator::HitRate => "hit_rate",
            Indicator::CpuUtilisation => "cpu_utilisation",
            Indicator::MemoryUtilisation => "memory_utilisation",
            Indicator::QueueBacklog => "queue_backlog",
        }
    }

    /// Its objective in `slo`.
    pub fn objective(self, slo: &SloConfig) -> &Objective {
        match self {
            Indicator::EventLatencyP95 => &slo.event_latency_p95_seconds,
            Indicator::PipelineLatencyP95 => &slo.pipeline_latency_p95_seconds,
            Indicator::ComputeLatencyP95 => &slo.compute_latency_p95_seconds,
            Indicator::ClosureError => &slo.metric_closure_error,
            Indicator::ErrorRate => &slo.error_rate,
            Indicator::Availability => &slo.availability,
            Indicator::EventsPerHour => &slo.events_per_hour,
            Indicator::MedianScore => &slo.median_score,
            Indicator::HitRate => &slo.hit_rate,
            Indicator::CpuUtilisation => &slo.cpu_utilisation,
            Indicator::MemoryUtilisation => &slo.memory_utilisation,
            Indicator::QueueBacklog => &slo.queue_backlog,
        }
    }

    /// The start of its alert names, such as `DivergenceComputeLatencyP95`.
    pub fn alert_stem(self) -> &'static str {
        match self {
            Indicator::EventLatencyP95 => "DivergenceEventLatencyP95",
            Indicator::PipelineLatencyP95 => "DivergencePipelineLatencyP95",
            Indicator::ComputeLatencyP95 => "DivergenceComputeLatencyP95",
            Indicator::ClosureError => "DivergenceMetricClosureError",
            Indicator::ErrorRate => "DivergenceErrorRate",
            Indicator::Availability => "DivergenceAvailability",
            Indicator::EventsPerHour => "DivergenceEventRate",
            Indicator::MedianScore => "DivergenceMedianScore",
            Indicator::HitRate => "DivergenceHitRate",
            Indicator::CpuUtilisation => "DivergenceCpuUtilisation",
            Indicator::MemoryUtilisation => "DivergenceMemoryUtilisation",
            Indicator::QueueBacklog => "DivergenceQueueBacklog",
        }
    }

    /// Its name in alert text.
    pub fn title(self) -> &'static str {
        match self {
            Indicator::EventLatencyP95 => "event latency p95 (bar close to emit)",
            Indicator::PipelineLatencyP95 => "pipeline latency p95",
            Indicator::ComputeLatencyP95 => "divergence compute latency p95",
            Indicator::ClosureError => "metric closure error (live vs offline counts)",
            Indicator::ErrorRate => "error rate",
            Indicator::Availability => "availability",
            Indicator::EventsPerHour => "events per hour",
            Indicator::MedianScore => "median event score",
            Indicator::HitRate => "hit rate",
            Indicator::CpuUtilisation => "CPU utilisation",
            Indicator::MemoryUtilisation => "memory utilisation",
            Indicator::QueueBacklog => "queue backlog",
        }
    }

    /// Unit of its values and levels, for alert text.
    pub fn unit(self) -> &'static str {
        match self {
            Indicator::EventLatencyP95 | Indicator::PipelineLatencyP95 => "s",
            Indicator::ComputeLatencyP95 => "s",
            Indicator::EventsPerHour => "events/h",
            Indicator::MedianScore => "points",
            Indicator::QueueBacklog => "bars",
            _ => "(fraction)",
        }
    }

    /// The labels its expression keeps; alerts fire once per group.
    pub fn group_labels(self) -> &'static [&'static str] {
        match self {
            Indicator::HitRate => &[LABEL_HORIZON],
            _ => &[],
        }
    }

    /// The range window its expression uses, if any.
    pub fn window(self, slo: &SloConfig) -> Option<&str> {
        match self {
            Indicator::EventLatencyP95 | Indicator::PipelineLatencyP95 => Some(&slo.rate_window),
            Indicator::ComputeLatencyP95 | Indicator::ErrorRate => Some(&slo.rate_window),
            Indicator::CpuUtilisation => Some(&slo.rate_window),
            Indicator::Availability => Some(&slo.availability_window),
            Indicator::EventsPerHour | Indicator::MedianScore => Some(&slo.quality_window),
            Indicator::HitRate => Some(&slo.quality_window),
            Indicator::ClosureError | Indicator::MemoryUtilisation => None,
            Indicator::QueueBacklog => None,
        }
    }

    /// The PromQL expression of the indicator's value.
    pub fn expr(self, slo: &SloConfig) -> String {
        let w = self.window(slo).unwrap_or_default();
        match self {
            Indicator::EventLatencyP95 => queries::quantile(0.95, &metrics::EVENT_LATENCY, w, &[]),
            Indicator::PipelineLatencyP95 => {
                queries::quantile(0.95, &metrics::PIPELINE_LATENCY, w, &[])
            }
            Indicator::ComputeLatencyP95 => {
                queries::quantile(0.95, &metrics::DETECTION_LATENCY, w, &[])
            }
            Indicator::ClosureError => queries::gauge_max(&metrics::CLOSURE_ERROR),
            Indicator::ErrorRate => {
                queries::ratio(&metrics::ERRORS_TOTAL, &metrics::REQUESTS_TOTAL, w, &[])
            }
            Indicator::Availability => queries::availability(w),
            Indicator::EventsPerHour => queries::per_hour(&metrics::EVENTS_TOTAL, w, &[]),
            Indicator::MedianScore => queries::quantile(0.5, &metrics::SCORE, w, &[]),
            Indicator::HitRate => {
                let by = self.group_labels();
                queries::ratio(&metrics::HITS_TOTAL, &metrics::LABELLED_TOTAL, w, by)
            }
            Indicator::CpuUtilisation => queries::cpu_utilisation(w, slo.cpu_cores),
            Indicator::MemoryUtilisation => queries::memory_utilisation(),
            Indicator::QueueBacklog => queries::gauge_max(&metrics::QUEUE_BACKLOG),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_alert_stems_are_distinct() {
        let keys: std::collections::BTreeSet<_> = Indicator::ALL.map(Indicator::key).into();
        let stems: std::collections::BTreeSet<_> = Indicator::ALL.map(Indicator::alert_stem).into();
        assert_eq!((keys.len(), stems.len()), (12, 12));
    }

    #[test]
    fn every_default_latency_level_is_a_bucket_boundary() {
        let slo = SloConfig::default();
        let pairs = [
            (Indicator::EventLatencyP95, metrics::EVENT_LATENCY.buckets),
            (Indicator::PipelineLatencyP95, metrics::PIPELINE_LATENCY.buckets),
            (Indicator::ComputeLatencyP95, metrics::DETECTION_LATENCY.buckets),
            (Indicator::MedianScore, metrics::SCORE.buckets),
        ];
        for (ind, buckets) in pairs {
            let o = ind.objective(&slo);
            for level in [&o.warning, &o.rollback].into_iter().flatten() {
                for bound in [level.below, level.above].into_iter().flatten() {
                    assert!(buckets.contains(&bound), "{} level {bound}", ind.key());
                }
            }
        }
    }
}
