//! Reading Parquet columns into plain vectors, with type checks.
//!
//! This is the only file that talks to polars for input. It reads a file's
//! schema first (footer only) so that a missing column is reported before any
//! data is decoded, then decodes just the needed columns.

use super::error::DataError;
use super::timestamps::{detect_unit, TsUnit};
use polars::prelude::*;
use std::fs::File;
use std::path::Path;

/// Column names of a Parquet file, from its footer.
pub fn column_names(path: &Path) -> Result<Vec<String>, DataError> {
    let file = open(path)?;
    let schema = ParquetReader::new(file).schema().map_err(|e| DataError::unreadable(path, e))?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// Reads the named columns of a file, on the calling thread: divtune runs
/// units in parallel itself, and polars' own parallel reader, called from
/// inside that, lets a waiting worker start yet more units.
pub fn read_columns(path: &Path, columns: &[String]) -> Result<DataFrame, DataError> {
    let file = open(path)?;
    ParquetReader::new(file)
        .read_parallel(ParallelStrategy::None)
        .with_columns(Some(columns.to_vec()))
        .finish()
        .map_err(|e| DataError::unreadable(path, e))
}

fn open(path: &Path) -> Result<File, DataError> {
    File::open(path).map_err(|e| DataError::Io { path: path.to_path_buf(), message: e.to_string() })
}

/// A decoded timestamp column with the unit it was read in.
pub struct TsColumn {
    pub ns: Vec<Option<i64>>,
    pub unit: TsUnit,
    /// Whether the unit came from the Parquet type rather than detection.
    pub typed: bool,
}

/// Decodes a timestamp column of any supported type to nanoseconds. A
/// Parquet timestamp type carries its unit; plain numbers use `forced` or
/// else the unit detected from their magnitude.
pub fn ts_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
    forced: Option<TsUnit>,
) -> Result<TsColumn, DataError> {
    let col = column(df, path, name)?;
    match col.dtype() {
        DataType::Datetime(unit, _) => {
            let unit = match unit {
                TimeUnit::Milliseconds => TsUnit::Ms,
                TimeUnit::Microseconds => TsUnit::Us,
                TimeUnit::Nanoseconds => TsUnit::Ns,
            };
            let raw = as_i64(col, path)?;
            Ok(TsColumn { ns: scale_ints(&raw, unit), unit, typed: true })
        }
        dt if dt.is_integer() => {
            let raw = as_i64(col, path)?;
            let unit = forced
                .or_else(|| detect_unit(raw.iter().flatten().map(|&v| v as f64)))
                .unwrap_or(TsUnit::Ns);
            Ok(TsColumn { ns: scale_ints(&raw, unit), unit, typed: false })
        }
        dt if dt.is_float() => {
            let raw = f64_values(col, path, name, "ts")?;
            let unit =
                forced.or_else(|| detect_unit(raw.iter().flatten().copied())).unwrap_or(TsUnit::S);
            let ns = raw.iter().map(|v| v.and_then(|v| unit.float_to_ns(v))).collect();
            Ok(TsColumn { ns, unit, typed: false })
        }
        other => Err(wrong_type(path, name, "ts", other, "integers, floats or a timestamp type")),
    }
}

/// Decodes a numeric column as floats; integers are widened.
pub fn f64_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
    field: &'static str,
) -> Result<Vec<Option<f64>>, DataError> {
    f64_values(column(df, path, name)?, path, name, field)
}

/// Decodes an integer column (trade ids).
pub fn i64_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
    field: &'static str,
) -> Result<Vec<Option<i64>>, DataError> {
    let col = column(df, path, name)?;
    if !col.dtype().is_integer() {
        return Err(wrong_type(path, name, field, col.dtype(), "integers"));
    }
    as_i64(col, path)
}

/// The raw values of a column that may hold a trade side in any of the
/// supported encodings.
pub enum SideValues<'a> {
    Bools(Vec<Option<bool>>),
    /// Borrowed from the data frame: no allocation per row.
    Strings(Vec<Option<&'a str>>),
    Ints(Vec<Option<i64>>),
}

pub fn side_values<'a>(
    df: &'a DataFrame,
    path: &Path,
    name: &str,
    field: &'static str,
) -> Result<SideValues<'a>, DataError> {
    let col = column(df, path, name)?;
    let err = |e: PolarsError| DataError::unreadable(path, e);
    match col.dtype() {
        DataType::Boolean => Ok(SideValues::Bools(col.bool().map_err(err)?.iter().collect())),
        DataType::String => Ok(SideValues::Strings(col.str().map_err(err)?.iter().collect())),
        dt if dt.is_integer() => Ok(SideValues::Ints(as_i64(col, path)?)),
        other => Err(wrong_type(path, name, field, other, "booleans, strings or integers")),
    }
}

/// Decodes a string column (symbols).
pub fn string_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
) -> Result<Vec<Option<String>>, DataError> {
    let col = column(df, path, name)?;
    let values = col
        .cast(&DataType::String)
        .map_err(|e| DataError::unreadable(path, e))?
        .str()
        .map_err(|e| DataError::unreadable(path, e))?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect();
    Ok(values)
}

fn column<'a>(df: &'a DataFrame, path: &Path, name: &str) -> Result<&'a Column, DataError> {
    df.column(name).map_err(|e| DataError::unreadable(path, e))
}

fn as_i64(col: &Column, path: &Path) -> Result<Vec<Option<i64>>, DataError> {
    let cast = col.cast(&DataType::Int64).map_err(|e| DataError::unreadable(path, e))?;
    Ok(cast.i64().map_err(|e| DataError::unreadable(path, e))?.iter().collect())
}

fn f64_values(
    col: &Column,
    path: &Path,
    name: &str,
    field: &'static str,
) -> Result<Vec<Option<f64>>, DataError> {
    let dt = col.dtype();
    if !(dt.is_float() || dt.is_integer()) {
        return Err(wrong_type(path, name, field, dt, "numbers"));
    }
    let cast = col.cast(&DataType::Float64).map_err(|e| DataError::unreadable(path, e))?;
    Ok(cast.f64().map_err(|e| DataError::unreadable(path, e))?.iter().collect())
}

fn scale_ints(raw: &[Option<i64>], unit: TsUnit) -> Vec<Option<i64>> {
    raw.iter().map(|v| v.and_then(|v| unit.int_to_ns(v))).collect()
}

fn wrong_type(
    path: &Path,
    name: &str,
    field: &'static str,
    found: &DataType,
    expected: &'static str,
) -> DataError {
    DataError::WrongType {
        path: path.to_path_buf(),
        column: name.to_string(),
        field,
        found: found.to_string(),
        expected,
    }
}
