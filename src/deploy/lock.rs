//! One deployer at a time: `DEPLOY/.lock`, created exclusively and holding
//! the owner's process id, removed when the [`DeployLock`] is dropped.
//!
//! A lock whose owner no longer runs (a killed promotion) is stale and is
//! taken over. Liveness is read from `/proc/PID`, so a stale lock is only
//! recognised on Linux; elsewhere it must be deleted by hand, as the error
//! message says.

use super::DeployError;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

const LOCK_FILE: &str = ".lock";

/// Held while promoting or rolling back; released on drop.
pub(crate) struct DeployLock {
    path: PathBuf,
}

impl DeployLock {
    /// Takes the lock of `root`, replacing a stale one once.
    pub fn acquire(root: &Path) -> Result<DeployLock, DeployError> {
        let path = root.join(LOCK_FILE);
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    let pid = std::process::id().to_string();
                    file.write_all(pid.as_bytes())
                        .map_err(|e| DeployError::io(&path, "write the lock", e))?;
                    return Ok(DeployLock { path });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => remove_if_stale(root, &path)?,
                Err(e) => return Err(DeployError::io(&path, "create the lock", e)),
            }
        }
        Err(DeployError::Locked { dir: root.to_path_buf(), pid: owner(&path) })
    }
}

impl Drop for DeployLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn owner(path: &Path) -> String {
    fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_else(|_| "?".into())
}

/// Removes the lock when its owner is known to be gone; else reports it held.
fn remove_if_stale(root: &Path, path: &Path) -> Result<(), DeployError> {
    let pid = owner(path);
    let alive = !pid.is_empty() && Path::new("/proc").join(&pid).exists();
    let known_dead = Path::new("/proc/self").exists() && !alive && pid.parse::<u32>().is_ok();
    if !known_dead {
        return Err(DeployError::Locked { dir: root.to_path_buf(), pid });
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DeployError::io(path, "remove the stale lock", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_deployer_is_refused_while_the_first_holds_the_lock() {
        let root = tempfile::tempdir().unwrap();
        let first = DeployLock::acquire(root.path()).unwrap();
        let err = DeployLock::acquire(root.path()).err().unwrap();
        assert!(err.to_string().contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        assert!(DeployLock::acquire(root.path()).is_ok());
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_taken_over() {
        let root = tempfile::tempdir().unwrap();
        // Pids are below 2^22 on Linux, so this one cannot be running.
        fs::write(root.path().join(LOCK_FILE), "4294967").unwrap();
        let lock = DeployLock::acquire(root.path()).unwrap();
        assert_eq!(owner(&lock.path), std::process::id().to_string());
    }

    #[test]
    fn a_lock_with_unreadable_contents_is_never_taken_over() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join(LOCK_FILE), "not a pid").unwrap();
        assert!(matches!(DeployLock::acquire(root.path()), Err(DeployError::Locked { .. })));
    }
}
