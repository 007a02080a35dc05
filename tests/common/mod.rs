//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// Says why a test did not run. Written to the process's stderr directly,
/// past the test harness's capture, so that the skip shows in CI logs.
fn skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {reason}");
}

/// The real market sample `set` under DIVTUNE_REAL_DATA, or None (with
/// the reason printed) when it is not there.
pub fn real_data(set: &str) -> Option<PathBuf> {
    let Ok(root) = std::env::var("DIVTUNE_REAL_DATA") else {
        skip("DIVTUNE_REAL_DATA is not set (.ci/run sets it to ../shared/data/real)");
        return None;
    };
    let path = PathBuf::from(root).join(set);
    if !path.is_dir() {
        skip(&format!("{} does not exist", path.display()));
        return None;
    }
    Some(path)
}
