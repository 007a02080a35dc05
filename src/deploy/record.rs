//! The deployment record `DEPLOY/deployments.jsonl`: one JSON object per
//! line, one line per promotion or rollback, refused ones included.
//!
//! Each line is appended with `O_APPEND` in a single `write` and synced, so
//! lines from a killed process are whole or absent. The record is also the
//! memory of rollback: [`rollback_target`] follows it.

use super::DeployError;
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// What a record line did.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Promote,
    Rollback,
}

/// The gate verdict of the version a line is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateSummary {
    pub passed: bool,
    pub failed_rules: Vec<String>,
}

/// One line of `deployments.jsonl`. Field order is the line's key order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    /// UTC, RFC 3339 with seconds.
    pub time: String,
    pub action: Action,
    /// The version made active; `None` when refused before one existed.
    pub version: Option<String>,
    /// The version that was active before this line.
    pub previous: Option<String>,
    pub run_id: Option<String>,
    pub gate: Option<GateSummary>,
    /// Symbols of the canary overlay; `None` means all symbols.
    pub canary: Option<Vec<String>>,
    pub user: String,
    /// `ok`, `refused: REASON` or `failed: REASON`.
    pub outcome: String,
}

impl DeploymentRecord {
    /// True when the line's action took effect.
    pub fn is_ok(&self) -> bool {
        self.outcome == "ok"
    }
}

/// The user named by `$USER`, else `$LOGNAME`, else `unknown`.
pub fn current_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The current UTC time as RFC 3339 with seconds.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Appends one line in a single write and syncs it.
pub(crate) fn append(path: &Path, record: &DeploymentRecord) -> Result<(), DeployError> {
    let mut line = serde_json::to_string(record).expect("a record always serializes");
    line.push('\n');
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| DeployError::io(path, "open for appending", e))?;
    let written = file.write(line.as_bytes()).map_err(|e| DeployError::io(path, "append", e))?;
    if written != line.len() {
        let e = std::io::Error::new(std::io::ErrorKind::WriteZero, "short write");
        return Err(DeployError::io(path, "append", e));
    }
    file.sync_data().map_err(|e| DeployError::io(path, "sync", e))
}

/// Every line of the record, oldest first; a missing file is an empty record.
pub fn read_records(path: &Path) -> Result<Vec<DeploymentRecord>, DeployError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DeployError::io(path, "read", e)),
    };
    let parse = |(i, line): (usize, &str)| {
        serde_json::from_str(line).map_err(|e| DeployError::Record {
            path: path.to_path_buf(),
            line: i + 1,
            message: e.to_string(),
        })
    };
    text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(parse).collect()
}

/// The version to roll back to from `active`: the one that was active when
/// `active` was promoted. Following promotions (not rollbacks) makes repeated
/// rollbacks walk further back instead of toggling between two versions.
pub(crate) fn rollback_target(records: &[DeploymentRecord], active: &str) -> Option<String> {
    records
        .iter()
        .rev()
        .find(|r| r.is_ok() && r.action == Action::Promote && r.version.as_deref() == Some(active))
        .and_then(|r| r.previous.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promoted(version: &str, previous: Option<&str>) -> DeploymentRecord {
        DeploymentRecord {
            time: "2024-01-01T00:00:00Z".into(),
            action: Action::Promote,
            version: Some(version.into()),
            previous: previous.map(str::to_string),
            run_id: Some("r".into()),
            gate: Some(GateSummary { passed: true, failed_rules: vec![] }),
            canary: None,
            user: "u".into(),
            outcome: "ok".into(),
        }
    }

    #[test]
    fn records_append_as_single_lines_with_fields_in_declared_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployments.jsonl");
        append(&path, &promoted("0001-a", None)).unwrap();
        append(&path, &promoted("0002-b", Some("0001-a"))).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            r#"{"time":"2024-01-01T00:00:00Z","action":"promote","version":"0001-a","#.to_owned()
                + r#""previous":null,"run_id":"r","gate":{"passed":true,"failed_rules":[]},"#
                + r#""canary":null,"user":"u","outcome":"ok"}"#
        );
        assert_eq!(read_records(&path).unwrap().len(), 2);
    }

    #[test]
    fn a_corrupt_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployments.jsonl");
        append(&path, &promoted("0001-a", None)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{oops\n")
            .unwrap();
        let err = read_records(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("fix or remove"), "{err}");
    }

    #[test]
    fn rollback_targets_walk_back_through_promotions_not_rollbacks() {
        let mut records = vec![
            promoted("0001-a", None),
            promoted("0002-b", Some("0001-a")),
            promoted("0003-c", Some("0002-b")),
        ];
        assert_eq!(rollback_target(&records, "0003-c").as_deref(), Some("0002-b"));
        let mut back = promoted("0002-b", Some("0003-c"));
        back.action = Action::Rollback;
        records.push(back);
        assert_eq!(rollback_target(&records, "0002-b").as_deref(), Some("0001-a"));
        assert_eq!(rollback_target(&records, "0001-a"), None);
    }

    #[test]
    fn refused_lines_are_never_rollback_targets() {
        let mut refused = promoted("0002-b", Some("0001-a"));
        refused.outcome = "refused: gate failed".into();
        assert_eq!(rollback_target(&[refused], "0002-b"), None);
    }

    #[test]
    fn current_user_is_never_empty() {
        assert!(!current_user().is_empty());
    }
}
