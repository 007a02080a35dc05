//! The binary as users and CI run it: exit codes, what is (and is not)
//! written, and determinism across runs and thread counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn divtune(args: &[&str], cwd: &Path, threads: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_divtune"));
    cmd.args(args).current_dir(cwd).env_remove("RAYON_NUM_THREADS");
    if let Some(n) = threads {
        cmd.env("RAYON_NUM_THREADS", n);
    }
    cmd.output().expect("the binary runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The single run directory under `root`.
fn only_run(root: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

#[test]
fn an_unknown_flag_is_a_usage_error_with_exit_code_2() {
    let out = divtune(&["tune", "--no-such-flag"], &repo(), None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn help_states_the_exit_code_contract() {
    let out = divtune(&["--help"], &repo(), None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0 success or gate passed, 1 gate failed, 2 usage, data or"), "{text}");
}

#[test]
fn bad_data_exits_2_names_the_file_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("trades.parquet"), b"PAR1 not really parquet").unwrap();
    let out_root = dir.path().join("runs");
    let out = divtune(
        &["tune", "--data", data.to_str().unwrap(), "--out", out_root.to_str().unwrap()],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("trades.parquet") && err.contains("cannot read it as Parquet"), "{err}");
    assert!(!out_root.exists(), "nothing may be written when the input is bad");
}

#[test]
fn a_bad_config_value_exits_2_and_names_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.yaml");
    std::fs::write(&config, "detector:\n  swing_l: 0\n").unwrap();
    let out = divtune(&["tune", "--config", config.to_str().unwrap()], &repo(), None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("swing_l") && err.contains("got 0"), "{err}");
}

#[test]
fn synth_writes_the_same_bytes_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let c = dir.path().join("c");
    for (path, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        let out = path.to_str().unwrap();
        let argv = ["synth", "--out", out, "--seed", seed, "--days", "1", "--symbols", "XXX,YYY"];
        assert!(divtune(&argv, dir.path(), None).status.success());
    }
    assert_eq!(tree(&a), tree(&b));
    assert_ne!(tree(&a), tree(&c));
    assert_eq!(tree(&a).len(), 4, "two symbols x one day x trades and quotes");
}

/// Drops the fields that record wall-clock time.
fn without_timing(name: &str, bytes: &[u8]) -> Vec<u8> {
    if !name.ends_with(".json") {
        return bytes.to_vec();
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    if let Some(obj) = value.as_object_mut() {
        for key in ["timings", "started_at", "finished_at", "created_at", "outputs", "elapsed_s"] {
            obj.remove(key);
        }
    }
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn tuning_output_is_identical_with_one_or_two_threads_and_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo().join("data");
    let mut trees = Vec::new();
    for (i, threads) in ["1", "2", "2"].iter().enumerate() {
        let root = dir.path().join(format!("runs{i}"));
        let out = divtune(
            &["tune", "--data", data.to_str().unwrap(), "--out", root.to_str().unwrap()],
            &repo(),
            Some(threads),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let run = only_run(&root);
        let run_id = run.file_name().unwrap().to_string_lossy().to_string();
        let files: BTreeMap<String, Vec<u8>> = tree(&run)
            .into_iter()
            .map(|(name, bytes)| {
                let bytes = without_timing(&name, &bytes);
                // The run id is a timestamp: normalise it away in text files.
                let binary = name.ends_with(".parquet") || name.ends_with(".png");
                let bytes = if binary {
                    bytes
                } else {
                    String::from_utf8_lossy(&bytes).replace(&run_id, "RUN").into_bytes()
                };
                (name, bytes)
            })
            .collect();
        trees.push(files);
    }
    assert!(trees[0].contains_key("summary.parquet") && trees[0].contains_key("events.parquet"));
    for name in trees[0].keys() {
        assert!(trees[0][name] == trees[1][name], "{name} differs between 1 and 2 threads");
        assert!(trees[1][name] == trees[2][name], "{name} differs between two runs");
    }
}

#[test]
fn quiet_silences_stderr_and_verbose_adds_detail() {
    let data = repo().join("data");
    let args = |flag: &'static str| vec![flag, "inspect", data.to_str().unwrap()];
    let lines = |out: &Output| stderr(out).lines().count();
    let quiet = divtune(&args("--quiet"), &repo(), None);
    let normal = divtune(&args("--json"), &repo(), None);
    let verbose = divtune(&args("--verbose"), &repo(), None);
    assert!(quiet.status.success() && normal.status.success() && verbose.status.success());
    assert_eq!(lines(&quiet), 0, "{}", stderr(&quiet));
    assert!(lines(&verbose) > lines(&normal), "{} vs {}", lines(&verbose), lines(&normal));
    let json: serde_json::Value =
        serde_json::from_slice(&normal.stdout).expect("--json prints JSON on stdout");
    assert_eq!(json["days"].as_array().unwrap().len(), 15);
}

#[test]
fn ctrl_c_leaves_only_whole_files_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("market");
    let mut child = Command::new(env!("CARGO_BIN_EXE_divtune"))
        .args(["synth", "--days", "200", "--out", out.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let signal = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(signal.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "an interrupted run exits with the error code");
    let files = tree(&out);
    assert!(!files.is_empty(), "some days were written before the interrupt");
    assert!(files.len() < 200 * 3 * 2, "the interrupt came before the end");
    for (name, bytes) in &files {
        assert!(!name.ends_with(".tmp") && !name.contains("/."), "partial file left: {name}");
        use polars::prelude::SerReader;
        let reader = polars::prelude::ParquetReader::new(std::io::Cursor::new(bytes.clone()));
        assert!(reader.finish().is_ok(), "{name} is not a whole Parquet file");
    }
}
