//! The nightly job's own metrics as a node-exporter textfile-collector
//! file (`divtune_nightly.prom`): run duration, last success time, gate
//! verdict, test accuracy per horizon and the run id.
//!
//! The file is replaced atomically, so the collector never reads half of
//! it. The last-success time survives a failed run: it is carried over
//! from the previous file when this run did not complete.

use super::exporter::format_value;
use super::metrics::{self, Metric};
use super::MonitorError;
use std::fmt::Write as _;
use std::path::Path;

/// The conventional file name for the textfile collector.
pub const FILE_NAME: &str = "divtune_nightly.prom";

/// What one nightly run reports.
#[derive(Clone, Debug, PartialEq)]
pub struct NightlyStatus {
    pub run_id: String,
    pub duration_s: f64,
    /// Unix time (seconds) at which the run ended.
    pub finished_at_unix_s: f64,
    /// True when the run completed and wrote its artifacts (whatever the gate said).
    pub completed: bool,
    /// The gate verdict; `None` when the run stopped before the gate.
    pub gate_passed: Option<bool>,
    /// `(horizon in bars, test accuracy)`, in horizon order.
    pub accuracy: Vec<(usize, f64)>,
}

/// The file's text. `previous_success` is the last-success time of an
/// earlier run, used when this one did not complete.
pub fn render(status: &NightlyStatus, previous_success: Option<f64>) -> String {
    let mut out = String::new();
    gauge(&mut out, &metrics::NIGHTLY_RUN_INFO, &[("run_id", &status.run_id)], 1.0);
    gauge(&mut out, &metrics::NIGHTLY_DURATION, &[], status.duration_s);
    let success = if status.completed { Some(status.finished_at_unix_s) } else { previous_success };
    if let Some(t) = success {
        gauge(&mut out, &metrics::NIGHTLY_LAST_SUCCESS, &[], t);
    }
    if let Some(passed) = status.gate_passed {
        gauge(&mut out, &metrics::NIGHTLY_GATE_PASSED, &[], f64::from(u8::from(passed)));
    }
    if !status.accuracy.is_empty() {
        help_and_type(&mut out, &metrics::NIGHTLY_ACCURACY);
    }
    for (horizon, acc) in &status.accuracy {
        let h = horizon.to_string();
        let _ = writeln!(
            out,
            "{}{{horizon=\"{h}\"}} {}",
            metrics::NIGHTLY_ACCURACY.name,
            format_value(*acc)
        );
    }
    out
}

fn help_and_type(out: &mut String, m: &Metric) {
    let _ = writeln!(out, "# HELP {} {}", m.name, m.help);
    let _ = writeln!(out, "# TYPE {} {}", m.name, m.kind.as_str());
}

fn gauge(out: &mut String, m: &Metric, labels: &[(&str, &str)], value: f64) {
    help_and_type(out, m);
    let labels: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let braces =
        if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
    let _ = writeln!(out, "{}{braces} {}", m.name, format_value(value));
}

/// The last-success time recorded in an existing file, if any.
pub fn previous_success(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let prefix = format!("{} ", metrics::NIGHTLY_LAST_SUCCESS.name);
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok())
}

/// Writes `status` to `path` atomically, carrying over the last success.
pub fn write_textfile(path: &Path, status: &NightlyStatus) -> Result<(), MonitorError> {
    let text = render(status, previous_success(path));
    super::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(completed: bool) -> NightlyStatus {
        NightlyStatus {
            run_id: "2024-03-01_a".into(),
            duration_s: 1834.5,
            finished_at_unix_s: 1_709_262_000.0,
            completed,
            gate_passed: completed.then_some(true),
            accuracy: vec![(10, 0.61), (20, 0.58)],
        }
    }

    #[test]
    fn a_completed_run_writes_every_family() {
        let text = render(&status(true), None);
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            samples,
            [
                "divtune_nightly_run_info{run_id=\"2024-03-01_a\"} 1",
                "divtune_nightly_run_duration_seconds 1834.5",
                "divtune_nightly_last_success_timestamp_seconds 1709262000",
                "divtune_nightly_gate_passed 1",
                "divtune_nightly_accuracy{horizon=\"10\"} 0.61",
                "divtune_nightly_accuracy{horizon=\"20\"} 0.58",
            ]
        );
    }

    #[test]
    fn a_failed_run_keeps_the_previous_success_time_and_omits_the_gate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        write_textfile(&path, &status(true)).unwrap();
        let mut failed = status(false);
        failed.finished_at_unix_s += 86_400.0;
        write_textfile(&path, &failed).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\ndivtune_nightly_last_success_timestamp_seconds 1709262000\n"));
        assert!(!text.contains("divtune_nightly_gate_passed"));
        assert_eq!(previous_success(&path), Some(1_709_262_000.0));
    }

    #[test]
    fn a_first_run_that_fails_has_no_success_time() {
        let text = render(&status(false), None);
        assert!(!text.contains("last_success"));
    }
}
