//! Paths and directory operations of a deploy directory: version names,
//! the `active` symlink and its atomic switch, staging and pruning.
//!
//! The switch writes a new symlink under a temporary name and renames it
//! over `active`. POSIX `rename()` replaces the name in one step, so every
//! lookup of `active` resolves to the old version or the new one.

use super::{DeployError, ACTIVE_LINK, RECORD_FILE, VERSIONS_DIR};
use std::fs;
use std::path::{Path, PathBuf};

/// Prefix of staging directories, which an interrupted promotion leaves.
const STAGING_PREFIX: &str = ".staging-";

/// The directories and files of one deploy directory.
pub(crate) struct Layout {
    root: PathBuf,
}

/// A version directory's name: `NNNN-RUN_ID`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VersionName {
    pub number: u32,
    pub run_id: String,
}

impl VersionName {
    /// Parses `0012-run` into (12, "run"); other names are not versions.
    pub fn parse(name: &str) -> Option<VersionName> {
        let (digits, run_id) = name.split_once('-')?;
        let all_digits = digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit());
        let number = digits.parse().ok().filter(|_| all_digits && !run_id.is_empty())?;
        Some(VersionName { number, run_id: run_id.to_string() })
    }

    pub fn render(&self) -> String {
        format!("{:04}-{}", self.number, self.run_id)
    }
}

impl Layout {
    /// The layout of `root`, creating `root/versions` when `create`.
    pub fn open(root: &Path, create: bool) -> Result<Layout, DeployError> {
        let versions = root.join(VERSIONS_DIR);
        if create {
            fs::create_dir_all(&versions)
                .map_err(|e| DeployError::io(&versions, "create the directory", e))?;
        }
        Ok(Layout { root: root.to_path_buf() })
    }

    pub fn record_path(&self) -> PathBuf {
        self.root.join(RECORD_FILE)
    }

    pub fn version_dir(&self, name: &str) -> PathBuf {
        self.root.join(VERSIONS_DIR).join(name)
    }

    /// The name of the active version, or `None` when there is no `active`.
    pub fn active_version(&self) -> Result<Option<String>, DeployError> {
        let link = self.root.join(ACTIVE_LINK);
        let target = match fs::read_link(&link) {
            Ok(target) => target,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DeployError::io(&link, "read the symlink", e)),
        };
        let name = target.file_name().map(|n| n.to_string_lossy().to_string());
        Ok(Some(name.unwrap_or_default()))
    }

    /// Published versions, sorted by number.
    pub fn versions(&self) -> Result<Vec<VersionName>, DeployError> {
        let dir = self.root.join(VERSIONS_DIR);
        let entries = fs::read_dir(&dir).map_err(|e| DeployError::io(&dir, "list", e))?;
        let mut names: Vec<VersionName> = entries
            .flatten()
            .filter_map(|e| VersionName::parse(&e.file_name().to_string_lossy()))
            .collect();
        names.sort_by_key(|v| v.number);
        Ok(names)
    }

    /// The name the next promotion of `run_id` gets.
    pub fn next_version(&self, run_id: &str) -> Result<VersionName, DeployError> {
        let last = self.versions()?.last().map_or(0, |v| v.number);
        Ok(VersionName { number: last + 1, run_id: run_id.to_string() })
    }

    /// A fresh, empty staging directory for `name`.
    pub fn staging_dir(&self, name: &str) -> Result<PathBuf, DeployError> {
        let dir = self.root.join(VERSIONS_DIR).join(format!("{STAGING_PREFIX}{name}"));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| DeployError::io(&dir, "remove", e))?;
        }
        fs::create_dir(&dir).map_err(|e| DeployError::io(&dir, "create the directory", e))?;
        Ok(dir)
    }

    /// Removes staging directories an interrupted promotion left behind.
    /// Only called while holding the deploy lock.
    pub fn remove_stale_staging(&self) -> Result<(), DeployError> {
        let dir = self.root.join(VERSIONS_DIR);
        let entries = fs::read_dir(&dir).map_err(|e| DeployError::io(&dir, "list", e))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(|e| DeployError::io(&path, "remove", e))?;
            }
        }
        Ok(())
    }

    /// Renames a complete staging directory to its published name.
    pub fn publish(&self, staging: &Path, name: &str) -> Result<PathBuf, DeployError> {
        let target = self.version_dir(name);
        if target.exists() {
            let e = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "version exists");
            return Err(DeployError::io(&target, "publish the version", e));
        }
        fs::rename(staging, &target).map_err(|e| DeployError::io(&target, "publish", e))?;
        sync_dir(&self.root.join(VERSIONS_DIR))?;
        Ok(target)
    }

    /// Points `active` at version `name` in one atomic rename.
    pub fn switch_active(&self, name: &str) -> Result<(), DeployError> {
        let tmp = self.root.join(format!(".{ACTIVE_LINK}.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let target = Path::new(VERSIONS_DIR).join(name);
        std::os::unix::fs::symlink(&target, &tmp)
            .map_err(|e| DeployError::io(&tmp, "create the symlink", e))?;
        let link = self.root.join(ACTIVE_LINK);
        if let Err(e) = fs::rename(&tmp, &link) {
            let _ = fs::remove_file(&tmp);
            return Err(DeployError::io(&link, "replace the symlink", e));
        }
        sync_dir(&self.root)
    }

    /// Deletes the oldest versions beyond the newest `keep`, never one in
    /// `protect`. Returns the deleted names, oldest first.
    pub fn prune(&self, keep: usize, protect: &[&str]) -> Result<Vec<String>, DeployError> {
        let versions = self.versions()?;
        let excess = versions.len().saturating_sub(keep);
        let mut pruned = Vec::new();
        for name in versions.iter().take(excess).map(VersionName::render) {
            if protect.contains(&name.as_str()) {
                continue;
            }
            let dir = self.version_dir(&name);
            fs::remove_dir_all(&dir).map_err(|e| DeployError::io(&dir, "remove", e))?;
            pruned.push(name);
        }
        Ok(pruned)
    }
}

/// The directory of the active version of `deploy_dir`, fully resolved.
///
/// Readers call this once and read every file from the returned directory:
/// opening `active/a` and then `active/b` could straddle a switch.
pub fn resolve_active(deploy_dir: &Path) -> Result<PathBuf, DeployError> {
    let link = deploy_dir.join(ACTIVE_LINK);
    let no_active = |reason: String| DeployError::NoActive { dir: deploy_dir.into(), reason };
    match fs::symlink_metadata(&link) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(no_active(format!("{} does not exist", link.display())));
        }
        Err(e) => return Err(DeployError::io(&link, "inspect", e)),
        Ok(m) if !m.file_type().is_symlink() => {
            return Err(no_active(format!("{} is not a symlink", link.display())));
        }
        Ok(_) => {}
    }
    fs::canonicalize(&link).map_err(|e| no_active(format!("{} is dangling: {e}", link.display())))
}

/// Flushes a directory's entries (new names, renames) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), DeployError> {
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| DeployError::io(dir, "sync the directory", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_parse_and_render_with_four_digit_numbers() {
        let v = VersionName::parse("0012-2024-01-02_a").unwrap();
        assert_eq!(v, VersionName { number: 12, run_id: "2024-01-02_a".into() });
        assert_eq!(v.render(), "0012-2024-01-02_a");
        assert_eq!(VersionName { number: 12345, run_id: "r".into() }.render(), "12345-r");
        for bad in ["12-r", "0012-", ".staging-0001-r", "abcd-r", "0012"] {
            assert_eq!(VersionName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn switching_replaces_the_link_and_leaves_no_temporary() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::open(root.path(), true).unwrap();
        for name in ["0001-a", "0002-b"] {
            fs::create_dir(layout.version_dir(name)).unwrap();
            layout.switch_active(name).unwrap();
            assert_eq!(layout.active_version().unwrap().as_deref(), Some(name));
        }
        let resolved = resolve_active(root.path()).unwrap();
        assert!(resolved.ends_with("versions/0002-b"));
        let mut names: Vec<_> =
            fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["active", "versions"]);
    }

    #[test]
    fn resolve_active_explains_a_missing_or_dangling_link() {
        let root = tempfile::tempdir().unwrap();
        let err = resolve_active(root.path()).unwrap_err().to_string();
        assert!(err.contains("does not exist") && err.contains("divtune promote"), "{err}");
        let layout = Layout::open(root.path(), true).unwrap();
        layout.switch_active("0009-gone").unwrap();
        let err = resolve_active(root.path()).unwrap_err().to_string();
        assert!(err.contains("dangling"), "{err}");
    }

    #[test]
    fn prune_keeps_the_newest_and_every_protected_version() {
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::open(root.path(), true).unwrap();
        for n in 1..=6 {
            fs::create_dir(layout.version_dir(&format!("{n:04}-r{n}"))).unwrap();
        }
        let pruned = layout.prune(2, &["0002-r2"]).unwrap();
        assert_eq!(pruned, ["0001-r1", "0003-r3", "0004-r4"]);
        let left: Vec<String> = layout.versions().unwrap().iter().map(|v| v.render()).collect();
        assert_eq!(left, ["0002-r2", "0005-r5", "0006-r6"]);
    }
}
