//! The one-page HTML report a researcher reads the morning after a run.
//!
//! [`render`] turns [`ReportInputs`] (filled by the caller from a run
//! directory's saved artifacts; nothing here replays data) into one
//! self-contained `index.html`: CSS inline, the calibration PNGs embedded
//! as base64 `data:` URIs, every other chart inline SVG drawn here. The
//! page has seven sections: header with a PASS/FAIL banner, the gate's
//! rules with the chosen point's figures, accuracy heat maps over the
//! grid, per-bucket test accuracy, calibration plots, event timelines and
//! data quality. docs/report.md says how to read each one.
//!
//! Output is deterministic: the same inputs give byte-identical HTML
//! (fixed float precision, input order kept, no clock read). A small
//! script checks on load that every image decoded and every chart has a
//! size, and records the outcome in `data-images-ok` on `<body>`.
//!
//! Files: [`inputs`] (the input structs), `load` (reading them from a run
//! directory), `sections` (HTML sections),
//! `heatmap` (grid pooling and heat maps), `charts` (bucket and timeline
//! charts), `svg` (SVG writer), `html` (escaping, formats, page shell),
//! `base64` (the PNG encoder).

mod base64;
mod charts;
mod heatmap;
mod html;
pub mod inputs;
mod load;
mod sections;
mod svg;

pub use html::escape;
pub use inputs::*;
pub use load::load_inputs;
pub use sections::failed_rules_sentence;

use crate::artifacts::{self, WriteError};
use std::path::{Path, PathBuf};

/// Why a report could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read calibration plot {path}: {source}; re-run the calibration stage")]
    ReadImage { path: PathBuf, source: std::io::Error },
    #[error("calibration plot {path} is not a PNG file (no PNG signature in its first 8 bytes)")]
    NotPng { path: PathBuf },
    #[error(
        "timeline of `{symbol}` has {timestamps} timestamps but {prices} prices; \
         they must pair up one to one"
    )]
    TimelineLengths { symbol: String, timestamps: usize, prices: usize },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The file name [`render`] writes inside its output directory.
pub const INDEX_FILE: &str = "index.html";

/// Draws the report and writes `out_dir/index.html` atomically (creating
/// `out_dir`); returns the file's path.
pub fn render(inputs: &ReportInputs, out_dir: &Path) -> Result<PathBuf, ReportError> {
    let page = render_html(inputs)?;
    let path = out_dir.join(INDEX_FILE);
    artifacts::write_bytes(&path, page.as_bytes())?;
    Ok(path)
}

/// The report as an HTML string, without touching the output directory.
/// Reads only the calibration PNGs named in `inputs`.
pub fn render_html(inputs: &ReportInputs) -> Result<String, ReportError> {
    check_timelines(&inputs.timelines)?;
    let images = inputs
        .calibration
        .iter()
        .map(|c| Ok((c, png_data_uri(&c.png_path)?)))
        .collect::<Result<Vec<_>, ReportError>>()?;

    let mut body = sections::header(&inputs.header, &inputs.gate);
    body.push_str(&sections::gate(&inputs.gate, &inputs.chosen, &inputs.grid.parameters));
    body.push_str(&heatmap::section(&inputs.grid, &inputs.chosen.params));
    body.push_str(&sections::buckets(&inputs.buckets, &inputs.chosen));
    body.push_str(&sections::calibration(&images));
    body.push_str(&sections::timelines(&inputs.timelines));
    body.push_str(&sections::quality(&inputs.quality));
    let verdict = if inputs.gate.passed { "PASS" } else { "FAIL" };
    Ok(html::page(&format!("divtune {} — {verdict}", inputs.header.run_id), &body))
}

fn check_timelines(timelines: &[Timeline]) -> Result<(), ReportError> {
    match timelines.iter().find(|t| t.ts_ns.len() != t.price.len()) {
        Some(t) => Err(ReportError::TimelineLengths {
            symbol: t.symbol.clone(),
            timestamps: t.ts_ns.len(),
            prices: t.price.len(),
        }),
        None => Ok(()),
    }
}

/// The first eight bytes of every PNG file (PNG specification, 5.2).
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// Reads a PNG file into a `data:image/png;base64,` URI.
fn png_data_uri(path: &Path) -> Result<String, ReportError> {
    let bytes = std::fs::read(path)
        .map_err(|source| ReportError::ReadImage { path: path.to_path_buf(), source })?;
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(ReportError::NotPng { path: path.to_path_buf() });
    }
    Ok(format!("data:image/png;base64,{}", base64::encode(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A valid 1x1 grey PNG.
    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a,
        0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x68,
        0x00, 0x00, 0x00, 0x82, 0x00, 0x81, 0xda, 0x45, 0x08, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    fn cell(point: usize, a: f64, period: Period, hits: u64, n: u64) -> GridCell {
        GridCell {
            point,
            params: BTreeMap::from([("a".to_string(), a), ("b".to_string(), 2.0)]),
            period,
            horizon: 10,
            hits,
            labelled: n,
            accuracy: hits as f64 / n as f64,
            ..Default::default()
        }
    }

    fn inputs(png: &Path) -> ReportInputs {
        ReportInputs {
            header: Header { run_id: "r<1>".into(), horizons: vec![10], ..Default::default() },
            gate: GateInputs {
                passed: false,
                rules: vec![GateRule { name: "acc@10".into(), value: 0.51, ..Default::default() }],
            },
            grid: GridInputs {
                parameters: vec!["a".into(), "b".into()],
                cells: vec![cell(0, 1.0, Period::Train, 3, 5), cell(0, 1.0, Period::Test, 1, 4)],
            },
            calibration: vec![CalibrationInputs {
                horizon: 10,
                png_path: png.to_path_buf(),
                verdict: "monotone & rising".into(),
                rho: 0.2,
                p: 0.01,
            }],
            timelines: vec![Timeline {
                symbol: "BTC".into(),
                ts_ns: vec![0, 60_000_000_000],
                price: vec![100.0, 101.0],
                events: vec![TimelineEvent {
                    ts_ns: 60_000_000_000,
                    price: 101.0,
                    kind: "regular_bear".into(),
                    score: 70.0,
                }],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_same_inputs_give_byte_identical_pages() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("p.png");
        std::fs::write(&png, PNG_1X1).unwrap();
        let a = render(&inputs(&png), &dir.path().join("a")).unwrap();
        let b = render(&inputs(&png), &dir.path().join("b")).unwrap();
        assert_eq!(a, dir.path().join("a").join("index.html"));
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }

    #[test]
    fn the_page_is_self_contained_and_embeds_the_png() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("p.png");
        std::fs::write(&png, PNG_1X1).unwrap();
        let html = render_html(&inputs(&png)).unwrap();
        let uri = format!("src=\"data:image/png;base64,{}\"", base64::encode(PNG_1X1));
        assert!(html.contains(&uri));
        for external in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
            assert!(!html.contains(external), "found {external}");
        }
        assert!(html.contains("<title>divtune r&lt;1&gt; — FAIL</title>"));
        assert!(html.contains("monotone &amp; rising"));
    }

    #[test]
    fn every_section_appears_in_page_order() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("p.png");
        std::fs::write(&png, PNG_1X1).unwrap();
        let html = render_html(&inputs(&png)).unwrap();
        let ids = ["gate", "heatmaps", "buckets", "calibration", "timelines", "quality"];
        let positions: Vec<usize> =
            ids.iter().map(|id| html.find(&format!("<section id=\"{id}\">")).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        assert!(html.find("banner fail").unwrap() < positions[0]);
    }

    #[test]
    fn a_missing_png_is_an_error_naming_the_file() {
        let err = render_html(&inputs(Path::new("/nonexistent/score_monotonicity_10.png")));
        let message = err.unwrap_err().to_string();
        assert!(message.contains("/nonexistent/score_monotonicity_10.png"), "{message}");
    }

    #[test]
    fn a_file_that_is_not_a_png_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake.png");
        std::fs::write(&fake, b"<svg></svg>").unwrap();
        assert!(matches!(render_html(&inputs(&fake)), Err(ReportError::NotPng { .. })));
    }

    #[test]
    fn timelines_with_unpaired_prices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("p.png");
        std::fs::write(&png, PNG_1X1).unwrap();
        let mut bad = inputs(&png);
        bad.timelines[0].price.pop();
        let message = render_html(&bad).unwrap_err().to_string();
        assert!(message.contains("`BTC` has 2 timestamps but 1 prices"), "{message}");
    }
}
