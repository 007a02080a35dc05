//! Finding the input files and grouping them into units of work.
//!
//! `--data` may be one file, several files, or a directory tree. In a tree
//! with hive partitions (`symbol=BTCUSDT/date=2024-08-08/trades.parquet`) the
//! symbol and date come from the path; otherwise the symbol comes from the
//! configured file-name pattern, a `SYMBOL-trades.parquet` style name, or
//! else the file's own name. A file's role (trades, quotes or a feature
//! recording) comes from its name when the name says so, else from its
//! columns. Files of one symbol (and one date partition, when there is one)
//! form a `SourceUnit`, the piece a worker loads at a time.

use super::columns::{resolve, ColumnOverrides, Field};
use super::error::DataError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a file holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Trades,
    Quotes,
    Features,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trades => "trades",
            Role::Quotes => "quotes",
            Role::Features => "features",
        }
    }
}

/// One input file with what the path and schema say about it.
#[derive(Clone, Debug, PartialEq)]
pub struct InputFile {
    pub path: PathBuf,
    pub role: Role,
    pub symbol: String,
    /// The `date=` partition, when the layout has one.
    pub partition_date: Option<String>,
    pub bytes: u64,
}

/// The files one worker loads together: one symbol, and one date partition
/// when the layout is partitioned by date.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceUnit {
    pub symbol: String,
    pub partition_date: Option<String>,
    pub files: Vec<InputFile>,
}

impl SourceUnit {
    pub fn files_of(&self, role: Role) -> impl Iterator<Item = &InputFile> {
        self.files.iter().filter(move |f| f.role == role)
    }

    /// `SYMBOL` or `SYMBOL/DATE`, for messages.
    pub fn label(&self) -> String {
        match &self.partition_date {
            Some(date) => format!("{}/{}", self.symbol, date),
            None => self.symbol.clone(),
        }
    }
}

/// Lists every Parquet file under the given paths, sorted, so that runs are
/// deterministic whatever order the file system returns.
pub fn list_parquet(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DataError> {
    let mut files = Vec::new();
    for path in paths {
        if !path.exists() {
            return Err(DataError::NotFound { path: path.clone() });
        }
        let before = files.len();
        walk(path, &mut files)?;
        if files.len() == before {
            return Err(DataError::NoInputs { path: path.clone() });
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    if path.is_file() {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    let io_err =
        |e: std::io::Error| DataError::Io { path: path.to_path_buf(), message: e.to_string() };
    for entry in std::fs::read_dir(path).map_err(io_err)? {
        let child = entry.map_err(io_err)?.path();
        let hidden = child.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            walk(&child, out)?;
        }
    }
    Ok(())
}

/// `key=value` directory components of a hive-partitioned path.
pub fn hive_partitions(path: &Path) -> BTreeMap<String, String> {
    path.parent()
        .into_iter()
        .flat_map(|p| p.components())
        .filter_map(|c| {
            let text = c.as_os_str().to_string_lossy();
            let (key, value) = text.split_once('=')?;
            Some((key.to_ascii_lowercase(), value.to_string()))
        })
        .collect()
}

/// The role a file name announces: a stem ending in `trades`, `quotes` or
/// `features` (`trades.parquet`, `btcusdt-quotes.parquet`), with the part
/// before the separator as a symbol candidate.
pub fn role_from_name(path: &Path) -> Option<(Role, Option<String>)> {
    let stem = path.file_stem()?.to_string_lossy().to_ascii_lowercase();
    let roles = [("trades", Role::Trades), ("quotes", Role::Quotes), ("features", Role::Features)];
    for (suffix, role) in roles {
        if let Some(rest) = stem.strip_suffix(suffix) {
            let prefix = rest.trim_end_matches(['-', '_', '.']);
            let original = path.file_stem()?.to_string_lossy();
            let symbol = (!prefix.is_empty()).then(|| original[..prefix.len()].to_string());
            return Some((role, symbol));
        }
    }
    None
}

/// The role a schema implies: a quantity means trades, best bid and ask
/// mean quotes, a recorded z-score without quantity means features.
pub fn role_from_columns(columns: &[String], overrides: &ColumnOverrides) -> Option<Role> {
    let has = |field| resolve(field, columns, overrides).found().is_some();
    if has(Field::Qty) && has(Field::Price) {
        Some(Role::Trades)
    } else if has(Field::BidPx) && has(Field::AskPx) {
        Some(Role::Quotes)
    } else if has(Field::ZOfi) || has(Field::ZCvd) {
        Some(Role::Features)
    } else {
        None
    }
}

/// Matches a file stem against a pattern in which `*` stands for any text
/// and `{symbol}` for a symbol (letters, digits and `/`-free punctuation
/// other than `_`, `-` and `.`), returning the symbol.
///
/// `*_cvd_{symbol}_*` takes `ethusdt` from `cvd_gold_test_cvd_ethusdt_20251018`.
pub fn symbol_from_pattern(pattern: &str, stem: &str) -> Option<String> {
    let tokens = tokenize(pattern);
    let mut symbol = None;
    matches(&tokens, stem, &mut symbol).then_some(symbol).flatten()
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Literal(&'a str),
    Any,
    Symbol,
}

fn tokenize(pattern: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('*') {
            tokens.push(Token::Any);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{symbol}") {
            tokens.push(Token::Symbol);
            rest = after;
        } else {
            let end = rest.find(['*', '{']).filter(|&i| i > 0).unwrap_or(rest.len());
            tokens.push(Token::Literal(&rest[..end]));
            rest = &rest[end..];
        }
    }
    tokens
}

fn matches(tokens: &[Token<'_>], text: &str, symbol: &mut Option<String>) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match first {
        Token::Literal(lit) => text.strip_prefix(lit).is_some_and(|t| matches(rest, t, symbol)),
        Token::Any => (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .any(|i| matches(rest, &text[i..], symbol)),
        Token::Symbol => {
            let max = text.find(['_', '-', '.', '/']).unwrap_or(text.len());
            (1..=max).rev().any(|i| {
                let found = matches(rest, &text[i..], symbol);
                if found {
                    *symbol = Some(text[..i].to_string());
                }
                found
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_partitions_give_symbol_and_date() {
        let parts =
            hive_partitions(Path::new("data/symbol=BTCUSDT/date=2024-08-08/trades.parquet"));
        assert_eq!(parts.get("symbol").map(String::as_str), Some("BTCUSDT"));
        assert_eq!(parts.get("date").map(String::as_str), Some("2024-08-08"));
    }

    #[test]
    fn file_names_announce_role_and_symbol() {
        let got = role_from_name(Path::new("x/btcusdt-quotes.parquet"));
        assert_eq!(got, Some((Role::Quotes, Some("btcusdt".to_string()))));
        assert_eq!(role_from_name(Path::new("x/trades.parquet")), Some((Role::Trades, None)));
        assert_eq!(role_from_name(Path::new("x/cvd_ethusdt_1.parquet")), None);
    }

    #[test]
    fn schema_decides_role_when_the_name_does_not() {
        let cols = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let none = ColumnOverrides::new();
        let aggtrades = cols(&["timestamp", "price", "qty", "is_buy", "z_cvd"]);
        assert_eq!(role_from_columns(&aggtrades, &none), Some(Role::Trades));
        let quotes = cols(&["ts", "bid", "ask", "bid_size", "ask_size"]);
        assert_eq!(role_from_columns(&quotes, &none), Some(Role::Quotes));
        let recording = cols(&["ts", "price", "z_ofi", "z_cvd"]);
        assert_eq!(role_from_columns(&recording, &none), Some(Role::Features));
        assert_eq!(role_from_columns(&cols(&["a", "b"]), &none), None);
    }

    #[test]
    fn symbol_pattern_skips_prefixes_that_contain_underscores() {
        let pattern = "*_cvd_{symbol}_*";
        for (stem, want) in [
            ("cvd_gold_test_cvd_ethusdt_20251018_023243", "ethusdt"),
            ("CVDTEST_cvd_ethusdt_20251017_233218", "ethusdt"),
            ("cvd_p0b_btcusdt_pressure_cvd_btcusdt_20251018_122912", "btcusdt"),
        ] {
            assert_eq!(symbol_from_pattern(pattern, stem).as_deref(), Some(want), "{stem}");
        }
        assert_eq!(symbol_from_pattern(pattern, "unrelated"), None);
        assert_eq!(symbol_from_pattern("{symbol}", "BTCUSDT").as_deref(), Some("BTCUSDT"));
    }
}
