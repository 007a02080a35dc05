//! The nightly job as CI runs it: the binary on the shipped sample passes
//! the gate and writes every artifact; on a null market it fails with exit
//! code 1 and the report says which rules failed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn divtune(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_divtune"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The one run directory under `root`.
fn only_dir(root: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn nightly(data: &Path, work: &Path) -> (Output, PathBuf, PathBuf) {
    let runs = work.join("runs");
    let reports = work.join("reports");
    let out = divtune(
        &[
            "nightly",
            "--data",
            data.to_str().unwrap(),
            "--out",
            runs.to_str().unwrap(),
            "--reports",
            reports.to_str().unwrap(),
        ],
        &repo(),
    );
    (out, runs, reports)
}

const ARTIFACTS: [&str; 16] = [
    "best_global.yaml",
    "best_by_bucket.yaml",
    "summary.csv",
    "summary.parquet",
    "tuning_report.json",
    "manifest.json",
    "events.parquet",
    "timeline.parquet",
    "data_quality.json",
    "divergence_score_calibration.json",
    "monotonicity_report.json",
    "score_monotonicity_10.png",
    "score_monotonicity_20.png",
    "gate.json",
    "gate_junit.xml",
    "metrics/prometheus_divergence.yml",
];

#[test]
fn nightly_on_the_shipped_sample_passes_and_writes_every_artifact() {
    let work = tempfile::tempdir().unwrap();
    let (out, runs, reports) = nightly(&repo().join("data"), work.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}\n{stderr}", String::from_utf8_lossy(&out.stdout));
    let run = only_dir(&runs);
    for name in ARTIFACTS {
        let path = run.join(name);
        assert!(path.metadata().is_ok_and(|m| m.len() > 0), "{name} missing or empty");
    }
    let junit = std::fs::read_to_string(run.join("gate_junit.xml")).unwrap();
    assert!(
        junit.contains("failures=\"0\"") && junit.matches("<testcase ").count() == 7,
        "{junit}"
    );
    let page = std::fs::read_to_string(only_dir(&reports).join("index.html")).unwrap();
    assert!(page.contains("PASS"));
    assert!(stderr.contains("gate PASSED"), "the closing banner states the verdict: {stderr}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap();
    let outputs = manifest["outputs"].as_array().unwrap();
    assert!(outputs.iter().any(|o| o["path"] == "gate.json"), "the manifest hashes the gate too");
}

#[test]
fn nightly_on_a_null_market_exits_1_and_the_report_names_the_failed_rules() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("null");
    let synth =
        divtune(&["synth", "--out", data.to_str().unwrap(), "--null", "--seed", "99"], &repo());
    assert!(synth.status.success());
    let (out, runs, reports) = nightly(&data, work.path());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("acc@10") && stdout.contains("FAIL"), "{stdout}");
    let gate: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(only_dir(&runs).join("gate.json")).unwrap())
            .unwrap();
    assert_eq!(gate["passed"], false);
    let junit = std::fs::read_to_string(only_dir(&runs).join("gate_junit.xml")).unwrap();
    assert!(junit.contains("<failure "), "{junit}");
    let page = std::fs::read_to_string(only_dir(&reports).join("index.html")).unwrap();
    assert!(page.contains("FAIL") && page.contains("acc@10"), "the report says which rules failed");
}

#[test]
fn gate_and_report_rerun_on_a_saved_run_without_replaying() {
    let work = tempfile::tempdir().unwrap();
    let (out, runs, _) = nightly(&repo().join("data"), work.path());
    assert!(out.status.success());
    let run = only_dir(&runs);
    // From a directory without the data or the config: gate and report
    // work from the run directory alone.
    let gate = divtune(&["gate", "--run", run.to_str().unwrap()], work.path());
    assert_eq!(gate.status.code(), Some(0), "{}", String::from_utf8_lossy(&gate.stderr));
    let redraw = work.path().join("again");
    let report = divtune(
        &["report", "--run", run.to_str().unwrap(), "--out", redraw.to_str().unwrap()],
        work.path(),
    );
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    assert!(only_dir(&redraw).join("index.html").exists());
}
