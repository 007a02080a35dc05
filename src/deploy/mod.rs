//! Deployment of a run's service files to the directory a live service
//! reads: pre-flight [`check`], [`promote`] and [`rollback`].
//!
//! Layout of a deploy directory (see docs/deploy.md):
//!
//! ```text
//! DEPLOY/
//!   active -> versions/0003-RUN_C     symlink, switched by rename()
//!   versions/0001-RUN_A/              immutable once published
//!     best_global.yaml  best_by_bucket.yaml  divergence_score_calibration.json
//!     gate.json  manifest.json  [production.yaml]
//!   deployments.jsonl                 one JSON line per promotion or rollback
//!   .lock                             present while a deployer runs
//! ```
//!
//! A version directory is filled under a hidden staging name, synced, checked
//! and only then renamed into place; `active` is replaced by renaming a new
//! symlink over it. A reader that resolves `active` once ([`resolve_active`])
//! and reads from the resolved directory therefore sees one whole version.
//!
//! Main types: [`CheckReport`], [`PromoteOptions`], [`Promotion`],
//! [`Rollback`], [`DeploymentRecord`], [`DeployError`]. The run-file formats
//! ([`GateFile`], [`Manifest`]) are defined once, in [`run_files`].

mod layout;
mod lock;
mod promote;
pub mod record;
mod rollback;
pub mod run_files;
mod validate;

pub use layout::resolve_active;
pub use promote::{promote, CanaryScope, ProductionOverlay, PromoteOptions, Promotion, Step};
pub use record::{current_user, read_records, Action, DeploymentRecord, GateSummary};
pub use rollback::{rollback, Rollback};
pub use run_files::{FileEntry, GateFile, GateRule, Manifest, SCHEMA_VERSION};
pub use validate::{validate_set, Check, CheckReport};

use crate::core::ParamRangeError;
use std::path::{Path, PathBuf};

/// The files the live service loads, in the order they are checked.
pub const SERVICE_FILES: [&str; 3] =
    ["best_global.yaml", "best_by_bucket.yaml", "divergence_score_calibration.json"];
/// The gate verdict of a run.
pub const GATE_FILE: &str = "gate.json";
/// The manifest of a run.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The canary overlay written into a version when a canary scope is given.
pub const OVERLAY_FILE: &str = "production.yaml";
/// The symlink naming the version the service should load.
pub const ACTIVE_LINK: &str = "active";
/// Where version directories live, relative to the deploy directory.
pub const VERSIONS_DIR: &str = "versions";
/// The deployment record, relative to the deploy directory.
pub const RECORD_FILE: &str = "deployments.jsonl";

/// Runs every pre-flight check on the active version of `deploy_dir`.
///
/// Failed checks are in the report, not an error; the error cases are a
/// deploy directory without a usable `active` link.
pub fn check(deploy_dir: &Path) -> Result<CheckReport, DeployError> {
    let dir = resolve_active(deploy_dir)?;
    Ok(validate_set(&dir))
}

/// What can go wrong in deployment. Every message names the file or
/// directory and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "{dir}: no usable active version ({reason}); promote a run first: \
         `divtune promote --run RUN --deploy {dir}`"
    )]
    NoActive { dir: PathBuf, reason: String },

    #[error(
        "refusing to promote {run_dir}: run {run_id} failed its acceptance gate \
         (failed rules: {failed}); promote a run whose gate passed"
    )]
    GateFailed { run_dir: PathBuf, run_id: String, failed: String },

    #[error("refusing to {action} {}: {} check(s) failed:\n{}", report.dir.display(),
        report.failures().count(), failure_lines(report))]
    Invalid { action: &'static str, report: Box<CheckReport> },

    #[error("{path}: cannot {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}, line {line}: {message}; fix or remove that line")]
    Record { path: PathBuf, line: usize, message: String },

    #[error("{dir}: cannot roll back: {reason}")]
    NoPrevious { dir: PathBuf, reason: String },

    #[error(
        "{dir}: another promotion or rollback (pid {pid}) is running; wait for it, \
         or delete {dir}/.lock if no divtune process is running"
    )]
    Locked { dir: PathBuf, pid: String },

    #[error(transparent)]
    Param(#[from] ParamRangeError),

    #[error(transparent)]
    Write(#[from] crate::artifacts::WriteError),
}

impl DeployError {
    /// The process exit code for this error: 1 for a promotion refused by
    /// the gate, 2 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            DeployError::GateFailed { .. } => 1,
            _ => 2,
        }
    }

    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        DeployError::Io { path: path.to_path_buf(), action, source }
    }
}

fn failure_lines(report: &CheckReport) -> String {
    let lines: Vec<String> = report.failures().map(|c| format!("  {c}")).collect();
    lines.join("\n")
}

/// Run directories for unit tests: the files a nightly run writes.
#[cfg(test)]
pub(crate) mod testing {
    use super::run_files::{FileEntry, GateFile, GateRule, Manifest};
    use super::{GATE_FILE, MANIFEST_FILE, SERVICE_FILES};
    use std::path::Path;

    /// Writes a complete run `run_id` into `dir`; its gate passes or fails.
    pub fn write_run(dir: &Path, run_id: &str, passed: bool) {
        std::fs::create_dir_all(dir).unwrap();
        let mut outputs = Vec::new();
        for file in SERVICE_FILES {
            let text = if file.ends_with(".json") {
                format!("{{\"schema_version\":1,\"run_id\":\"{run_id}\",\"bins\":[1,2]}}\n")
            } else {
                format!("schema_version: 1\nrun_id: {run_id}\nparams:\n  k: 3\n")
            };
            std::fs::write(dir.join(file), &text).unwrap();
            outputs.push(FileEntry::of_bytes(file, text.as_bytes()));
        }
        let rule = GateRule {
            name: "acc@10".into(),
            value: Some(if passed { 0.61 } else { 0.50 }),
            threshold: ">= 0.55".into(),
            passed,
            detail: String::new(),
        };
        let gate = GateFile { schema_version: 1, run_id: run_id.into(), passed, rules: vec![rule] };
        let gate_text = serde_json::to_string_pretty(&gate).unwrap();
        std::fs::write(dir.join(GATE_FILE), &gate_text).unwrap();
        outputs.push(FileEntry::of_bytes(GATE_FILE, gate_text.as_bytes()));
        let manifest = Manifest {
            schema_version: 1,
            run_id: run_id.into(),
            tool_version: "0.1.0".into(),
            git_commit: "0000000".into(),
            config_source: String::new(),
            seed: 0,
            config_sha256: super::run_files::sha256_hex(b""),
            started_at: "2024-01-01T00:00:00Z".into(),
            finished_at: "2024-01-01T00:05:00Z".into(),
            inputs: vec![],
            outputs,
        };
        std::fs::write(dir.join(MANIFEST_FILE), serde_json::to_string(&manifest).unwrap()).unwrap();
    }
}
