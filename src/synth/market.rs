//! A whole synthetic market on disk: several symbols and days in the hive
//! layout that `divtune` reads by default
//! (`symbol=S/date=D/{trades,quotes}.parquet`).

use super::{generate_day, session_date, SynthParams};
use crate::core::ParamRangeError;
use crate::data::write::{write_quotes, write_trades};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `synth:` section: which market to write and how it behaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    /// The same seed writes the same files.
    pub seed: u64,
    pub symbols: Vec<String>,
    /// Trading days per symbol.
    pub days: u32,
    /// How each symbol-day is generated.
    pub market: SynthParams,
}

impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            seed: 20240805,
            symbols: vec!["BTCUSDT".into(), "ETHUSDT".into(), "SOLUSDT".into()],
            days: 5,
            market: SynthParams::default(),
        }
    }
}

impl MarketConfig {
    pub fn validate(&self) -> Result<(), ParamRangeError> {
        if self.symbols.is_empty()
            || self.symbols.iter().any(|s| s.is_empty() || s.contains(['/', '=']))
        {
            let value = format!("{:?}", self.symbols);
            return Err(ParamRangeError::new(
                "symbols",
                "non-empty names without '/' or '='",
                value,
            ));
        }
        if !(1..=3660).contains(&self.days) {
            return Err(ParamRangeError::new("days", "[1, 3660]", self.days));
        }
        self.market.validate()
    }
}

/// What `write_market` wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub files: usize,
    pub trades: usize,
    pub quotes: usize,
}

/// Generates and writes every symbol-day, in parallel, each file atomically.
pub fn write_market(config: &MarketConfig, out: &Path) -> Result<Written, String> {
    config.validate().map_err(|e| e.to_string())?;
    let jobs: Vec<(&String, u32)> =
        config.symbols.iter().flat_map(|s| (0..config.days).map(move |d| (s, d))).collect();
    let counts: Vec<Result<(usize, usize), String>> = jobs
        .par_iter()
        .map(|&(symbol, day)| {
            let date = session_date(&config.market, day).map_err(|e| e.to_string())?;
            let dir = out.join(format!("symbol={symbol}")).join(format!("date={date}"));
            let generated = generate_day(&config.market, symbol, day, config.seed);
            write_trades(&dir.join("trades.parquet"), &generated.trades)
                .map_err(|e| e.to_string())?;
            write_quotes(&dir.join("quotes.parquet"), &generated.quotes)
                .map_err(|e| e.to_string())?;
            Ok((generated.trades.len(), generated.quotes.len()))
        })
        .collect();
    let mut written = Written::default();
    for c in counts {
        let (trades, quotes) = c?;
        written.files += 2;
        written.trades += trades;
        written.quotes += quotes;
    }
    Ok(written)
}
