//! Figures drawn from saved results, never from a replay, so that
//! `divtune report` can redraw them from the JSON artifacts alone.
//!
//! This module holds what every figure shares: the font registration that
//! plotters' `ab_glyph` text needs ([`ensure_fonts`]), the error type
//! ([`PlotError`]), atomic PNG output ([`render_png`]), axis ranges that
//! survive NaN and constant data ([`padded_range`]) and the colour and text
//! styles. One file per figure: [`calibration`] (score monotonicity and
//! reliability).

pub mod calibration;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle, RGBColor};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The regular sans font every figure uses.
pub const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
/// The bold variant, used for titles when present (regular otherwise).
pub const BOLD_FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
/// Debian package that provides both fonts.
pub const FONT_PACKAGE: &str = "fonts-dejavu-core";
/// Family name the fonts are registered under; plotters' default.
pub const FONT_FAMILY: &str = "sans-serif";

/// A figure that could not be drawn, naming the file or input at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    #[error(
        "cannot load font {path}: {reason}; install the Debian package {package} \
         (apt-get install {package})"
    )]
    Font { path: PathBuf, package: &'static str, reason: String },
    #[error("horizon {horizon} is not in the calibration report (it has {available:?})")]
    UnknownHorizon { horizon: usize, available: Vec<usize> },
    #[error("cannot draw {path}: {message}")]
    Draw { path: PathBuf, message: String },
}

/// Registers DejaVu Sans (and its bold face if installed) with plotters,
/// once per process; later calls return the first call's outcome.
///
/// plotters' `ab_glyph` backend has no system font lookup: without this,
/// any text fails to render. The font bytes are read once and kept for
/// the life of the process, as plotters requires.
pub fn ensure_fonts() -> Result<(), PlotError> {
    static FONTS: OnceLock<Result<(), PlotError>> = OnceLock::new();
    FONTS.get_or_init(register_dejavu).clone()
}

fn register_dejavu() -> Result<(), PlotError> {
    register(FONT_PATH, FontStyle::Normal)?;
    if Path::new(BOLD_FONT_PATH).exists() {
        register(BOLD_FONT_PATH, FontStyle::Bold)?;
    }
    Ok(())
}

fn register(path: &str, style: FontStyle) -> Result<(), PlotError> {
    let fail =
        |reason: String| PlotError::Font { path: path.into(), package: FONT_PACKAGE, reason };
    let bytes = fs::read(path).map_err(|e| fail(e.to_string()))?;
    // plotters keeps a 'static reference: the bytes live as long as the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FONT_FAMILY, style, bytes).map_err(|_| fail("not a valid font file".into()))
}

/// Draws a `size` PNG with `draw` and moves it to `path` atomically: the
/// image is rendered to `.<name>.<pid>.tmp.png` in the same directory (the
/// encoder picks the format from the extension), then renamed over `path`.
/// On any failure the temporary file is removed and `path` is untouched.
pub fn render_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<(), PlotError> {
    ensure_fonts()?;
    let fail = |message: String| PlotError::Draw { path: path.to_path_buf(), message };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let name = path.file_name().ok_or_else(|| fail("not a file path".into()))?;
    let tmp = dir.join(format!(".{}.{}.tmp.png", name.to_string_lossy(), std::process::id()));

    crate::artifacts::track(&tmp, true);
    let result = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
        drop(root);
        fs::rename(&tmp, path).map_err(|e| e.to_string())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    crate::artifacts::track(&tmp, false);
    result.map_err(fail)
}

/// An axis range covering the finite values with `pad` (a fraction of the
/// span) on each side. A single value (or a constant) gets +-`fallback`
/// around it; no finite value gives -fallback..fallback. Never empty, so
/// plotters always gets a usable axis.
pub fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64, fallback: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (-fallback, fallback)
    } else if lo == hi {
        (lo - fallback, hi + fallback)
    } else {
        let margin = (hi - lo) * pad;
        (lo - margin, hi + margin)
    }
}

/// How a key entry is marked.
#[derive(Clone, Copy, Debug)]
pub enum KeyMark {
    /// A filled dot, for point series.
    Dot(RGBColor),
    /// A short thick line, for line series.
    Line(RGBColor),
    /// No mark: a line of plain text.
    Text,
}

/// Writes a key, one entry per line, in an area of its own below a chart,
/// so that it never hides data the way an in-chart legend can.
pub fn draw_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(KeyMark, String)],
) -> Result<(), String> {
    const LEFT: i32 = 70;
    const LINE: i32 = 20;
    for (i, (mark, label)) in entries.iter().enumerate() {
        let y = 6 + LINE * i as i32;
        let (mid, x_text) = (y + 7, LEFT + 24);
        let drawn = match *mark {
            KeyMark::Dot(c) => area.draw(&Circle::new((LEFT + 8, mid), 4, c.filled())),
            KeyMark::Line(c) => {
                area.draw(&PathElement::new([(LEFT, mid), (LEFT + 18, mid)], c.stroke_width(2)))
            }
            KeyMark::Text => Ok(()),
        };
        drawn.map_err(|e| e.to_string())?;
        let x = if matches!(mark, KeyMark::Text) { LEFT } else { x_text };
        area.draw(&Text::new(label.as_str(), (x, y), text(13.0))).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A figure for display: `digits` decimals, "undefined" for NaN, and
/// scientific notation for magnitudes below 10^-digits (tiny p-values).
pub fn fmt_num(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "undefined".to_string()
    } else if v != 0.0 && v.abs() < 10f64.powi(-(digits as i32)) {
        format!("{v:.1e}")
    } else {
        format!("{v:.digits$}")
    }
}

/// Text style of `size` points in the registered family.
pub fn text(size: f64) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&INK)
}

/// Title style: bold when the bold face was found, regular otherwise.
pub fn title(size: f64) -> TextStyle<'static> {
    (FONT_FAMILY, size, FontStyle::Bold).into_font().color(&INK)
}

/// Near-black for text and axes.
pub const INK: RGBColor = RGBColor(34, 34, 34);
/// First data series (observed figures).
pub const PRIMARY: RGBColor = RGBColor(31, 119, 180);
/// Second data series (fitted or calibrated figures).
pub const SECONDARY: RGBColor = RGBColor(214, 39, 40);
/// Reference lines (zero, diagonal).
pub const REFERENCE: RGBColor = RGBColor(150, 150, 150);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_register_once_and_report_the_same_outcome() {
        assert_eq!(ensure_fonts(), Ok(()));
        assert_eq!(ensure_fonts(), Ok(()));
    }

    #[test]
    fn a_missing_font_names_the_path_and_the_package() {
        let err = register("/nonexistent/DejaVuSans.ttf", FontStyle::Normal).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cannot load font /nonexistent/DejaVuSans.ttf: "), "{msg}");
        assert!(
            msg.ends_with(
                "install the Debian package fonts-dejavu-core (apt-get install fonts-dejavu-core)"
            ),
            "{msg}"
        );
    }

    #[test]
    fn padded_range_handles_spread_constant_and_empty_input() {
        assert_eq!(padded_range([1.0, 3.0, f64::NAN], 0.25, 1.0), (0.5, 3.5));
        assert_eq!(padded_range([2.0, 2.0], 0.25, 1.0), (1.0, 3.0));
        assert_eq!(padded_range([f64::NAN, f64::INFINITY], 0.25, 1.0), (-1.0, 1.0));
        assert_eq!(padded_range(std::iter::empty(), 0.1, 5.0), (-5.0, 5.0));
    }

    #[test]
    fn numbers_format_with_fixed_digits_undefined_nan_and_tiny_values_in_e() {
        assert_eq!(fmt_num(0.12345, 4), "0.1235");
        assert_eq!(fmt_num(0.0, 4), "0.0000");
        assert_eq!(fmt_num(3.2e-7, 4), "3.2e-7");
        assert_eq!(fmt_num(f64::NAN, 4), "undefined");
        assert_eq!(fmt_num(-0.5, 2), "-0.50");
    }

    #[test]
    fn a_failed_draw_leaves_no_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        let err = render_png(&path, (50, 50), |_| Err("boom".to_string())).unwrap_err();
        assert_eq!(err, PlotError::Draw { path: path.clone(), message: "boom".into() });
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_png_being_drawn_is_registered_for_removal_on_ctrl_c() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.png");
        let mine = |p: &PathBuf| {
            p.parent() == Some(dir.path()) && p.to_string_lossy().ends_with(".tmp.png")
        };
        render_png(&path, (40, 40), |_| {
            assert_eq!(crate::artifacts::in_flight().iter().filter(|p| mine(p)).count(), 1);
            Ok(())
        })
        .unwrap();
        assert!(!crate::artifacts::in_flight().iter().any(mine), "forgotten once renamed");
    }

    #[test]
    fn a_drawn_png_replaces_the_old_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        fs::write(&path, b"old").unwrap();
        render_png(&path, (60, 40), |area| {
            area.draw(&Text::new("ok", (5, 5), text(12.0))).map_err(|e| e.to_string())
        })
        .unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
