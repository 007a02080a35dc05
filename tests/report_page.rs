//! Loads a rendered report in headless Chromium (Debian's `chromium`
//! package) and checks what a reader would see: every embedded PNG decodes,
//! every inline SVG has a size, and no script error is thrown.
//!
//! The page's own check script writes its verdict to `data-images-ok` and
//! its counts to `data-images`, `data-imgs` and `data-svgs` on `<body>`;
//! Chromium's `--dump-dom` prints the DOM after the script ran. Without
//! /usr/bin/chromium the tests print a skip line and pass.

use divtune::report::{
    self, BucketHorizon, BucketInputs, BucketKey, CalibrationInputs, ChosenInputs, FileQuality,
    GateInputs, GateRule, GridCell, GridInputs, Header, HorizonFigures, Period, QualityInputs,
    ReportInputs, Timeline, TimelineEvent, UnitGaps,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const TIMEOUT: Duration = Duration::from_secs(60);

/// A valid 1x1 grey PNG (IHDR, one IDAT, IEND, with correct CRCs).
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x68, 0x00, 0x00, 0x00,
    0x82, 0x00, 0x81, 0xda, 0x45, 0x08, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

const HORIZONS: [usize; 2] = [10, 20];

/// The 2 x 2 x 2 grid over swing_l, z_hi and z_mid, both periods and
/// horizons, global bucket plus one session bucket. Point 5 has no
/// labelled test event at horizon 20, so one heat-map cell reads n=0.
fn grid() -> GridInputs {
    let names = ["swing_l", "z_hi", "z_mid"];
    let mut cells = Vec::new();
    for point in 0..8usize {
        let values = [[8.0, 13.0][point & 1], [1.5, 2.0][point >> 1 & 1], [0.5, 1.0][point >> 2]];
        let params: BTreeMap<String, f64> =
            names.iter().map(|n| n.to_string()).zip(values).collect();
        for period in [Period::Train, Period::Test] {
            for horizon in HORIZONS {
                for session in ["all", "day"] {
                    let labelled = if point == 5 && period == Period::Test && horizon == 20 {
                        0
                    } else {
                        40 + 3 * point as u64
                    };
                    let hits = labelled / 2 + point as u64 % 3;
                    cells.push(GridCell {
                        point,
                        params: params.clone(),
                        period,
                        fold: 0,
                        bucket: BucketKey { session: session.into(), ..BucketKey::global() },
                        horizon,
                        events: labelled + 2,
                        labelled,
                        hits,
                        accuracy: hits as f64 / labelled as f64,
                        ..Default::default()
                    });
                }
            }
        }
    }
    GridInputs { parameters: names.iter().map(|n| n.to_string()).collect(), cells }
}

fn figures(horizon: usize, accuracy: f64) -> HorizonFigures {
    HorizonFigures {
        horizon,
        accuracy,
        wilson_lo: accuracy - 0.06,
        wilson_hi: accuracy + 0.06,
        base_rate: 0.5,
        labelled: 240,
        p_value: 0.01,
        p_corrected: 0.03,
        events_per_hour: 22.5,
        median_score: 61.0,
    }
}

fn bucket(label: &str, fallback: Option<&str>, accuracy: f64) -> BucketInputs {
    let test = HORIZONS
        .iter()
        .map(|&horizon| BucketHorizon {
            horizon,
            accuracy,
            wilson_lo: accuracy - 0.08,
            wilson_hi: accuracy + 0.08,
            base_rate: 0.49,
            labelled: 120,
            events: 130,
        })
        .collect();
    BucketInputs {
        label: label.into(),
        point: fallback.is_none().then_some(3),
        fallback: fallback.map(str::to_string),
        test,
    }
}

fn timeline(symbol: &str, start_ns: i64) -> Timeline {
    let minute = 60_000_000_000i64;
    let ts_ns: Vec<i64> = (0..120).map(|i| start_ns + i * minute).collect();
    let price: Vec<f64> = (0..120).map(|i| 100.0 + (i as f64 / 9.0).sin() * 2.0).collect();
    let kinds = ["regular_bull", "regular_bear", "hidden_bull", "hidden_bear", "conflict"];
    let events = (0..5)
        .map(|k| TimelineEvent {
            ts_ns: ts_ns[10 + 20 * k],
            price: price[10 + 20 * k],
            kind: kinds[k].into(),
            score: 50.0 + k as f64,
        })
        .collect();
    Timeline { symbol: symbol.into(), ts_ns, price, events }
}

/// A report with 2 calibration PNGs and 18 inline SVGs: 12 heat maps
/// (3 pairs x 2 horizons x 2 periods) and their colour key, 2 bucket
/// charts, 2 timelines and their marker key.
fn inputs(png_paths: &[PathBuf]) -> ReportInputs {
    let chosen_params = BTreeMap::from([
        ("swing_l".to_string(), 13.0),
        ("z_hi".to_string(), 2.0),
        ("z_mid".to_string(), 0.5),
        ("cooldown".to_string(), 5.0),
    ]);
    ReportInputs {
        header: Header {
            run_id: "20240105T020000Z".into(),
            data_start: "2024-01-02T00:00:00.000Z".into(),
            data_end: "2024-01-04T23:59:00.000Z".into(),
            symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
            input_rows: 1_234_567,
            bars: 8_640,
            events: 312,
            grid_points: 8,
            horizons: HORIZONS.to_vec(),
            elapsed_s: 754.2,
            created_at: "2024-01-05T02:12:34.000Z".into(),
        },
        gate: GateInputs {
            passed: false,
            rules: vec![
                GateRule {
                    name: "acc@10".into(),
                    value: 0.571,
                    threshold: ">= 0.55".into(),
                    passed: true,
                    detail: "test accuracy over 240 labelled events".into(),
                },
                GateRule {
                    name: "acc@20".into(),
                    value: 0.531,
                    threshold: ">= 0.55".into(),
                    passed: false,
                    detail: "test accuracy over 240 labelled events".into(),
                },
            ],
        },
        grid: grid(),
        chosen: ChosenInputs {
            point: Some(3),
            params: chosen_params,
            train: HORIZONS.iter().map(|&h| figures(h, 0.6)).collect(),
            test: HORIZONS.iter().map(|&h| figures(h, 0.55)).collect(),
        },
        buckets: vec![
            bucket("session=day,liquidity=active,source=FUSION", None, 0.58),
            bucket("session=night,liquidity=quiet,source=CVD", Some("too few events"), 0.52),
        ],
        calibration: png_paths
            .iter()
            .zip(HORIZONS)
            .map(|(path, horizon)| CalibrationInputs {
                horizon,
                png_path: path.clone(),
                verdict: "monotone".into(),
                rho: 0.21,
                p: 0.004,
            })
            .collect(),
        timelines: vec![
            timeline("BTCUSDT", 1_704_240_000_000_000_000),
            timeline("ETHUSDT", 1_704_326_400_000_000_000),
        ],
        quality: QualityInputs {
            files: vec![FileQuality {
                file: "trades/BTCUSDT/2024-01-02.parquet".into(),
                role: "trades".into(),
                rows_read: 1000,
                rows_kept: 990,
                dropped: vec![("duplicate".into(), 10)],
            }],
            units: vec![UnitGaps {
                symbol: "BTCUSDT".into(),
                channels: "ofi+cvd+fusion".into(),
                segments: 3,
                gap_splits: 2,
            }],
        },
    }
}

/// What Chromium printed for one page.
struct Dump {
    dom: String,
    stderr: String,
}

/// Loads `page` in headless Chromium and returns the DOM after the load
/// event, or None when Chromium is not installed. Console messages go to
/// stderr (`--enable-logging=stderr`) so that script errors show there.
fn load_in_chromium(page: &Path) -> Option<Dump> {
    if !Path::new(CHROMIUM).exists() {
        // Past the test harness's capture, so that the skip shows in CI logs.
        use std::io::Write;
        let _ =
            writeln!(std::io::stderr(), "skipped: chromium not found (apt-get install chromium)");
        return None;
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let profile = scratch.path().join("profile");
    let (out_path, err_path) = (scratch.path().join("dom.html"), scratch.path().join("stderr"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start chromium");

    // Wait, but never past the timeout: a hung browser must not hang CI.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll chromium") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dump = Dump {
        dom: std::fs::read_to_string(&out_path).expect("read dom"),
        stderr: std::fs::read_to_string(&err_path).expect("read stderr"),
    };
    assert!(status.success(), "chromium failed with {status}: {}", dump.stderr);
    Some(dump)
}

/// The value of a `data-*` attribute on `<body>` in a DOM dump.
fn body_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!("{name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

fn write_pngs(dir: &Path, bytes: &[u8]) -> Vec<PathBuf> {
    HORIZONS
        .iter()
        .map(|h| {
            let path = dir.join(format!("score_monotonicity_{h}.png"));
            std::fs::write(&path, bytes).expect("write png");
            path
        })
        .collect()
}

#[test]
fn every_image_and_chart_of_the_report_loads_in_chromium() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pngs = write_pngs(dir.path(), PNG_1X1);
    let page = report::render(&inputs(&pngs), &dir.path().join("report")).expect("render");
    let Some(dump) = load_in_chromium(&page) else { return };

    assert_eq!(body_attr(&dump.dom, "data-images-ok").as_deref(), Some("true"), "{}", dump.stderr);
    assert_eq!(body_attr(&dump.dom, "data-imgs").as_deref(), Some("2"));
    assert_eq!(body_attr(&dump.dom, "data-svgs").as_deref(), Some("18"));
    assert_eq!(body_attr(&dump.dom, "data-images").as_deref(), Some("20"));
    assert_eq!(body_attr(&dump.dom, "data-images-bad").as_deref(), Some("0"));
    assert!(!dump.stderr.contains("Uncaught"), "script error: {}", dump.stderr);
    assert!(dump.dom.contains("1 of 2 rules failed: acc@20."));
}

#[test]
fn the_image_check_fails_for_a_png_the_browser_cannot_decode() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The PNG signature (so render accepts it) followed by garbage.
    let mut broken = PNG_1X1[..8].to_vec();
    broken.extend_from_slice(b"not an image at all");
    let pngs = write_pngs(dir.path(), &broken);
    let page = report::render(&inputs(&pngs), &dir.path().join("report")).expect("render");
    let Some(dump) = load_in_chromium(&page) else { return };

    assert_eq!(body_attr(&dump.dom, "data-images-ok").as_deref(), Some("false"));
    assert_eq!(body_attr(&dump.dom, "data-images-bad").as_deref(), Some("2"));
    assert!(!dump.stderr.contains("Uncaught"), "script error: {}", dump.stderr);
}

#[test]
fn the_nightly_report_of_the_shipped_sample_loads_in_chromium() {
    let work = tempfile::tempdir().expect("temp dir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reports = work.path().join("reports");
    let out = Command::new(env!("CARGO_BIN_EXE_divtune"))
        .args(["-q", "nightly", "--data"])
        .arg(repo.join("data"))
        .arg("--out")
        .arg(work.path().join("runs"))
        .arg("--reports")
        .arg(&reports)
        .current_dir(repo)
        .output()
        .expect("run nightly");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let run_dir = std::fs::read_dir(&reports).unwrap().next().unwrap().unwrap().path();
    let Some(dump) = load_in_chromium(&run_dir.join("index.html")) else { return };
    assert_eq!(body_attr(&dump.dom, "data-images-ok").as_deref(), Some("true"), "{}", dump.stderr);
    assert_eq!(body_attr(&dump.dom, "data-imgs").as_deref(), Some("2"), "both calibration plots");
    assert!(!dump.stderr.contains("Uncaught"), "{}", dump.stderr);
}
