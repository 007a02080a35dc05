//! Everything divtune writes to disk goes through here.
//!
//! Files are written to a temporary name in the destination directory,
//! flushed to disk, and renamed over the final name, so a reader (or a run
//! interrupted half-way) sees either the old file or the whole new one,
//! never half a file. Temporary names start with `.` and end in `.tmp`, and
//! any that an interrupted run leaves behind are removed by the next write
//! to the same directory.

use polars::prelude::{DataFrame, ParquetWriter};
use serde::Serialize;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written right now, so that an interrupt handler
/// can remove them before the process exits.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary file still being written. Called on Ctrl-C:
/// finished artifacts are complete files, and this takes away the only
/// partial ones.
pub fn remove_in_flight() -> usize {
    let paths = IN_FLIGHT.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
    paths.iter().filter(|p| fs::remove_file(p).is_ok()).count()
}

/// The temporaries being written now (what Ctrl-C would remove).
#[cfg(test)]
pub(crate) fn in_flight() -> Vec<PathBuf> {
    IN_FLIGHT.lock().map(|v| v.clone()).unwrap_or_default()
}

/// Registers a temporary file while it is being written (`on`), and
/// forgets it once renamed or removed, so that Ctrl-C can remove it.
pub fn track(tmp: &Path, on: bool) {
    if let Ok(mut v) = IN_FLIGHT.lock() {
        if on {
            v.push(tmp.to_path_buf());
        } else {
            v.retain(|p| p != tmp);
        }
    }
}

/// A failed write, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {message}")]
pub struct WriteError {
    pub path: PathBuf,
    pub message: String,
}

impl WriteError {
    fn new(path: &Path, message: impl ToString) -> Self {
        WriteError { path: path.to_path_buf(), message: message.to_string() }
    }
}

/// Writes `path` atomically with the bytes produced by `fill`.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&File>) -> Result<(), String>,
) -> Result<(), WriteError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, e))?;
    let name = path.file_name().ok_or_else(|| WriteError::new(path, "not a file path"))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    track(&tmp, true);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| e.to_string())?;
        let mut writer = BufWriter::new(&file);
        fill(&mut writer)?;
        writer.flush().map_err(|e| e.to_string())?;
        drop(writer);
        file.sync_all().map_err(|e| e.to_string())?;
        fs::rename(&tmp, path).map_err(|e| e.to_string())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    track(&tmp, false);
    result.map_err(|message| WriteError::new(path, message))
}

/// Writes bytes atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_with(path, |w| w.write_all(bytes).map_err(|e| e.to_string()))
}

/// Writes a value as pretty JSON with a trailing newline.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WriteError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| WriteError::new(path, e))?;
    text.push('\n');
    write_bytes(path, text.as_bytes())
}

/// Writes a value as YAML.
pub fn write_yaml<T: Serialize>(path: &Path, value: &T) -> Result<(), WriteError> {
    let text = serde_yaml::to_string(value).map_err(|e| WriteError::new(path, e))?;
    write_bytes(path, text.as_bytes())
}

/// Writes a data frame as Parquet (polars' default compression), on the
/// calling thread, for the same reason the reader does (data::read).
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), WriteError> {
    write_with(path, |w| {
        ParquetWriter::new(w).set_parallel(false).finish(df).map(|_| ()).map_err(|e| e.to_string())
    })
}

/// Removes temporary files that an interrupted run left in `dir`.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.starts_with('.') && (name.ends_with(".tmp") || name.ends_with(".tmp.png"))
        })
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_json(&path, &vec![1, 2, 3]).unwrap();
        write_json(&path, &vec![4]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[\n  4\n]\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.txt");
        write_bytes(&path, b"old").unwrap();
        let err = write_with(&path, |w| {
            w.write_all(b"half").unwrap();
            Err("interrupted".to_string())
        })
        .unwrap_err();
        assert!(err.to_string().contains("interrupted"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "temporary removed");
    }

    #[test]
    fn stale_temporaries_are_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".x.json.123.tmp"), b"partial").unwrap();
        fs::write(dir.path().join(".p.png.123.tmp.png"), b"partial").unwrap();
        fs::write(dir.path().join("x.json"), b"{}").unwrap();
        assert_eq!(remove_stale_temporaries(dir.path()), 2);
        assert!(dir.path().join("x.json").exists());
    }
}
