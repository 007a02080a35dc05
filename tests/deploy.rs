//! Deployment end to end through the library API: promotion, rollback,
//! refusals, pruning, the record, and the two safety properties: a reader
//! never sees a mixed or partial set, and a promotion killed part-way
//! leaves the old version active and whole.

use divtune::deploy::{
    self, check, promote, read_records, resolve_active, rollback, Action, DeployError, FileEntry,
    GateFile, GateRule, Manifest, PromoteOptions, Step, GATE_FILE, MANIFEST_FILE, RECORD_FILE,
    SERVICE_FILES,
};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Writes run `run_id` into `dir` as a nightly run would; `pad` bytes of
/// filler make the files big enough that a torn read would show.
fn write_run(dir: &Path, run_id: &str, passed: bool, pad: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let filler = "x".repeat(pad);
    let mut outputs = Vec::new();
    for file in SERVICE_FILES {
        let text = if file.ends_with(".json") {
            format!("{{\"schema_version\":1,\"run_id\":\"{run_id}\",\"pad\":\"{filler}\"}}\n")
        } else {
            format!("schema_version: 1\nrun_id: {run_id}\npad: {filler}\n")
        };
        std::fs::write(dir.join(file), &text).unwrap();
        outputs.push(FileEntry::of_bytes(file, text.as_bytes()));
    }
    let rules = vec![
        rule("acc@10", 0.61, true),
        rule("events", 120.0, true),
        rule("acc@20", if passed { 0.58 } else { 0.49 }, passed),
    ];
    let gate = GateFile { schema_version: 1, run_id: run_id.into(), passed, rules };
    std::fs::write(dir.join(GATE_FILE), serde_json::to_vec_pretty(&gate).unwrap()).unwrap();
    outputs.push(FileEntry::of_file(dir, GATE_FILE).unwrap());
    let manifest = Manifest {
        schema_version: 1,
        run_id: run_id.into(),
        tool_version: "0.1.0".into(),
        git_commit: "abc1234".into(),
        config_source: String::new(),
        seed: 0,
        config_sha256: deploy::run_files::sha256_hex(b"config"),
        started_at: "2024-03-01T02:00:00Z".into(),
        finished_at: "2024-03-01T02:30:00Z".into(),
        inputs: vec![],
        outputs,
    };
    std::fs::write(dir.join(MANIFEST_FILE), serde_json::to_vec(&manifest).unwrap()).unwrap();
    dir.to_path_buf()
}

fn rule(name: &str, value: f64, passed: bool) -> GateRule {
    let threshold = ">= 0.55".to_string();
    GateRule { name: name.into(), value: Some(value), threshold, passed, detail: String::new() }
}

fn opts(keep: usize) -> PromoteOptions {
    PromoteOptions { keep, user: "tester".into(), ..PromoteOptions::default() }
}

/// Reads every file of the active version once; returns the set's run id,
/// or a description of what was inconsistent.
fn read_active_set(deploy_dir: &Path) -> Result<String, String> {
    let dir = resolve_active(deploy_dir).map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    for file in SERVICE_FILES.iter().chain(&[GATE_FILE, MANIFEST_FILE]) {
        let bytes = std::fs::read(dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
        let value: serde_yaml::Value =
            serde_yaml::from_slice(&bytes).map_err(|e| format!("{file} partial: {e}"))?;
        ids.push(value["run_id"].as_str().unwrap_or("?").to_string());
    }
    ids.dedup();
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!("mixed set in {}: {ids:?}", dir.display())),
    }
}

#[test]
fn a_reader_never_sees_a_mixed_or_partial_set_while_versions_switch() {
    let tmp = tempfile::tempdir().unwrap();
    let deploy_dir = tmp.path().join("deploy");
    let runs: Vec<PathBuf> = (0..4)
        .map(|i| write_run(&tmp.path().join(format!("r{i}")), &format!("r{i}"), true, 64 * 1024))
        .collect();
    promote(&runs[0], &deploy_dir, &opts(100)).unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (done, deploy_dir) = (done.clone(), deploy_dir.clone());
        std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                seen.insert(read_active_set(&deploy_dir).unwrap_or_else(|e| panic!("{e}")));
                reads += 1;
            }
            (reads, seen)
        })
    };
    for i in 1..=24 {
        if i % 3 == 0 {
            rollback(&deploy_dir, "tester").unwrap();
        } else {
            promote(&runs[i % 4], &deploy_dir, &opts(100)).unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    let (reads, seen) = reader.join().expect("the reader saw a mixed or partial set");
    assert!(reads >= 10, "only {reads} reads overlapped the switches");
    assert!(seen.len() >= 2, "the reader saw only {seen:?}");
}

/// Run only as a child of the next test: promotes, and has the process
/// killed (SIGKILL) after two of the five files are copied.
#[test]
#[ignore = "helper process for a_promotion_killed_part_way_leaves_the_old_version_active"]
fn child_promotion_killed_after_two_files() {
    let (Ok(run), Ok(deploy_dir)) =
        (std::env::var("DIVTUNE_CHILD_RUN"), std::env::var("DIVTUNE_CHILD_DEPLOY"))
    else {
        eprintln!("helper only: run by a_promotion_killed_part_way_leaves_the_old_version_active");
        return;
    };
    fn kill_after_second(step: &Step) {
        if *step == Step::Copied(SERVICE_FILES[1]) {
            let pid = std::process::id().to_string();
            let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
            std::process::abort(); // only reached if `kill` is unavailable
        }
    }
    let options = PromoteOptions { on_step: Some(kill_after_second), ..opts(5) };
    let _ = promote(Path::new(&run), Path::new(&deploy_dir), &options);
    unreachable!("the promotion should have been killed");
}

#[test]
fn a_promotion_killed_part_way_leaves_the_old_version_active() {
    let tmp = tempfile::tempdir().unwrap();
    let deploy_dir = tmp.path().join("deploy");
    let old = write_run(&tmp.path().join("old"), "old", true, 16);
    let new = write_run(&tmp.path().join("new"), "new", true, 16);
    promote(&old, &deploy_dir, &opts(5)).unwrap();

    // A real process dies in the middle of copying.
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_promotion_killed_after_two_files", "--exact", "--ignored"])
        .args(["--test-threads=1", "--nocapture"])
        .env("DIVTUNE_CHILD_RUN", &new)
        .env("DIVTUNE_CHILD_DEPLOY", &deploy_dir)
        .output()
        .unwrap()
        .status;
    assert!(status.signal().is_some(), "the child should have been killed: {status}");
    let staging = deploy_dir.join("versions/.staging-0002-new");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 2, "died after two files");
    assert!(deploy_dir.join(".lock").exists(), "the dead process still holds the lock");

    // The old set is active and whole, and the checks say so.
    assert_eq!(read_active_set(&deploy_dir).unwrap(), "old");
    assert!(check(&deploy_dir).unwrap().passed());

    // The next promotion takes over the dead process's lock and cleans up.
    let p = promote(&new, &deploy_dir, &opts(5)).unwrap();
    assert_eq!(p.version, "0002-new");
    assert!(!staging.exists());
    assert_eq!(read_active_set(&deploy_dir).unwrap(), "new");
}

#[test]
fn a_run_whose_gate_failed_is_refused_with_exit_code_one_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let deploy_dir = tmp.path().join("deploy");
    promote(&write_run(&tmp.path().join("good"), "good", true, 0), &deploy_dir, &opts(5)).unwrap();
    let bad = write_run(&tmp.path().join("bad"), "bad", false, 0);

    let err = promote(&bad, &deploy_dir, &opts(5)).unwrap_err();
    assert!(matches!(err, DeployError::GateFailed { .. }));
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("failed rules: acc@20"), "{err}");
    assert_eq!(read_active_set(&deploy_dir).unwrap(), "good");

    let last = read_records(&deploy_dir.join(RECORD_FILE)).unwrap().pop().unwrap();
    assert_eq!(last.outcome, "refused: gate failed (acc@20)");
    assert_eq!(last.version, None);
    assert_eq!(last.previous.as_deref(), Some("0001-good"));
    assert_eq!(last.gate.unwrap().failed_rules, ["acc@20"]);
}

#[test]
fn a_run_with_a_file_that_does_not_match_its_hash_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let deploy_dir = tmp.path().join("deploy");
    let run = write_run(&tmp.path().join("r"), "r", true, 0);
    let calib = run.join(SERVICE_FILES[2]);
    let edited = std::fs::read_to_string(&calib).unwrap().replace("\"pad\"", "\"pad2\"");
    std::fs::write(&calib, edited).unwrap();

    let err = promote(&run, &deploy_dir, &opts(5)).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(msg.contains("divergence_score_calibration.json") && msg.contains("sha256"), "{msg}");
    assert!(resolve_active(&deploy_dir).is_err(), "nothing was activated");
    let last = read_records(&deploy_dir.join(RECORD_FILE)).unwrap().pop().unwrap();
    assert_eq!(last.outcome, "refused: 1 check(s) failed");
}

#[test]
fn pruning_keeps_the_newest_versions_and_never_the_rollback_target() {
    let tmp = tempfile::tempdir().unwrap();
    let deploy_dir = tmp.path().join("deploy");
    let runs: Vec<PathBuf> = (1..=6)
        .map(|i| write_run(&tmp.path().join(format!("r{i}")), &format!("r{i}"), true, 0))
        .collect();
    for run in &runs {
        promote(run, &deploy_dir, &opts(3)).unwrap();
    }
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d.join("versions"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&deploy_dir), ["0004-r4", "0005-r5", "0006-r6"]);

    // After two rollbacks r4 is active; a promotion with keep 1 keeps it as
    // the new version's rollback target.
    rollback(&deploy_dir, "t").unwrap();
    rollback(&deploy_dir, "t").unwrap();
    let p = promote(&runs[0], &deploy_dir, &opts(1)).unwrap();
    assert_eq!(p.previous.as_deref(), Some("0004-r4"));
    assert_eq!(p.pruned, ["0005-r5", "0006-r6"]);
    assert_eq!(names(&deploy_dir), ["0004-r4", "0007-r1"]);
    assert_eq!(rollback(&deploy_dir, "t").unwrap().to, "0004-r4");
}

#[test]
fn the_record_has_one_complete_line_per_promotion_and_rollback() {
    let tmp = tempfile::tempdir().unwrap();
    let deploy_dir = tmp.path().join("deploy");
    let a = write_run(&tmp.path().join("a"), "a", true, 0);
    let b = write_run(&tmp.path().join("b"), "b", true, 0);
    promote(&a, &deploy_dir, &opts(5)).unwrap();
    let canary = PromoteOptions { canary: Some(vec!["ESZ4".into()]), ..opts(5) };
    promote(&b, &deploy_dir, &canary).unwrap();
    rollback(&deploy_dir, "oncall").unwrap();

    let text = std::fs::read_to_string(deploy_dir.join(RECORD_FILE)).unwrap();
    assert_eq!(text.lines().count(), 3);
    let records = read_records(&deploy_dir.join(RECORD_FILE)).unwrap();
    let summary: Vec<_> = records
        .iter()
        .map(|r| (r.action, r.version.as_deref(), r.previous.as_deref(), r.user.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Action::Promote, Some("0001-a"), None, "tester"),
            (Action::Promote, Some("0002-b"), Some("0001-a"), "tester"),
            (Action::Rollback, Some("0001-a"), Some("0002-b"), "oncall"),
        ]
    );
    assert_eq!(records[1].canary.as_deref(), Some(&["ESZ4".to_string()][..]));
    assert_eq!(records[2].canary, None, "the version rolled back to had no canary scope");
    assert!(records.iter().all(|r| r.outcome == "ok" && r.gate.as_ref().unwrap().passed));
    for r in &records {
        let t = chrono::DateTime::parse_from_rfc3339(&r.time).unwrap();
        assert_eq!(t.offset().local_minus_utc(), 0, "{}", r.time);
    }
}

#[test]
fn check_reports_a_damaged_active_version_by_file() {
    let tmp = tempfile::tempdir().unwrap();
    let deploy_dir = tmp.path().join("deploy");
    assert!(matches!(check(&deploy_dir), Err(DeployError::NoActive { .. })));
    promote(&write_run(&tmp.path().join("a"), "a", true, 0), &deploy_dir, &opts(5)).unwrap();
    assert!(check(&deploy_dir).unwrap().passed());

    let dir = resolve_active(&deploy_dir).unwrap();
    std::fs::write(dir.join(SERVICE_FILES[0]), "schema_version: 1\nrun_id: a\n").unwrap();
    let report = check(&deploy_dir).unwrap();
    let failed: Vec<String> = report.failures().map(|c| c.to_string()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].starts_with("FAIL best_global.yaml: sha256 matches manifest:"), "{failed:?}");
}
