//! Rollback: make the version that was active before the current one was
//! promoted active again, by the same atomic switch as a promotion.
//!
//! The target comes from the deployment record, is checked like any
//! version before the switch, and the rollback is recorded whether it
//! succeeds or is refused.

use super::layout::Layout;
use super::lock::DeployLock;
use super::promote::ProductionOverlay;
use super::record::{self, Action, DeploymentRecord, GateSummary};
use super::{validate_set, CheckReport, DeployError, OVERLAY_FILE};
use std::path::{Path, PathBuf};

/// What a rollback did.
#[derive(Clone, Debug)]
pub struct Rollback {
    /// The version that was active.
    pub from: String,
    /// The version now active.
    pub to: String,
    pub version_dir: PathBuf,
    pub run_id: String,
    pub record: DeploymentRecord,
}

/// Rolls `deploy_dir` back to the previous version, recording `user`.
pub fn rollback(deploy_dir: &Path, user: &str) -> Result<Rollback, DeployError> {
    // Find the target from the record.
    let layout = Layout::open(deploy_dir, false)?;
    let _lock = DeployLock::acquire(deploy_dir)?;
    let no_active =
        |reason: &str| DeployError::NoActive { dir: deploy_dir.into(), reason: reason.into() };
    let from = layout.active_version()?.ok_or_else(|| no_active("`active` does not exist"))?;
    let records = record::read_records(&layout.record_path())?;
    let to = record::rollback_target(&records, &from).ok_or_else(|| DeployError::NoPrevious {
        dir: deploy_dir.to_path_buf(),
        reason: format!(
            "{} has no promotion of {from} with an earlier version; there is nothing to go back to",
            layout.record_path().display()
        ),
    })?;

    // Check the target, switch, record.
    let version_dir = layout.version_dir(&to);
    let report = validate_set(&version_dir);
    let outcome =
        if report.passed() { layout.switch_active(&to) } else { Err(refusal(report.clone())) };
    let line = rollback_record(&report, &from, &to, user, &outcome);
    record::append(&layout.record_path(), &line)?;
    outcome?;
    let run_id = report.run_id().unwrap_or_default().to_string();
    Ok(Rollback { from, to, version_dir, run_id, record: line })
}

fn refusal(report: CheckReport) -> DeployError {
    DeployError::Invalid { action: "roll back to", report: Box::new(report) }
}

/// The canary symbols of a version, if it has an overlay.
fn canary_of(dir: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(dir.join(OVERLAY_FILE)).ok()?;
    let overlay: ProductionOverlay = serde_yaml::from_str(&text).ok()?;
    Some(overlay.canary.symbols)
}

fn rollback_record(
    report: &CheckReport,
    from: &str,
    to: &str,
    user: &str,
    outcome: &Result<(), DeployError>,
) -> DeploymentRecord {
    let gate = report.gate.as_ref();
    DeploymentRecord {
        time: record::now_rfc3339(),
        action: Action::Rollback,
        version: Some(to.to_string()),
        previous: Some(from.to_string()),
        run_id: report.run_id().map(str::to_string),
        gate: gate.map(|g| GateSummary { passed: g.passed, failed_rules: g.failed_rules() }),
        canary: canary_of(&report.dir),
        user: user.to_string(),
        outcome: match outcome {
            Ok(()) => "ok".to_string(),
            Err(DeployError::Invalid { report, .. }) => {
                format!("refused: {} check(s) failed", report.failures().count())
            }
            Err(e) => format!("failed: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::testing::write_run;
    use crate::deploy::{promote, resolve_active, PromoteOptions};

    fn promote_run(tmp: &Path, run_id: &str) -> String {
        let run = tmp.join(run_id);
        write_run(&run, run_id, true);
        let opts = PromoteOptions { user: "t".into(), ..PromoteOptions::default() };
        promote(&run, &tmp.join("deploy"), &opts).unwrap().version
    }

    #[test]
    fn rollback_returns_to_the_version_active_before_the_last_promotion() {
        let tmp = tempfile::tempdir().unwrap();
        let a = promote_run(tmp.path(), "a");
        let b = promote_run(tmp.path(), "b");
        let deploy = tmp.path().join("deploy");
        let r = rollback(&deploy, "ops").unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str(), r.run_id.as_str()),
            (b.as_str(), a.as_str(), "a")
        );
        assert!(resolve_active(&deploy).unwrap().ends_with(&a));
        assert_eq!(r.record.user, "ops");
        assert_eq!(r.record.action, Action::Rollback);
    }

    #[test]
    fn rolling_back_past_the_first_version_is_an_error_that_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let a = promote_run(tmp.path(), "a");
        let deploy = tmp.path().join("deploy");
        let err = rollback(&deploy, "ops").unwrap_err();
        assert!(matches!(err, DeployError::NoPrevious { .. }), "{err}");
        assert!(resolve_active(&deploy).unwrap().ends_with(&a));
    }

    #[test]
    fn a_damaged_target_is_refused_and_the_refusal_recorded() {
        let tmp = tempfile::tempdir().unwrap();
        let a = promote_run(tmp.path(), "a");
        let b = promote_run(tmp.path(), "b");
        let deploy = tmp.path().join("deploy");
        std::fs::write(deploy.join("versions").join(&a).join("best_global.yaml"), "x: 1\n")
            .unwrap();
        let err = rollback(&deploy, "ops").unwrap_err().to_string();
        assert!(err.contains("roll back to") && err.contains("best_global.yaml"), "{err}");
        assert!(resolve_active(&deploy).unwrap().ends_with(&b));
        let records = record::read_records(&deploy.join(crate::deploy::RECORD_FILE)).unwrap();
        assert_eq!(records.last().unwrap().outcome, "refused: 1 check(s) failed");
    }
}
