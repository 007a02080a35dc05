//! Promotion of a run to the active version of a deploy directory.
//!
//! Phases: check the options and the run (refusing a failed gate or any
//! failed check), copy the files into a hidden staging directory and sync
//! them, check the copy, publish it under its version name, switch `active`,
//! record the line, prune old versions. Until the switch nothing a reader
//! can see has changed, so a promotion killed at any point before it leaves
//! the old version active and whole; the next promotion removes the
//! leftover staging directory.

use super::layout::{Layout, VersionName};
use super::lock::DeployLock;
use super::record::{self, Action, DeploymentRecord, GateSummary};
use super::{validate_set, CheckReport, DeployError};
use super::{GATE_FILE, MANIFEST_FILE, OVERLAY_FILE, SCHEMA_VERSION, SERVICE_FILES};
use crate::core::ParamRangeError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How to promote.
#[derive(Clone, Debug)]
pub struct PromoteOptions {
    /// Limit the new version to these symbols (writes `production.yaml`).
    pub canary: Option<Vec<String>>,
    /// Versions to keep, at least 1; the active and previous ones are always kept.
    pub keep: usize,
    /// Who promotes, for the record.
    pub user: String,
    /// Called after each step; tests use it to interrupt a promotion.
    pub on_step: Option<fn(&Step)>,
}

impl Default for PromoteOptions {
    fn default() -> Self {
        PromoteOptions { canary: None, keep: 5, user: record::current_user(), on_step: None }
    }
}

/// A step of a promotion, reported to [`PromoteOptions::on_step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// One file was copied and synced into the staging directory.
    Copied(&'a str),
    /// The staged copy passed its checks and is about to be published.
    Staged,
    /// `active` now points at the new version.
    Switched,
}

/// What a promotion did.
#[derive(Clone, Debug)]
pub struct Promotion {
    /// The new active version, `NNNN-RUN_ID`.
    pub version: String,
    pub version_dir: PathBuf,
    pub run_id: String,
    /// The version active before, now the rollback target.
    pub previous: Option<String>,
    /// Versions deleted by keep-N pruning, oldest first.
    pub pruned: Vec<String>,
    pub record: DeploymentRecord,
}

/// `production.yaml`: the canary scope the service applies to a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionOverlay {
    pub schema_version: u32,
    pub run_id: String,
    pub canary: CanaryScope,
    /// Always `read_only`: canary signals are observed, not acted on.
    pub signal_mode: String,
}

/// The symbols a canary version applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryScope {
    pub symbols: Vec<String>,
}

/// Promotes the run in `run_dir` to the active version of `deploy_dir`.
///
/// Refuses (and records the refusal) when the run's gate failed or any check
/// of [`validate_set`] fails. The whole of `deploy_dir` is locked meanwhile.
pub fn promote(
    run_dir: &Path,
    deploy_dir: &Path,
    options: &PromoteOptions,
) -> Result<Promotion, DeployError> {
    // Check options, take the lock, check the run.
    validate_options(options)?;
    let layout = Layout::open(deploy_dir, true)?;
    let _lock = DeployLock::acquire(deploy_dir)?;
    let previous = layout.active_version()?;
    let report = validate_set(run_dir);
    if let Err(e) = accept(run_dir, &report) {
        let line = refusal_record(&report, &previous, options, &e);
        record::append(&layout.record_path(), &line)?;
        return Err(e);
    }

    // Stage, check, publish and switch; record a failure if any step fails.
    let name = layout.next_version(report.run_id().unwrap_or_default())?;
    let staged = stage_and_switch(&layout, run_dir, &name, options);
    let line = promotion_record(&report, &name.render(), &previous, options, &staged);
    record::append(&layout.record_path(), &line)?;
    let version_dir = staged?;

    // Prune, never the new version nor its rollback target.
    let version = name.render();
    let protect: Vec<&str> =
        [Some(version.as_str()), previous.as_deref()].into_iter().flatten().collect();
    let pruned = layout.prune(options.keep, &protect)?;
    Ok(Promotion { version, version_dir, run_id: name.run_id, previous, pruned, record: line })
}

fn validate_options(options: &PromoteOptions) -> Result<(), ParamRangeError> {
    if options.keep < 1 {
        return Err(ParamRangeError::new("keep", "[1, inf)", options.keep));
    }
    let Some(symbols) = &options.canary else { return Ok(()) };
    let bad = |why: &str| ParamRangeError::new("canary", why, format!("{symbols:?}"));
    if symbols.is_empty() {
        return Err(bad("a non-empty list of symbols"));
    }
    if symbols.iter().any(|s| s.trim().is_empty() || s.trim() != s) {
        return Err(bad("symbols without blanks or surrounding spaces"));
    }
    let mut sorted = symbols.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != symbols.len() {
        return Err(bad("distinct symbols"));
    }
    Ok(())
}

/// Turns a failed report into the refusal it means.
fn accept(run_dir: &Path, report: &CheckReport) -> Result<(), DeployError> {
    if let (true, Some(gate)) = (report.gate_failed(), &report.gate) {
        return Err(DeployError::GateFailed {
            run_dir: run_dir.to_path_buf(),
            run_id: gate.run_id.clone(),
            failed: gate.failed_rules().join(", "),
        });
    }
    if !report.passed() {
        return Err(DeployError::Invalid { action: "promote", report: Box::new(report.clone()) });
    }
    crate::run::check_run_id(report.run_id().unwrap_or_default()).map_err(DeployError::from)
}

/// Copies, checks and publishes the version, then switches `active` to it.
fn stage_and_switch(
    layout: &Layout,
    run_dir: &Path,
    name: &VersionName,
    options: &PromoteOptions,
) -> Result<PathBuf, DeployError> {
    let notify = |step: &Step| {
        if let Some(f) = options.on_step {
            f(step)
        }
    };
    layout.remove_stale_staging()?;
    let staging = layout.staging_dir(&name.render())?;
    let guard = StagingGuard(Some(staging.clone()));
    for file in SERVICE_FILES.iter().chain(&[GATE_FILE, MANIFEST_FILE]) {
        copy_synced(&run_dir.join(file), &staging.join(file))?;
        notify(&Step::Copied(file));
    }
    if let Some(symbols) = &options.canary {
        write_overlay(&staging, &name.run_id, symbols)?;
    }
    super::layout::sync_dir(&staging)?;
    let copy = validate_set(&staging);
    if !copy.passed() {
        return Err(DeployError::Invalid { action: "publish the copy", report: Box::new(copy) });
    }
    notify(&Step::Staged);
    let published = layout.publish(&staging, &name.render())?;
    guard.disarm();
    layout.switch_active(&name.render())?;
    notify(&Step::Switched);
    Ok(published)
}

fn copy_synced(from: &Path, to: &Path) -> Result<(), DeployError> {
    let bytes = std::fs::read(from).map_err(|e| DeployError::io(from, "read", e))?;
    crate::artifacts::write_bytes(to, &bytes)?;
    Ok(())
}

fn write_overlay(dir: &Path, run_id: &str, symbols: &[String]) -> Result<(), DeployError> {
    let overlay = ProductionOverlay {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.to_string(),
        canary: CanaryScope { symbols: symbols.to_vec() },
        signal_mode: "read_only".to_string(),
    };
    let text = serde_yaml::to_string(&overlay).expect("an overlay always serializes");
    crate::artifacts::write_bytes(&dir.join(OVERLAY_FILE), text.as_bytes())?;
    Ok(())
}

/// Removes a staging directory when a promotion fails before publishing it.
struct StagingGuard(Option<PathBuf>);

impl StagingGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn gate_summary(report: &CheckReport) -> Option<GateSummary> {
    let gate = report.gate.as_ref()?;
    Some(GateSummary { passed: gate.passed, failed_rules: gate.failed_rules() })
}

fn refusal_record(
    report: &CheckReport,
    previous: &Option<String>,
    options: &PromoteOptions,
    error: &DeployError,
) -> DeploymentRecord {
    let reason = match error {
        DeployError::GateFailed { failed, .. } => format!("gate failed ({failed})"),
        DeployError::Invalid { report, .. } => {
            format!("{} check(s) failed", report.failures().count())
        }
        other => other.to_string(),
    };
    DeploymentRecord {
        time: record::now_rfc3339(),
        action: Action::Promote,
        version: None,
        previous: previous.clone(),
        run_id: report.run_id().map(str::to_string),
        gate: gate_summary(report),
        canary: options.canary.clone(),
        user: options.user.clone(),
        outcome: format!("refused: {reason}"),
    }
}

fn promotion_record(
    report: &CheckReport,
    version: &str,
    previous: &Option<String>,
    options: &PromoteOptions,
    outcome: &Result<PathBuf, DeployError>,
) -> DeploymentRecord {
    DeploymentRecord {
        time: record::now_rfc3339(),
        action: Action::Promote,
        version: Some(version.to_string()),
        previous: previous.clone(),
        run_id: report.run_id().map(str::to_string),
        gate: gate_summary(report),
        canary: options.canary.clone(),
        user: options.user.clone(),
        outcome: match outcome {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("failed: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::testing::write_run;
    use crate::deploy::{read_records, resolve_active, RECORD_FILE};

    fn options() -> PromoteOptions {
        PromoteOptions { user: "tester".into(), ..PromoteOptions::default() }
    }

    #[test]
    fn the_first_promotion_creates_version_one_and_points_active_at_it() {
        let tmp = tempfile::tempdir().unwrap();
        let (run, deploy) = (tmp.path().join("run"), tmp.path().join("deploy"));
        write_run(&run, "r1", true);
        let p = promote(&run, &deploy, &options()).unwrap();
        assert_eq!(p.version, "0001-r1");
        assert_eq!(p.previous, None);
        assert_eq!(resolve_active(&deploy).unwrap(), p.version_dir.canonicalize().unwrap());
        assert!(!deploy.join(".lock").exists(), "lock released");
        let files = std::fs::read_dir(&p.version_dir).unwrap().count();
        assert_eq!(files, 5, "three service files, gate and manifest");
    }

    #[test]
    fn a_canary_promotion_writes_the_production_overlay() {
        let tmp = tempfile::tempdir().unwrap();
        let (run, deploy) = (tmp.path().join("run"), tmp.path().join("deploy"));
        write_run(&run, "r1", true);
        let opts = PromoteOptions { canary: Some(vec!["ESZ4".into(), "NQZ4".into()]), ..options() };
        let p = promote(&run, &deploy, &opts).unwrap();
        let text = std::fs::read_to_string(p.version_dir.join(OVERLAY_FILE)).unwrap();
        assert_eq!(
            text,
            "schema_version: 1\nrun_id: r1\ncanary:\n  symbols:\n  - ESZ4\n  - NQZ4\n\
             signal_mode: read_only\n"
        );
        assert_eq!(p.record.canary, opts.canary);
    }

    #[test]
    fn bad_options_are_rejected_before_anything_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let (run, deploy) = (tmp.path().join("run"), tmp.path().join("deploy"));
        write_run(&run, "r1", true);
        let cases = [
            PromoteOptions { keep: 0, ..options() },
            PromoteOptions { canary: Some(vec![]), ..options() },
            PromoteOptions { canary: Some(vec!["A".into(), "A".into()]), ..options() },
            PromoteOptions { canary: Some(vec![" A".into()]), ..options() },
        ];
        for opts in cases {
            let err = promote(&run, &deploy, &opts).unwrap_err();
            assert!(matches!(err, DeployError::Param(_)), "{err}");
        }
        assert!(!deploy.exists());
    }

    #[test]
    fn a_failed_copy_check_removes_the_staging_directory_and_records_the_failure() {
        static VERSIONS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        fn corrupt(step: &Step) {
            if *step == Step::Copied("best_global.yaml") {
                let dir = VERSIONS.get().unwrap();
                let vdir = std::fs::read_dir(dir).unwrap().flatten().next().unwrap().path();
                std::fs::write(vdir.join("best_global.yaml"), "schema_version: 1\nrun_id: r2\n")
                    .unwrap();
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let (run, deploy) = (tmp.path().join("run"), tmp.path().join("deploy"));
        write_run(&run, "r2", true);
        std::fs::create_dir_all(deploy.join("versions")).unwrap();
        VERSIONS.set(deploy.join("versions")).unwrap();
        let opts = PromoteOptions { on_step: Some(corrupt), ..options() };
        let err = promote(&run, &deploy, &opts).unwrap_err().to_string();
        assert!(err.contains("publish the copy") && err.contains("best_global.yaml"), "{err}");
        assert_eq!(std::fs::read_dir(deploy.join("versions")).unwrap().count(), 0);
        let records = read_records(&deploy.join(RECORD_FILE)).unwrap();
        assert!(records[0].outcome.starts_with("failed: "), "{}", records[0].outcome);
        assert!(resolve_active(&deploy).is_err(), "nothing became active");
    }
}
