//! Validation of one file set (a run directory or a deployed version): every
//! file the live service loads is present, parses, carries
//! `schema_version: 1` and the run's `run_id`, and matches the SHA-256 that
//! the run's `manifest.json` recorded; `gate.json` says the run passed.
//!
//! [`validate_set`] never stops at the first problem: it returns a
//! [`CheckReport`] with one [`Check`] per step, so a person sees every
//! problem at once. Steps for one file stop at that file's first failure
//! (a missing file has no hash worth reporting).

use super::run_files::{GateFile, Manifest, SCHEMA_VERSION};
use super::{GATE_FILE, MANIFEST_FILE, OVERLAY_FILE, SERVICE_FILES};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// One validation step and its outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The file checked, relative to the set's directory.
    pub file: String,
    /// What was checked, such as `sha256 matches manifest`.
    pub what: String,
    pub passed: bool,
    /// On failure: what is wrong and what to do. On success: a short note.
    pub message: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.passed { "ok  " } else { "FAIL" };
        write!(f, "{mark} {}: {}: {}", self.file, self.what, self.message)
    }
}

/// Every check run on one directory, with the run files that could be read.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub dir: PathBuf,
    pub manifest: Option<Manifest>,
    pub gate: Option<GateFile>,
    pub checks: Vec<Check>,
}

impl CheckReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The failed checks, in the order they ran.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// True when the gate file was read and says the run failed.
    pub fn gate_failed(&self) -> bool {
        self.gate.as_ref().is_some_and(|g| !g.passed)
    }

    /// The run id from the manifest, if it could be read.
    pub fn run_id(&self) -> Option<&str> {
        self.manifest.as_ref().map(|m| m.run_id.as_str())
    }

    fn push(&mut self, file: &str, what: &str, outcome: Result<String, String>) -> bool {
        let passed = outcome.is_ok();
        let message = outcome.unwrap_or_else(|e| e);
        self.checks.push(Check { file: file.into(), what: what.into(), passed, message });
        passed
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.dir.display())?;
        for check in &self.checks {
            writeln!(f, "  {check}")?;
        }
        let failed = self.failures().count();
        write!(f, "{} checks, {} failed", self.checks.len(), failed)
    }
}

/// Runs every check on the file set in `dir`.
pub fn validate_set(dir: &Path) -> CheckReport {
    let mut report =
        CheckReport { dir: dir.to_path_buf(), manifest: None, gate: None, checks: Vec::new() };
    report.manifest = check_manifest(&mut report, dir);
    report.gate = check_gate(&mut report, dir);
    for file in SERVICE_FILES {
        check_service_file(&mut report, dir, file);
    }
    if dir.join(OVERLAY_FILE).exists() {
        let outcome = read_document(&dir.join(OVERLAY_FILE)).map(|_| "parses".to_string());
        report.push(OVERLAY_FILE, "production overlay parses", outcome);
    }
    report
}

/// The fields every run file starts with. The calibration map keeps its
/// run id under `meta`, with the rest of its provenance.
#[derive(Deserialize)]
struct Header {
    schema_version: Option<u32>,
    run_id: Option<String>,
    meta: Option<MetaHeader>,
}

#[derive(Deserialize)]
struct MetaHeader {
    run_id: Option<String>,
}

impl Header {
    fn run_id(&self) -> Option<&String> {
        self.run_id.as_ref().or_else(|| self.meta.as_ref().and_then(|m| m.run_id.as_ref()))
    }
}

/// A file's bytes and its parsed header.
struct Document {
    bytes: Vec<u8>,
    header: Header,
}

fn check_manifest(report: &mut CheckReport, dir: &Path) -> Option<Manifest> {
    let (doc, manifest) = read_typed::<Manifest>(report, dir, MANIFEST_FILE)?;
    schema_ok(report, MANIFEST_FILE, &doc.header).then_some(manifest)
}

fn check_gate(report: &mut CheckReport, dir: &Path) -> Option<GateFile> {
    let (doc, gate) = read_typed::<GateFile>(report, dir, GATE_FILE)?;
    let ok = schema_ok(report, GATE_FILE, &doc.header)
        && run_id_ok(report, GATE_FILE, &doc.header)
        && hash_ok(report, GATE_FILE, &doc.bytes, false);
    if ok {
        report.push(GATE_FILE, "gate passed", gate_verdict(&gate));
    }
    Some(gate)
}

fn gate_verdict(gate: &GateFile) -> Result<String, String> {
    if gate.passed {
        return Ok(format!("run {} passed all {} rules", gate.run_id, gate.rules.len()));
    }
    Err(format!(
        "run {} failed its acceptance gate (failed rules: {}); it must not be deployed: \
         promote a run whose gate passed",
        gate.run_id,
        gate.failed_rules().join(", ")
    ))
}

fn check_service_file(report: &mut CheckReport, dir: &Path, file: &str) {
    let Some(doc) = read_step(report, dir, file) else { return };
    let _ = schema_ok(report, file, &doc.header)
        && run_id_ok(report, file, &doc.header)
        && hash_ok(report, file, &doc.bytes, true);
}

/// Reads and parses a file as a document and as `T`, recording the step.
fn read_typed<T: for<'de> Deserialize<'de>>(
    report: &mut CheckReport,
    dir: &Path,
    file: &str,
) -> Option<(Document, T)> {
    let doc = read_step(report, dir, file)?;
    match serde_json::from_slice::<T>(&doc.bytes) {
        Ok(value) => Some((doc, value)),
        Err(e) => {
            let msg = format!("does not have the expected fields ({e}); regenerate the run");
            report.push(file, "fields", Err(msg));
            None
        }
    }
}

fn read_step(report: &mut CheckReport, dir: &Path, file: &str) -> Option<Document> {
    match read_document(&dir.join(file)) {
        Ok(doc) => {
            report.push(file, "present and parses", Ok(format!("{} bytes", doc.bytes.len())));
            Some(doc)
        }
        Err(msg) => {
            report.push(file, "present and parses", Err(msg));
            None
        }
    }
}

/// Reads a `.json` or `.yaml` file and its header.
fn read_document(path: &Path) -> Result<Document, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "missing; every deployable set needs it".to_string(),
        _ => format!("cannot read: {e}"),
    })?;
    let json = path.extension().is_some_and(|x| x == "json");
    let header = if json { json_header(&bytes) } else { yaml_header(&bytes) }?;
    Ok(Document { bytes, header })
}

fn json_header(bytes: &[u8]) -> Result<Header, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    serde_json::from_value(value).map_err(|e| format!("top level is not a run file mapping: {e}"))
}

fn yaml_header(bytes: &[u8]) -> Result<Header, String> {
    let value: serde_yaml::Value =
        serde_yaml::from_slice(bytes).map_err(|e| format!("not valid YAML: {e}"))?;
    serde_yaml::from_value(value).map_err(|e| format!("top level is not a run file mapping: {e}"))
}

fn schema_ok(report: &mut CheckReport, file: &str, header: &Header) -> bool {
    let outcome = match header.schema_version {
        Some(SCHEMA_VERSION) => Ok(format!("{SCHEMA_VERSION}")),
        Some(v) => Err(format!(
            "schema_version is {v}, this divtune reads {SCHEMA_VERSION}; \
             use the divtune version that wrote the run"
        )),
        None => Err("has no schema_version; it was not written by divtune".to_string()),
    };
    report.push(file, "schema_version", outcome)
}

fn run_id_ok(report: &mut CheckReport, file: &str, header: &Header) -> bool {
    let Some(expected) = report.run_id().map(str::to_string) else {
        return report.push(file, "run_id", Err("cannot compare: no readable manifest".into()));
    };
    let outcome = match header.run_id() {
        Some(id) if *id == expected => Ok(expected),
        Some(id) => Err(format!(
            "run_id is {id} but the manifest's is {expected}: files from different runs \
             were mixed; copy the whole run directory again"
        )),
        None => Err("has no run_id; it was not written by divtune".to_string()),
    };
    report.push(file, "run_id", outcome)
}

/// Compares a file's bytes with its manifest entry. A file the manifest
/// does not list fails when `required`, and passes unchecked otherwise.
fn hash_ok(report: &mut CheckReport, file: &str, bytes: &[u8], required: bool) -> bool {
    let Some(manifest) = &report.manifest else {
        return report.push(file, "sha256", Err("cannot compare: no readable manifest".into()));
    };
    let outcome = match manifest.output(file) {
        Some(entry) => compare_hash(bytes, &entry.sha256, entry.bytes),
        None if required => Err(format!(
            "{MANIFEST_FILE} lists no output `{file}`; the run is incomplete: re-run it"
        )),
        None => return true,
    };
    report.push(file, "sha256 matches manifest", outcome)
}

fn compare_hash(bytes: &[u8], expected: &str, expected_len: u64) -> Result<String, String> {
    let actual = super::run_files::sha256_hex(bytes);
    if actual == expected && bytes.len() as u64 == expected_len {
        return Ok(actual);
    }
    Err(format!(
        "sha256 {actual} ({} bytes) but the manifest recorded {expected} ({expected_len} bytes): \
         the file changed after the run wrote it; re-run, or promote a run that is intact",
        bytes.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::testing::write_run;

    #[test]
    fn a_complete_passing_run_passes_every_check() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), "r1", true);
        let report = validate_set(dir.path());
        assert!(report.passed(), "{report}");
        assert_eq!(report.run_id(), Some("r1"));
        // manifest: 2 steps, gate: 5 (parse, schema, run_id, hash, verdict), 3 files x 4.
        assert_eq!(report.checks.len(), 2 + 5 + 12);
    }

    #[test]
    fn a_failed_gate_is_reported_with_its_failed_rules() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), "r1", false);
        let report = validate_set(dir.path());
        assert!(report.gate_failed());
        let failures: Vec<_> = report.failures().collect();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].message.contains("failed rules: acc@10"), "{}", failures[0]);
    }

    #[test]
    fn an_edited_file_fails_its_hash_check_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), "r1", true);
        let path = dir.path().join("best_global.yaml");
        let text = std::fs::read_to_string(&path).unwrap() + "extra: 1\n";
        std::fs::write(&path, text).unwrap();
        let report = validate_set(dir.path());
        let failures: Vec<_> = report.failures().collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].file, "best_global.yaml");
        assert!(failures[0].message.contains("changed after the run wrote it"));
    }

    #[test]
    fn missing_unparsable_and_foreign_files_each_fail_once() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), "r1", true);
        std::fs::remove_file(dir.path().join("best_by_bucket.yaml")).unwrap();
        std::fs::write(dir.path().join("best_global.yaml"), "a: [1,\n").unwrap();
        let calib = dir.path().join("divergence_score_calibration.json");
        std::fs::write(&calib, r#"{"schema_version":2,"run_id":"r1"}"#).unwrap();
        let report = validate_set(dir.path());
        let msgs: Vec<String> = report.failures().map(|c| c.to_string()).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs[0].contains("best_global.yaml") && msgs[0].contains("not valid YAML"));
        assert!(msgs[1].contains("best_by_bucket.yaml") && msgs[1].contains("missing"));
        assert!(msgs[2].contains("schema_version is 2"));
    }

    #[test]
    fn a_file_from_another_run_is_caught_by_its_run_id() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), "r1", true);
        let path = dir.path().join("best_by_bucket.yaml");
        std::fs::write(&path, "schema_version: 1\nrun_id: r0\n").unwrap();
        let report = validate_set(dir.path());
        let failures: Vec<_> = report.failures().collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].what, "run_id");
        assert!(failures[0].message.contains("run_id is r0"));
    }

    #[test]
    fn without_a_manifest_every_file_says_it_cannot_be_compared() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), "r1", true);
        std::fs::remove_file(dir.path().join(MANIFEST_FILE)).unwrap();
        let report = validate_set(dir.path());
        assert!(report.manifest.is_none());
        // manifest missing + one "cannot compare" for the gate and each service file.
        assert_eq!(report.failures().count(), 1 + 1 + 3);
    }
}
