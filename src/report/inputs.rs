//! What the report is drawn from: plain structs that the caller fills from a
//! run directory's saved artifacts (tuning_report.json, summary.csv,
//! best_global.yaml, best_by_bucket.yaml, gate.json, the calibration PNGs,
//! a sample of events.csv and the data-quality record).
//!
//! [`ReportInputs`] holds one struct per section of the page. Nothing here
//! reads files or replays data; missing figures are NaN (shown as `—`), and
//! every list is drawn in the order given, so the caller fixes the order.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything one report page shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportInputs {
    pub header: Header,
    pub gate: GateInputs,
    pub grid: GridInputs,
    pub chosen: ChosenInputs,
    /// Per-bucket choices, in the order the table lists them.
    pub buckets: Vec<BucketInputs>,
    /// One calibration plot per horizon.
    pub calibration: Vec<CalibrationInputs>,
    /// One sample window per symbol.
    pub timelines: Vec<Timeline>,
    pub quality: QualityInputs,
}

/// The run's identity and size.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    pub run_id: String,
    /// First and last timestamp of the data, as written in the artifacts.
    pub data_start: String,
    pub data_end: String,
    pub symbols: Vec<String>,
    /// Tick rows read from the input files (before validation).
    pub input_rows: u64,
    pub bars: u64,
    /// Events of the chosen (deployed) global parameters.
    pub events: u64,
    /// Grid points tried.
    pub grid_points: usize,
    /// Forward-return horizons, in bars.
    pub horizons: Vec<usize>,
    pub elapsed_s: f64,
    /// When the run was made, as written in the artifacts.
    pub created_at: String,
}

/// The acceptance gate's verdict (gate.json).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GateInputs {
    pub passed: bool,
    pub rules: Vec<GateRule>,
}

/// One rule of the gate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GateRule {
    pub name: String,
    pub value: f64,
    /// As the gate wrote it, e.g. `>= 0.55`.
    pub threshold: String,
    pub passed: bool,
    pub detail: String,
}

/// Which side of a fold a cell measures.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    #[default]
    Train,
    Test,
}

impl Period {
    /// `train` or `test`, as summary.csv spells it.
    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "train" => Some(Period::Train),
            "test" => Some(Period::Test),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Train => "train",
            Period::Test => "test",
        }
    }
}

/// A cell's bucket; each dimension is a value or `all` (rolled up).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketKey {
    pub session: String,
    pub liquidity: String,
    pub source: String,
}

impl BucketKey {
    /// The rolled-up bucket: every dimension `all`.
    pub fn global() -> BucketKey {
        BucketKey { session: "all".into(), liquidity: "all".into(), source: "all".into() }
    }

    pub fn is_global(&self) -> bool {
        self.session == "all" && self.liquidity == "all" && self.source == "all"
    }
}

impl Default for BucketKey {
    fn default() -> Self {
        BucketKey::global()
    }
}

/// The whole grid search (summary.csv).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridInputs {
    /// The gridded parameters, in config order (e.g. swing_l, z_hi, z_mid).
    pub parameters: Vec<String>,
    pub cells: Vec<GridCell>,
}

/// One row of summary.csv: one point x fold x period x bucket x horizon.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridCell {
    pub point: usize,
    /// At least the gridded parameters' values.
    pub params: BTreeMap<String, f64>,
    pub period: Period,
    pub fold: usize,
    pub bucket: BucketKey,
    pub horizon: usize,
    pub events: u64,
    pub labelled: u64,
    pub hits: u64,
    pub accuracy: f64,
    pub wilson_lo: f64,
    pub wilson_hi: f64,
    pub base_rate: f64,
    pub p_value: f64,
    pub events_per_hour: f64,
    pub median_score: f64,
}

/// The deployed global point (best_global.yaml).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChosenInputs {
    /// Grid point id, or None when no point was chosen.
    pub point: Option<usize>,
    /// Every detector parameter of the deployed set.
    pub params: BTreeMap<String, f64>,
    /// Training figures of the last fold, per horizon.
    pub train: Vec<HorizonFigures>,
    /// Test figures pooled over folds, per horizon.
    pub test: Vec<HorizonFigures>,
}

/// One horizon's figures of the chosen point.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HorizonFigures {
    pub horizon: usize,
    pub accuracy: f64,
    pub wilson_lo: f64,
    pub wilson_hi: f64,
    pub base_rate: f64,
    /// Labelled events.
    pub labelled: u64,
    pub p_value: f64,
    /// Training: Sidak for the grid size; test: Holm over the run.
    pub p_corrected: f64,
    pub events_per_hour: f64,
    pub median_score: f64,
}

/// One bucket's choice (best_by_bucket.yaml).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BucketInputs {
    /// E.g. `session=day,liquidity=active,source=FUSION`.
    pub label: String,
    /// The bucket's own grid point, None when it uses the global one.
    pub point: Option<usize>,
    /// Why the bucket falls back to the global parameters.
    pub fallback: Option<String>,
    /// Test figures per horizon.
    pub test: Vec<BucketHorizon>,
}

/// One bucket's test figures at one horizon.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BucketHorizon {
    pub horizon: usize,
    pub accuracy: f64,
    pub wilson_lo: f64,
    pub wilson_hi: f64,
    /// The bucket's base rate; NaN when unknown (no tick is drawn).
    pub base_rate: f64,
    pub labelled: u64,
    pub events: u64,
}

/// One horizon's calibration plot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CalibrationInputs {
    pub horizon: usize,
    /// score_monotonicity_H.png as written by the calibration stage.
    pub png_path: PathBuf,
    pub verdict: String,
    /// Spearman rho of score against forward return, and its p-value.
    pub rho: f64,
    pub p: f64,
}

/// A sample window of one symbol: its price and the events in it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub symbol: String,
    /// Bar close times, ascending; the same length as `price`.
    pub ts_ns: Vec<i64>,
    pub price: Vec<f64>,
    pub events: Vec<TimelineEvent>,
}

/// One event on a timeline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineEvent {
    pub ts_ns: i64,
    pub price: f64,
    /// regular_bull, regular_bear, hidden_bull, hidden_bear or conflict;
    /// any other name is drawn grey under its own legend entry.
    pub kind: String,
    pub score: f64,
}

/// What loading did to the input files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QualityInputs {
    pub files: Vec<FileQuality>,
    pub units: Vec<UnitGaps>,
}

/// One input file's row counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileQuality {
    pub file: String,
    /// trades, quotes or features.
    pub role: String,
    pub rows_read: u64,
    pub rows_kept: u64,
    /// (reason, rows) in the loader's order.
    pub dropped: Vec<(String, u64)>,
}

/// How one unit (symbol and source) was split into segments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitGaps {
    pub symbol: String,
    /// The order-flow channels the unit supports, e.g. `ofi+cvd+fusion`.
    pub channels: String,
    pub segments: usize,
    /// Splits made because the stream went silent longer than max_gap.
    pub gap_splits: usize,
}
