//! Errors of the data stage. Each names the file, and where it applies the
//! column, row and value, then says what to do about it.

use std::path::PathBuf;

/// A problem with the input that stops the run before any work is done.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },

    #[error("{path}: no .parquet files found; point --data at a file, a list of files or a directory tree of Parquet files")]
    NoInputs { path: PathBuf },

    #[error("{path}: cannot read it as Parquet ({reason}); a truncated copy or an interrupted download reads like this, so fetch the file again")]
    Unreadable { path: PathBuf, reason: String },

    #[error("{path}: cannot tell whether it holds trades, quotes or feature recordings (columns: {columns}); name it *trades.parquet, *quotes.parquet or *features.parquet, or map its columns under `data.columns` in the config")]
    UnknownRole { path: PathBuf, columns: String },

    #[error("{path}: no column for `{field}` (looked for {tried}); name it under `data.columns.{field}` in the config or with --column {field}=NAME")]
    MissingColumn { path: PathBuf, field: &'static str, tried: String },

    #[error("{path}: column `{column}` holds {found}, but `{field}` needs {expected}; fix the writer or map another column under `data.columns.{field}`")]
    WrongType {
        path: PathBuf,
        column: String,
        field: &'static str,
        found: String,
        expected: &'static str,
    },

    #[error("{path}: row {row}, column `{column}`: {problem} (value {value}); {hint}")]
    BadValue {
        path: PathBuf,
        row: usize,
        column: String,
        value: String,
        problem: &'static str,
        hint: &'static str,
    },

    #[error("{what}: no rows left after validation ({detail}); see data_quality counts with `divtune inspect` and check the file's units and columns")]
    NoRowsLeft { what: String, detail: String },

    #[error("symbol {symbol}: trades ({trades}) and quotes ({quotes}) never overlap in time; they are probably from different days or symbols, so check the layout or drop the quotes")]
    NoOverlap { symbol: String, trades: String, quotes: String },

    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

impl DataError {
    pub fn unreadable(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        DataError::Unreadable { path: path.to_path_buf(), reason: reason.to_string() }
    }
}
