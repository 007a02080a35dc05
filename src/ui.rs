//! Messages for people: logs, warnings and progress bars on stderr, at the
//! verbosity the user chose. Results go to stdout through the commands
//! themselves. Progress bars appear only when stderr is a terminal (logs
//! and CI get the plain lines instead) and never use colour, so NO_COLOR
//! has nothing to turn off.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say on stderr.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Verbosity {
    /// Errors only.
    Quiet = 0,
    /// Banners, stage progress and warnings.
    Normal = 1,
    /// Everything, including per-unit details.
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

pub fn set_verbosity(v: Verbosity) {
    LEVEL.store(v as u8, Ordering::Relaxed);
}

pub fn enabled(v: Verbosity) -> bool {
    LEVEL.load(Ordering::Relaxed) >= v as u8
}

/// A progress or status line.
pub fn info(message: impl AsRef<str>) {
    if enabled(Verbosity::Normal) {
        eprintln!("{}", message.as_ref());
    }
}

/// A detail line, shown with `--verbose`.
pub fn detail(message: impl AsRef<str>) {
    if enabled(Verbosity::Verbose) {
        eprintln!("  {}", message.as_ref());
    }
}

/// A warning: something the user should know that does not stop the run.
pub fn warn(message: impl AsRef<str>) {
    if enabled(Verbosity::Normal) {
        eprintln!("warning: {}", message.as_ref());
    }
}

/// A progress bar over `len` steps, drawn on stderr only when it is a
/// terminal and the user did not ask for quiet; otherwise hidden, so that
/// callers can tick it unconditionally.
pub fn progress(len: u64, label: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled(Verbosity::Normal) || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style =
        indicatif::ProgressStyle::with_template("{msg:<10} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(label.to_string());
    bar
}
