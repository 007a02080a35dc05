//! The data stage: from Parquet files on disk to clean, time-ordered ticks
//! (or recorded feature bars) per symbol, day and gap-free segment.
//!
//! [`plan`] finds the files, decides each one's role and symbol, and checks
//! every schema before any data is decoded. [`load_unit`] then reads one
//! [`SourceUnit`], drops bad rows with counts by reason
//! ([`validate::DropCounts`]), merges files, fills in trade sides, and splits
//! the stream at day boundaries and long gaps into [`Segment`]s. Nothing
//! after this stage sees a column name.

pub mod columns;
pub mod discover;
pub mod error;
mod load;
pub mod read;
pub mod side;
pub mod timestamps;
pub mod validate;
pub mod write;

pub use discover::{Role, SourceUnit};
pub use error::DataError;
pub use load::{load_unit, FileQuality, UnitData, UnitQuality};

use crate::core::{Bar, Channels, Quote, Trade, TsNs};
use columns::{resolve, validate_overrides, ColumnOverrides, Field, Resolution};
use discover::{hive_partitions, list_parquet, role_from_columns, role_from_name, InputFile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use timestamps::{parse_duration_ns, TsUnit};

/// The `data:` section of the config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Explicit column names by field (`ts`, `price`, `qty`, `side`,
    /// `is_buyer_maker`, `is_buy`, `bid_px`, ..., `bid_px_2`, ...).
    pub columns: ColumnOverrides,
    /// Force the unit of numeric timestamps instead of detecting it.
    pub ts_unit: Option<TsUnit>,
    /// File-name pattern with `{symbol}` and `*`, e.g. `*_cvd_{symbol}_*`.
    pub symbol_pattern: Option<String>,
    /// Longer silences than this split the stream instead of being bridged.
    pub max_gap: String,
    /// Time zone whose midnight separates days (IANA name).
    pub day_tz: String,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            columns: ColumnOverrides::new(),
            ts_unit: None,
            symbol_pattern: None,
            max_gap: "60s".to_string(),
            day_tz: "UTC".to_string(),
        }
    }
}

impl DataConfig {
    /// Checks the section and returns the parsed gap limit and time zone.
    pub fn checked(&self) -> Result<(i64, chrono_tz::Tz), String> {
        validate_overrides(&self.columns)?;
        let gap = parse_duration_ns(&self.max_gap).map_err(|e| format!("data.max_gap: {e}"))?;
        let tz = self.day_tz.parse::<chrono_tz::Tz>().map_err(|_| {
            format!(
                "data.day_tz: `{}` is not an IANA time zone such as UTC or Asia/Shanghai",
                self.day_tz
            )
        })?;
        Ok((gap, tz))
    }
}

/// Where a file's columns are: the resolved name of each field it has.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnMap {
    pub fields: BTreeMap<Field, String>,
    /// Deeper book levels 2.. as (bid_px, bid_sz, ask_px, ask_sz).
    pub depth: Vec<[String; 4]>,
}

impl ColumnMap {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields.get(&field).map(String::as_str)
    }
}

/// A file ready to load: its place in the layout and its column map.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedFile {
    pub file: InputFile,
    pub columns: ColumnMap,
}

/// Every input file, checked, grouped into units of work.
#[derive(Clone, Debug)]
pub struct DataPlan {
    pub units: Vec<PlannedUnit>,
    pub gap_ns: i64,
    pub tz: chrono_tz::Tz,
    pub ts_unit: Option<TsUnit>,
}

/// One unit of work: one symbol (and date partition) with its files.
#[derive(Clone, Debug)]
pub struct PlannedUnit {
    pub unit: SourceUnit,
    pub files: Vec<PlannedFile>,
}

impl DataPlan {
    pub fn file_count(&self) -> usize {
        self.units.iter().map(|u| u.files.len()).sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.units.iter().flat_map(|u| &u.files).map(|f| f.file.bytes).sum()
    }

    pub fn symbols(&self) -> Vec<String> {
        let mut symbols: Vec<String> = self.units.iter().map(|u| u.unit.symbol.clone()).collect();
        symbols.dedup();
        symbols
    }
}

/// Finds and checks every input file: role, symbol, and the columns its role
/// needs. Reads footers only, so a missing column anywhere is reported
/// before any data is decoded.
pub fn plan(paths: &[PathBuf], config: &DataConfig) -> Result<DataPlan, DataError> {
    let (gap_ns, tz) =
        config.checked().map_err(|message| DataError::Io { path: "config".into(), message })?;
    let mut by_unit: BTreeMap<(String, Option<String>), Vec<PlannedFile>> = BTreeMap::new();
    for path in list_parquet(paths)? {
        let planned = plan_file(path, config)?;
        let key = (planned.file.symbol.clone(), planned.file.partition_date.clone());
        by_unit.entry(key).or_default().push(planned);
    }
    let units = by_unit
        .into_iter()
        .map(|((symbol, partition_date), files)| PlannedUnit {
            unit: SourceUnit {
                symbol,
                partition_date,
                files: files.iter().map(|f| f.file.clone()).collect(),
            },
            files,
        })
        .collect();
    Ok(DataPlan { units, gap_ns, tz, ts_unit: config.ts_unit })
}

fn plan_file(path: PathBuf, config: &DataConfig) -> Result<PlannedFile, DataError> {
    let names = read::column_names(&path)?;
    let from_name = role_from_name(&path);
    let role = from_name
        .as_ref()
        .map(|(role, _)| *role)
        .or_else(|| role_from_columns(&names, &config.columns))
        .ok_or_else(|| DataError::UnknownRole { path: path.clone(), columns: names.join(", ") })?;
    let columns = map_columns(&path, role, &names, &config.columns)?;
    let partitions = hive_partitions(&path);
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let symbol = partitions
        .get("symbol")
        .cloned()
        .or_else(|| {
            config.symbol_pattern.as_ref().and_then(|p| discover::symbol_from_pattern(p, &stem))
        })
        .or_else(|| from_name.as_ref().and_then(|(_, symbol)| symbol.clone()))
        .or_else(|| from_name.is_some().then(|| parent_name(&path)).flatten())
        .unwrap_or(stem);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let file =
        InputFile { path, role, symbol, partition_date: partitions.get("date").cloned(), bytes };
    Ok(PlannedFile { file, columns })
}

/// The name of a file's directory: the symbol of a bare `trades.parquet`
/// that sits in a directory per symbol.
fn parent_name(path: &std::path::Path) -> Option<String> {
    let name = path.parent()?.file_name()?.to_string_lossy().to_string();
    (!name.is_empty() && name != "." && name != "..").then_some(name)
}

/// Resolves the columns a role needs, failing on the first missing one.
fn map_columns(
    path: &std::path::Path,
    role: Role,
    names: &[String],
    overrides: &ColumnOverrides,
) -> Result<ColumnMap, DataError> {
    let (required, optional): (&[Field], &[Field]) = match role {
        Role::Trades => (
            &[Field::Ts, Field::Price, Field::Qty],
            &[Field::Side, Field::IsBuyerMaker, Field::IsBuy, Field::TradeId],
        ),
        Role::Quotes => (&[Field::Ts, Field::BidPx, Field::BidSz, Field::AskPx, Field::AskSz], &[]),
        Role::Features => (
            &[Field::Ts, Field::Price],
            &[Field::ZOfi, Field::ZCvd, Field::Fusion, Field::Consistency],
        ),
    };
    let mut map = ColumnMap::default();
    for &field in required.iter().chain(optional) {
        match resolve(field, names, overrides) {
            Resolution::Found(name) => {
                map.fields.insert(field, name);
            }
            Resolution::OverrideMissing(name) => {
                return Err(missing(path, field, format!("`{name}` (from the config)")));
            }
            Resolution::Absent if required.contains(&field) => {
                let tried = field.aliases().iter().map(|a| format!("`{a}`")).collect::<Vec<_>>();
                return Err(missing(path, field, tried.join(", ")));
            }
            Resolution::Absent => {}
        }
    }
    if role == Role::Features && map.get(Field::ZOfi).is_none() && map.get(Field::ZCvd).is_none() {
        return Err(missing(
            path,
            Field::ZCvd,
            "`z_ofi` or `z_cvd` (a recording needs at least one)".into(),
        ));
    }
    if role == Role::Quotes {
        map.depth = depth_columns(names, overrides);
    }
    Ok(map)
}

fn depth_columns(names: &[String], overrides: &ColumnOverrides) -> Vec<[String; 4]> {
    use columns::{resolve_depth, BookSide};
    let mut depth = Vec::new();
    for level in 2..=crate::core::MAX_LEVELS {
        let bid = resolve_depth(BookSide::Bid, level, names, overrides);
        let ask = resolve_depth(BookSide::Ask, level, names, overrides);
        match (bid, ask) {
            (Some((bp, bs)), Some((ap, asz))) => depth.push([bp, bs, ap, asz]),
            _ => break,
        }
    }
    depth
}

fn missing(path: &std::path::Path, field: Field, tried: String) -> DataError {
    DataError::MissingColumn { path: path.to_path_buf(), field: field.key(), tried }
}

/// A gap-free piece of one symbol's stream within one day.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub symbol: String,
    /// Local date (in the configured time zone) of the segment's ticks.
    pub day: String,
    pub start: TsNs,
    pub end: TsNs,
    pub channels: Channels,
    pub data: SegmentData,
}

/// What a segment carries: ticks to build features from, or bars that a
/// live recording already computed.
#[derive(Clone, Debug, PartialEq)]
pub enum SegmentData {
    Ticks { trades: Vec<Trade>, quotes: Vec<Quote> },
    Recorded { bars: Vec<Bar> },
}

impl Segment {
    pub fn rows(&self) -> usize {
        match &self.data {
            SegmentData::Ticks { trades, quotes } => trades.len() + quotes.len(),
            SegmentData::Recorded { bars } => bars.len(),
        }
    }
}
