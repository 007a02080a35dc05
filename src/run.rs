//! A run: its id, its directory, and the manifest that records what went
//! in and what came out.
//!
//! Run ids are the UTC start time (`20261203T164500Z`); a second run in the
//! same second gets a suffix, so runs never overwrite each other. The
//! directory is created only after every input has been checked.

use crate::artifacts::{self, WriteError};
pub use crate::deploy::run_files::{sha256_hex, FileEntry, Manifest, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

/// A run id for `now`.
pub fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A run id becomes part of directory names (the run, a deployed
/// version), so it must be a plain name.
pub fn check_run_id(run_id: &str) -> Result<(), crate::core::ParamRangeError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if run_id.is_empty() || run_id.starts_with('.') || !run_id.chars().all(plain) {
        let range = "letters, digits, '.', '_' and '-', not starting with '.'";
        return Err(crate::core::ParamRangeError::new("run_id", range, run_id));
    }
    Ok(())
}

/// Creates `root/ID` (or `root/ID-2`, `-3`, ... when taken) and returns it
/// with the id actually used.
pub fn create_run_dir(root: &Path, id: &str) -> Result<(String, PathBuf), WriteError> {
    std::fs::create_dir_all(root)
        .map_err(|e| WriteError { path: root.to_path_buf(), message: e.to_string() })?;
    for n in 1..1000 {
        let candidate = if n == 1 { id.to_string() } else { format!("{id}-{n}") };
        let path = root.join(&candidate);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok((candidate, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(WriteError { path, message: e.to_string() }),
        }
    }
    Err(WriteError { path: root.join(id), message: "1000 runs with this id already exist".into() })
}

/// Hashes every regular file under `dir` (except the manifest itself and
/// hidden temporaries) as an output, in sorted order, and writes the
/// manifest.
pub fn finish_manifest(mut manifest: Manifest, dir: &Path) -> Result<Manifest, WriteError> {
    let mut outputs = Vec::new();
    collect_outputs(dir, dir, &mut outputs)
        .map_err(|e| WriteError { path: dir.to_path_buf(), message: e.to_string() })?;
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    manifest.outputs = outputs;
    artifacts::write_json(&dir.join("manifest.json"), &manifest)?;
    Ok(manifest)
}

fn collect_outputs(root: &Path, dir: &Path, out: &mut Vec<FileEntry>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if path.is_dir() {
            collect_outputs(root, &path, out)?;
        } else if !hidden && name != "manifest.json" {
            out.push(FileEntry::of_file(root, &name)?);
        }
    }
    Ok(())
}

/// The commit of the working directory's git checkout, or "unknown".
pub fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_utc_timestamps_and_never_collide() {
        let t = chrono::DateTime::from_timestamp(1_722_902_400, 0).unwrap();
        assert_eq!(run_id(t), "20240806T000000Z");
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = create_run_dir(dir.path(), "X").unwrap();
        let (b, _) = create_run_dir(dir.path(), "X").unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("X", "X-2"));
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_run_id_that_is_not_a_plain_name_is_refused() {
        assert!(check_run_id("2024-01-02_night.1").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", "ü"] {
            assert!(check_run_id(bad).is_err(), "{bad}");
        }
    }
}
