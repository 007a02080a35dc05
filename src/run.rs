//! A run: its id, its directory, and the manifest that records what went
//! in and what came out.
//!
//! Run ids are the UTC start time (`20261203T164500Z`); a second run in the
//! same second gets a suffix, so runs never overwrite each other. The
//! directory is created only after every input has been checked.

use crate::artifacts::{self, WriteError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Version of every JSON and YAML artifact schema divtune writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A run id for `now`.
pub fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
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

/// One file with its size and content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl FileEntry {
    /// Hashes the file at `path`, recording it under `name`.
    pub fn of(path: &Path, name: String) -> std::io::Result<FileEntry> {
        let bytes = std::fs::read(path)?;
        Ok(FileEntry { path: name, bytes: bytes.len() as u64, sha256: sha256_hex(&bytes) })
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// manifest.json: what a run read, how it was configured, and what it wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub run_id: String,
    pub tool_version: String,
    pub git_commit: String,
    pub config_source: String,
    pub config_sha256: String,
    pub seed: u64,
    pub started_at: String,
    pub finished_at: String,
    pub inputs: Vec<FileEntry>,
    /// Paths relative to the run directory.
    pub outputs: Vec<FileEntry>,
}

impl Manifest {
    /// Hashes every regular file under `dir` (except the manifest itself)
    /// as an output, in sorted order, and writes the manifest.
    pub fn finish(mut self, dir: &Path) -> Result<Manifest, WriteError> {
        let mut outputs = Vec::new();
        collect_outputs(dir, dir, &mut outputs)
            .map_err(|e| WriteError { path: dir.to_path_buf(), message: e.to_string() })?;
        outputs.sort_by(|a, b| a.path.cmp(&b.path));
        self.outputs = outputs;
        artifacts::write_json(&dir.join("manifest.json"), &self)?;
        Ok(self)
    }
}

fn collect_outputs(root: &Path, dir: &Path, out: &mut Vec<FileEntry>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if path.is_dir() {
            collect_outputs(root, &path, out)?;
        } else if !hidden && name != "manifest.json" {
            out.push(FileEntry::of(&path, name)?);
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
}
