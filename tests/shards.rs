//! A run split into shards and merged writes what one run writes: every
//! artifact byte for byte, apart from wall-clock timings and the
//! manifest's times. Incomplete or mixed shard sets are refused before
//! anything is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn divtune(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_divtune"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) {
    let out = divtune(args);
    assert!(
        out.status.success(),
        "divtune {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").display().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Config flags: none (the repository's config) or a written file.
fn config_args(config: &Option<PathBuf>) -> Vec<&str> {
    config.as_ref().map_or(Vec::new(), |c| vec!["--config", s(c)])
}

fn single_run(work: &Path, config: &Option<PathBuf>) -> PathBuf {
    let runs = work.join("single");
    let data = sample();
    let mut args = vec!["-q", "tune", "--data", &data, "--out", s(&runs), "--run-id", "R"];
    args.extend(config_args(config));
    ok(&args);
    runs.join("R")
}

fn shards(work: &Path, n: usize, config: &Option<PathBuf>) -> PathBuf {
    let dir = work.join(format!("shards-{n}"));
    for k in 0..n {
        let spec = format!("{k}/{n}");
        let data = sample();
        let mut args = vec!["-q", "tune", "--shard", &spec, "--data", &data, "--out", s(&dir)];
        args.extend(config_args(config));
        ok(&args);
    }
    dir
}

fn merged(work: &Path, shard_root: &Path) -> PathBuf {
    let runs = work.join("merged");
    ok(&["-q", "merge", s(shard_root), "--out", s(&runs), "--run-id", "R"]);
    runs.join("R")
}

/// JSON with the fields that are wall-clock readings removed.
fn without_clock(file: &str, bytes: &[u8]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let o = v.as_object_mut().unwrap();
    match file {
        "tuning_report.json" => {
            o.remove("timings").expect("a timings section");
        }
        "manifest.json" => {
            o.remove("started_at");
            o.remove("finished_at");
            // Its hash covers the timings.
            let outputs = o["outputs"].as_array_mut().unwrap();
            for f in outputs.iter_mut().filter(|f| f["path"] == "tuning_report.json") {
                f.as_object_mut().unwrap().remove("sha256");
                f.as_object_mut().unwrap().remove("bytes");
            }
        }
        _ => unreachable!(),
    }
    v
}

fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> =
        walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn assert_same_run(single: &Path, merged: &Path) {
    let names = files(single);
    assert_eq!(names, files(merged), "the same files");
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let a = std::fs::read(single.join(name)).unwrap();
        let b = std::fs::read(merged.join(name)).unwrap();
        if name == "tuning_report.json" || name == "manifest.json" {
            assert_eq!(without_clock(name, &a), without_clock(name, &b), "{name}");
            assert_ne!(a.len(), 0);
        } else {
            assert!(a == b, "{name} differs between the single run and the merged one");
        }
    }
}

#[test]
fn merging_one_two_and_five_shards_gives_the_single_run_byte_for_byte() {
    let work = tempfile::tempdir().unwrap();
    let single = single_run(work.path(), &None);
    for n in [1, 2, 5] {
        let root = shards(work.path(), n, &None);
        let run = merged(&work.path().join(format!("m{n}")), &root);
        assert_same_run(&single, &run);
    }
}

#[test]
fn merged_runs_match_with_walk_forward_folds_and_pooled_liquidity_thresholds() {
    // Both global decisions at their hardest: two folds cut by the whole
    // time range, one threshold over every symbol's training bars.
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("config.yaml");
    std::fs::write(
        &config,
        "tune:\n  split:\n    folds: 2\n    test_fraction: 0.5\nbuckets:\n  liquidity:\n    per_symbol: false\n",
    )
    .unwrap();
    let config = Some(config);
    let single = single_run(work.path(), &config);
    let report = std::fs::read_to_string(single.join("tuning_report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["folds"].as_array().unwrap().len(), 2);
    let root = shards(work.path(), 3, &config);
    assert_same_run(&single, &merged(work.path(), &root));
}

#[test]
fn a_real_market_split_by_symbol_merges_to_the_single_run() {
    // Aggregated trades without date partitions: each symbol's files are one
    // unit, so two shards take one symbol each.
    let Some(data) = common::real_data("binance_aggtrades") else { return };
    let work = tempfile::tempdir().unwrap();
    let pattern = ["--symbol-pattern", "*_cvd_{symbol}_*"];
    let single = work.path().join("single");
    let mut args = vec!["-q", "tune", "--data", s(&data), "--out", s(&single), "--run-id", "R"];
    args.extend(pattern);
    ok(&args);
    let root = work.path().join("shards");
    for spec in ["0/2", "1/2"] {
        let mut args = vec!["-q", "tune", "--shard", spec, "--data", s(&data), "--out", s(&root)];
        args.extend(pattern);
        ok(&args);
    }
    assert_same_run(&single.join("R"), &merged(work.path(), &root));
}

#[test]
fn a_shard_with_no_units_is_written_and_merges() {
    // The sample has 15 (symbol, day) units: shard 15 of 16 gets none.
    let work = tempfile::tempdir().unwrap();
    let single = single_run(work.path(), &None);
    let root = shards(work.path(), 16, &None);
    let empty = root.join("shard-0015-of-0016").join("shard.json");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(empty).unwrap()).unwrap();
    assert_eq!(summary["series"], 0);
    assert_eq!(summary["header"]["units"].as_array().unwrap().len(), 0);
    assert_same_run(&single, &merged(work.path(), &root));
}

fn merge_error(args: &[&str], out: &Path) -> String {
    let mut all = vec!["merge"];
    all.extend(args);
    all.extend(["--out", s(out)]);
    let result = divtune(&all);
    assert_eq!(result.status.code(), Some(2), "{all:?}");
    assert!(!out.exists(), "a refused merge writes nothing");
    String::from_utf8_lossy(&result.stderr).to_string()
}

#[test]
fn a_missing_or_duplicated_shard_is_refused_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let root = shards(work.path(), 3, &None);
    let out = work.path().join("runs");
    let shard = |k: usize| root.join(format!("shard-{k:04}-of-0003"));

    let err = merge_error(&[s(&shard(0)), s(&shard(2))], &out);
    assert!(err.contains("missing shard 1/3"), "{err}");

    let copy = work.path().join("copy-of-2");
    std::fs::create_dir(&copy).unwrap();
    for f in ["partial.bin", "shard.json"] {
        std::fs::copy(shard(2).join(f), copy.join(f)).unwrap();
    }
    let err = merge_error(&[s(&root), s(&copy)], &out);
    assert!(err.contains("shard 2/3 appears twice"), "{err}");
    assert!(err.contains("copy-of-2"), "{err}");
}

#[test]
fn shards_of_different_configs_n_or_input_trees_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("runs");
    let base = shards(work.path(), 2, &None);
    let first = base.join("shard-0000-of-0002");

    // Another config.
    let config = work.path().join("other.yaml");
    std::fs::write(&config, "labels:\n  cost_bps: 3.0\n").unwrap();
    let other = shards(&work.path().join("cfg"), 2, &Some(config));
    let err = merge_error(&[s(&first), s(&other.join("shard-0001-of-0002"))], &out);
    assert!(err.contains("differ in config"), "{err}");

    // Another N.
    let three = shards(&work.path().join("n3"), 3, &None);
    let err = merge_error(&[s(&first), s(&three.join("shard-0001-of-0003"))], &out);
    assert!(err.contains("differ in N (2 vs 3)"), "{err}");

    // Another input tree: one day fewer.
    let tree = work.path().join("tree");
    copy_tree(Path::new(&sample()), &tree);
    std::fs::remove_dir_all(tree.join("symbol=SOLUSDT").join("date=2024-08-09")).unwrap();
    let dir = work.path().join("trimmed");
    ok(&["-q", "tune", "--shard", "1/2", "--data", s(&tree), "--out", s(&dir)]);
    let err = merge_error(&[s(&first), s(&dir.join("shard-0001-of-0002"))], &out);
    assert!(err.contains("differ in input tree"), "{err}");
}

#[test]
fn a_damaged_shard_file_is_an_error_that_says_to_rerun_it() {
    let work = tempfile::tempdir().unwrap();
    let root = shards(work.path(), 1, &None);
    let file = root.join("shard-0000-of-0001").join("partial.bin");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let err = merge_error(&[s(&root)], &work.path().join("runs"));
    assert!(err.contains("re-run this shard"), "{err}");
    assert!(err.contains("partial.bin"), "{err}");
}

#[test]
fn shard_and_run_id_flags_are_checked() {
    let out = divtune(&["tune", "--shard", "3/3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 <= K < N"));
    let out = divtune(&["tune", "--shard", "0/2", "--run-id", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give it to `merge`"));
}

#[test]
fn an_existing_run_id_is_refused_rather_than_renamed() {
    let work = tempfile::tempdir().unwrap();
    let single = single_run(work.path(), &None);
    let runs = single.parent().unwrap();
    let out = divtune(&["-q", "tune", "--data", &sample(), "--out", s(runs), "--run-id", "R"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert!(!runs.join("R-2").exists());
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

#[test]
fn a_merged_run_is_calibrated_gated_and_promoted_stage_by_stage() {
    let work = tempfile::tempdir().unwrap();
    let run = merged(work.path(), &shards(work.path(), 2, &None));
    for stage in ["calibrate", "gate", "monitoring"] {
        ok(&["-q", stage, "--run", s(&run)]);
    }
    // Each stage re-hashed the outputs, so the manifest lists what the
    // deploy checks need.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<&str> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for name in
        ["divergence_score_calibration.json", "gate.json", "metrics/prometheus_divergence.yml"]
    {
        assert!(listed.contains(&name), "{name} not in {listed:?}");
    }
    let deploy = work.path().join("deploy");
    ok(&["promote", "--run", s(&run), "--deploy", s(&deploy)]);
    ok(&["check", "--deploy", s(&deploy)]);
}
