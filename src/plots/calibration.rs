//! `score_monotonicity_{H}.png`: does a higher score mean a better outcome
//! at horizon H, and are the hit probabilities calibrated?
//!
//! Drawn from a [`CalibrationReport`] only. Left panel: mean forward return
//! per score bin (bps) with its bootstrap interval, and the isotonic return
//! map (clamped flat outside the fitted scores), with Spearman rho, p and n
//! written on it. Right panel: reliability diagram, mean forecast against
//! observed hit rate per equal-width probability bin, for the raw score /
//! 100 and the cross-fitted isotonic probability, with the diagonal. Each
//! panel's key and figures sit in a strip below it, never over the data.
//! The report holds no per-event data, so there is no event scatter: the
//! bins and their intervals carry the spread.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

use super::{draw_key, fmt_num, padded_range, render_png, text, title, KeyMark, PlotError};
use super::{INK, PRIMARY, REFERENCE, SECONDARY};
use crate::calibrate::{CalibrationReport, HorizonCalibration};
use crate::stats::CalibrationBin;

/// Image size in pixels.
pub const SIZE: (u32, u32) = (1200, 500);
/// Returns are plotted in basis points.
const BPS: f64 = 1e4;

/// `score_monotonicity_{horizon}.png`.
pub fn file_name(horizon: usize) -> String {
    format!("score_monotonicity_{horizon}.png")
}

/// Draws the figure of `horizon` to `path` (atomically).
pub fn draw(report: &CalibrationReport, horizon: usize, path: &Path) -> Result<(), PlotError> {
    let h = report.horizon(horizon).ok_or_else(|| PlotError::UnknownHorizon {
        horizon,
        available: report.horizons.iter().map(|h| h.horizon).collect(),
    })?;
    render_png(path, SIZE, |root| {
        let heading = format!(
            "Score monotonicity, horizon {horizon} bars: {} (run {})",
            verdict_word(h),
            report.meta.run_id
        );
        let body = root.titled(&heading, title(20.0)).map_err(|e| e.to_string())?;
        let (left, right) = body.split_horizontally(SIZE.0 / 2);
        draw_returns(&left, h)?;
        draw_reliability(&right, h)
    })
}

/// Draws every horizon of `report` into `dir` as [`file_name`]; returns the paths.
pub fn draw_all(report: &CalibrationReport, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let mut paths = Vec::with_capacity(report.horizons.len());
    for h in &report.horizons {
        let path = dir.join(file_name(h.horizon));
        draw(report, h.horizon, &path)?;
        paths.push(path);
    }
    Ok(paths)
}

fn verdict_word(h: &HorizonCalibration) -> &'static str {
    match h.verdict {
        crate::calibrate::Verdict::Monotone => "monotone",
        crate::calibrate::Verdict::NotMonotone => "not monotone",
        crate::calibrate::Verdict::Insufficient => "insufficient events",
    }
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Height of the key under each panel, in pixels (three 20-pixel lines).
const KEY_HEIGHT: u32 = 68;

/// Left panel: bin means with intervals, and the isotonic return map.
fn draw_returns(area: &Area, h: &HorizonCalibration) -> Result<(), String> {
    let (plot, key) = area.split_vertically(area.dim_in_pixel().1 - KEY_HEIGHT);
    let bins: Vec<(f64, f64, f64, f64)> = h
        .bins
        .iter()
        .filter(|b| b.n > 0 && b.score_mean.is_finite() && b.mean_return.mean.is_finite())
        .map(|b| {
            let ci = &b.mean_return;
            (b.score_mean, ci.mean * BPS, ci.lo * BPS, ci.hi * BPS)
        })
        .collect();
    let map = return_line(h);
    let all_y = bins.iter().flat_map(|b| [b.1, b.2, b.3]).chain(map.iter().map(|p| p.1));
    let y_range = padded_range(all_y.chain([0.0]), 0.08, 1.0);

    // Axes, zero line, intervals, bin means, isotonic map.
    let mut chart = axes(&plot, "Mean forward return by score bin", (0.0, 100.0), y_range)?;
    mesh(&mut chart, "score", 0, "side-adjusted forward return (bps)")?;
    let zero = LineSeries::new([(0.0, 0.0), (100.0, 0.0)], REFERENCE.stroke_width(1));
    chart.draw_series(zero).map_err(|e| e.to_string())?;
    let whiskers = bins.iter().map(|&(x, _, lo, hi)| PathElement::new([(x, lo), (x, hi)], PRIMARY));
    chart.draw_series(whiskers).map_err(|e| e.to_string())?;
    let dots = bins.iter().map(|&(x, m, _, _)| Circle::new((x, m), 4, PRIMARY.filled()));
    chart.draw_series(dots).map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(map, SECONDARY.stroke_width(2)))
        .map_err(|e| e.to_string())?;

    // Key and the figures behind the verdict.
    let s = &h.spearman_return;
    let level = h.bins.first().map_or(f64::NAN, |b| b.mean_return.level);
    let entries = [
        (
            KeyMark::Dot(PRIMARY),
            format!("bin mean, {:.0}% block-bootstrap interval", level * 100.0),
        ),
        (KeyMark::Line(SECONDARY), "isotonic map score -> expected return".to_string()),
        (
            KeyMark::Text,
            format!(
                "Spearman rho(score, return) = {}, one-sided p = {}, n = {}",
                fmt_num(s.rho, 3),
                fmt_num(s.p_greater, 4),
                s.n
            ),
        ),
    ];
    draw_key(&key, &entries)
}

/// The isotonic return map over 0-100 in bps: flat before the first knot
/// and after the last, as `interpolate` clamps.
fn return_line(h: &HorizonCalibration) -> Vec<(f64, f64)> {
    let (Some(first), Some(last)) = (h.return_map.first(), h.return_map.last()) else {
        return Vec::new();
    };
    let knots = h.return_map.iter().map(|b| (b.x, b.y * BPS));
    std::iter::once((0.0, first.y * BPS)).chain(knots).chain([(100.0, last.y * BPS)]).collect()
}

/// Right panel: reliability diagram of the raw and cross-fitted forecasts.
fn draw_reliability(area: &Area, h: &HorizonCalibration) -> Result<(), String> {
    let (plot, key) = area.split_vertically(area.dim_in_pixel().1 - KEY_HEIGHT);
    let title = "Reliability of the hit probability";
    let mut chart = axes(&plot, title, (0.0, 1.0), (0.0, 1.0))?;
    mesh(&mut chart, "mean forecast probability", 1, "observed hit rate")?;
    let diagonal = LineSeries::new([(0.0, 0.0), (1.0, 1.0)], REFERENCE.stroke_width(1));
    chart.draw_series(diagonal).map_err(|e| e.to_string())?;
    let p = &h.probability;
    reliability_series(&mut chart, &p.raw.reliability, PRIMARY)?;
    reliability_series(&mut chart, &p.isotonic_cross_fit.reliability, SECONDARY)?;

    let scored = |name: &str, f: &crate::calibrate::ForecastScore| {
        format!("{name}: Brier {}, ECE {}", fmt_num(f.brier, 4), fmt_num(f.ece, 4))
    };
    let entries = [
        (KeyMark::Dot(PRIMARY), scored("raw score / 100", &p.raw)),
        (KeyMark::Dot(SECONDARY), scored("isotonic, cross-fitted", &p.isotonic_cross_fit)),
        (
            KeyMark::Text,
            format!(
                "base rate {}, its Brier {}, n = {}",
                fmt_num(p.base_rate, 3),
                fmt_num(p.brier_base_rate, 4),
                h.n_used
            ),
        ),
    ];
    draw_key(&key, &entries)
}

/// A captioned cartesian chart over the given ranges.
fn axes<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
) -> Result<Chart<'a, 'b>, String> {
    ChartBuilder::on(area)
        .caption(caption, text(16.0))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .map_err(|e| e.to_string())
}

/// Grid, tick labels (x with `x_digits` decimals) and axis titles.
fn mesh(chart: &mut Chart, x_desc: &str, x_digits: usize, y_desc: &str) -> Result<(), String> {
    let x_label = |x: &f64| format!("{x:.x_digits$}");
    chart
        .configure_mesh()
        .x_label_formatter(&x_label)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(text(12.0))
        .axis_desc_style(text(13.0))
        .axis_style(INK)
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| e.to_string())
}

/// Points (one per non-empty probability bin) joined by a thin line.
fn reliability_series(
    chart: &mut Chart,
    bins: &[CalibrationBin],
    colour: RGBColor,
) -> Result<(), String> {
    let points: Vec<(f64, f64)> = bins
        .iter()
        .filter(|b| b.n > 0 && b.mean_p.is_finite() && b.mean_y.is_finite())
        .map(|b| (b.mean_p, b.mean_y))
        .collect();
    let line = LineSeries::new(points.clone(), colour.stroke_width(1));
    chart.draw_series(line).map_err(|e| e.to_string())?;
    let dots = points.iter().map(|&p| Circle::new(p, 4, colour.filled()));
    chart.draw_series(dots).map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::HorizonOutcome;
    use crate::calibrate::{calibrate, CalibrationConfig, CalibrationEvent, CalibrationMeta};

    fn report(n: usize) -> CalibrationReport {
        // Score i % 101 with a return rising in the score plus a zig-zag.
        let events: Vec<CalibrationEvent> = (0..n)
            .map(|i| {
                let score = ((i * 37) % 101) as f64;
                let ret = (score - 45.0) * 2e-5 + if i % 3 == 0 { 8e-4 } else { -4e-4 };
                let o = |h| HorizonOutcome { horizon: h, ret: Some(ret), hit: Some(ret > 0.0) };
                CalibrationEvent { series: 0, bar: i as u32, score, horizons: vec![o(10), o(20)] }
            })
            .collect();
        let meta = CalibrationMeta {
            run_id: "plot-test".into(),
            created_at: "2024-08-05T00:00:00Z".into(),
            source_period: "test".into(),
            data_start: "a".into(),
            data_end: "b".into(),
            params: serde_json::json!({}),
            n_events_total: n,
        };
        let config = CalibrationConfig { bootstrap_resamples: 100, ..Default::default() };
        calibrate(&events, &[10, 20], &config, meta).unwrap().calibration_report()
    }

    #[test]
    fn draw_writes_a_non_empty_png_from_a_reloaded_report() {
        let dir = tempfile::tempdir().unwrap();
        // Through JSON, as `divtune report` would read it.
        let text = serde_json::to_string(&report(400)).unwrap();
        let reloaded: CalibrationReport = serde_json::from_str(&text).unwrap();
        let path = dir.path().join(file_name(10));
        draw(&reloaded, 10, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 10_000, "{} bytes", bytes.len());
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left");
    }

    #[test]
    fn draw_all_names_one_file_per_horizon() {
        let dir = tempfile::tempdir().unwrap();
        let paths = draw_all(&report(60), dir.path()).unwrap();
        let names: Vec<String> =
            paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["score_monotonicity_10.png", "score_monotonicity_20.png"]);
        assert!(paths.iter().all(|p| std::fs::metadata(p).unwrap().len() > 0));
    }

    #[test]
    fn a_report_without_events_still_draws() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        draw(&report(0), 20, &path).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
    }

    #[test]
    fn an_unknown_horizon_is_an_error_listing_the_known_ones() {
        let err = draw(&report(10), 30, Path::new("unused.png")).unwrap_err();
        assert_eq!(err, PlotError::UnknownHorizon { horizon: 30, available: vec![10, 20] });
    }
}
