//! Writing ticks as Parquet in the layout divtune reads by default: `ts` as
//! integer nanoseconds, `side` as `buy`/`sell`, and quote levels beyond the
//! best as `bid_px_2`, `bid_sz_2`, ... Used by `divtune synth` and by tests
//! that build fixture files.

use crate::artifacts::{self, WriteError};
use crate::core::{Aggressor, Quote, Trade};
use polars::prelude::*;
use std::path::Path;

/// Writes trades atomically.
pub fn write_trades(path: &Path, trades: &[Trade]) -> Result<(), WriteError> {
    let side = |t: &Trade| match t.side {
        Aggressor::Buy => "buy",
        Aggressor::Sell => "sell",
    };
    let columns = vec![
        Column::new("ts".into(), trades.iter().map(|t| t.ts.0).collect::<Vec<i64>>()),
        Column::new("price".into(), trades.iter().map(|t| t.px).collect::<Vec<f64>>()),
        Column::new("qty".into(), trades.iter().map(|t| t.qty).collect::<Vec<f64>>()),
        Column::new("side".into(), trades.iter().map(side).collect::<Vec<&str>>()),
    ];
    write_frame(path, trades.len(), columns)
}

/// Writes quotes atomically, with as many levels as the deepest quote has.
pub fn write_quotes(path: &Path, quotes: &[Quote]) -> Result<(), WriteError> {
    let depth = quotes.iter().map(|q| q.depth).max().unwrap_or(1).max(1);
    let mut columns =
        vec![Column::new("ts".into(), quotes.iter().map(|q| q.ts.0).collect::<Vec<i64>>())];
    for level in 0..depth {
        let suffix = if level == 0 { String::new() } else { format!("_{}", level + 1) };
        let pick = |f: &dyn Fn(&Quote) -> f64| -> Vec<Option<f64>> {
            quotes.iter().map(|q| (level < q.depth).then(|| f(q))).collect()
        };
        columns.push(Column::new(format!("bid_px{suffix}").into(), pick(&|q| q.bid[level].px)));
        columns.push(Column::new(format!("bid_sz{suffix}").into(), pick(&|q| q.bid[level].sz)));
        columns.push(Column::new(format!("ask_px{suffix}").into(), pick(&|q| q.ask[level].px)));
        columns.push(Column::new(format!("ask_sz{suffix}").into(), pick(&|q| q.ask[level].sz)));
    }
    write_frame(path, quotes.len(), columns)
}

fn write_frame(path: &Path, height: usize, columns: Vec<Column>) -> Result<(), WriteError> {
    let mut df = DataFrame::new(height, columns)
        .map_err(|e| WriteError { path: path.to_path_buf(), message: e.to_string() })?;
    artifacts::write_parquet(path, &mut df)
}
