//! The aggressor side of each trade: decoded from whichever column the
//! vendor provides, or inferred when there is none.
//!
//! Inference follows Lee and Ready (1991), "Inferring trade direction from
//! intraday data", J. Finance 46(2): the quote rule compares the trade price
//! with the prevailing mid (above = buy, below = sell) and falls back to the
//! tick rule at the mid; the tick rule alone is used when there are no
//! quotes (uptick = buy, downtick = sell, an unchanged price repeats the
//! previous classification).

use super::error::DataError;
use super::read::SideValues;
use crate::core::{Aggressor, Quote, TsNs};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a unit's trade sides came from; recorded in the data quality file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SideSource {
    /// A `side` column of buy/sell words or +1/-1.
    SideColumn(String),
    /// An `is_buyer_maker` column (true = the seller aggressed).
    BuyerMakerColumn(String),
    /// An `is_buy` column (true = the buyer aggressed).
    IsBuyColumn(String),
    /// Lee-Ready quote rule against the prevailing mid.
    QuoteRule,
    /// Tick rule on consecutive trade prices.
    TickRule,
}

impl SideSource {
    pub fn describe(&self) -> String {
        match self {
            SideSource::SideColumn(c) => format!("column {c} (side)"),
            SideSource::BuyerMakerColumn(c) => format!("column {c} (is_buyer_maker)"),
            SideSource::IsBuyColumn(c) => format!("column {c} (is_buy)"),
            SideSource::QuoteRule => "inferred: quote rule".to_string(),
            SideSource::TickRule => "inferred: tick rule".to_string(),
        }
    }
}

/// How a side column encodes the aggressor.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SideEncoding {
    /// buy/sell, b/s, +1/-1.
    Side,
    /// true = the seller aggressed.
    BuyerMaker,
    /// true = the buyer aggressed.
    IsBuy,
}

/// Decodes a side column. Nulls stay `None` (the row is dropped and
/// counted); a value that no encoding knows is an error, since it means the
/// wrong column was mapped.
pub fn decode_sides(
    values: &SideValues<'_>,
    encoding: SideEncoding,
    path: &Path,
    column: &str,
) -> Result<Vec<Option<Aggressor>>, DataError> {
    let flag = |seller_aggressed: bool| -> Aggressor {
        if seller_aggressed {
            Aggressor::Sell
        } else {
            Aggressor::Buy
        }
    };
    let from_bool = |b: bool| match encoding {
        SideEncoding::BuyerMaker => flag(b),
        _ => flag(!b),
    };
    let bad = |row: usize, value: String| DataError::BadValue {
        path: path.to_path_buf(),
        row,
        column: column.to_string(),
        value,
        problem: "not a trade side",
        hint:
            "expected buy/sell, B/S, +1/-1 or true/false; map the right column under `data.columns`",
    };
    match values {
        SideValues::Bools(v) => Ok(v.iter().map(|b| b.map(from_bool)).collect()),
        SideValues::Ints(v) => v
            .iter()
            .enumerate()
            .map(|(row, x)| match (x, encoding) {
                (None, _) => Ok(None),
                (Some(1), SideEncoding::Side) => Ok(Some(Aggressor::Buy)),
                (Some(-1), SideEncoding::Side) => Ok(Some(Aggressor::Sell)),
                (Some(b @ (0 | 1)), _) => Ok(Some(from_bool(*b == 1))),
                (Some(other), _) => Err(bad(row, other.to_string())),
            })
            .collect(),
        SideValues::Strings(v) => v
            .iter()
            .enumerate()
            .map(|(row, s)| match s {
                None => Ok(None),
                Some(s) => parse_side_word(s, encoding, from_bool)
                    .map(Some)
                    .ok_or_else(|| bad(row, format!("{s:?}"))),
            })
            .collect(),
    }
}

fn parse_side_word(
    word: &str,
    encoding: SideEncoding,
    from_bool: impl Fn(bool) -> Aggressor,
) -> Option<Aggressor> {
    let word = word.trim().to_ascii_lowercase();
    if encoding == SideEncoding::Side {
        return match word.as_str() {
            "buy" | "b" | "bid" | "1" | "+1" => Some(Aggressor::Buy),
            "sell" | "s" | "ask" | "-1" => Some(Aggressor::Sell),
            _ => None,
        };
    }
    match word.as_str() {
        "true" | "t" | "1" | "yes" => Some(from_bool(true)),
        "false" | "f" | "0" | "no" => Some(from_bool(false)),
        _ => None,
    }
}

/// Classifies trades with the tick rule. Trades before the first price
/// change have no reference; they are classified as buys and counted in the
/// return value so that the quality report shows how many were guessed.
pub fn tick_rule(prices: &[f64]) -> (Vec<Aggressor>, usize) {
    let mut sides = Vec::with_capacity(prices.len());
    let mut last = None;
    let mut unresolved = 0;
    for (i, &px) in prices.iter().enumerate() {
        let side = match i.checked_sub(1).map(|j| px.total_cmp(&prices[j])) {
            Some(std::cmp::Ordering::Greater) => Some(Aggressor::Buy),
            Some(std::cmp::Ordering::Less) => Some(Aggressor::Sell),
            _ => last,
        };
        last = side.or(last);
        if side.is_none() {
            unresolved += 1;
        }
        sides.push(side.unwrap_or(Aggressor::Buy));
    }
    (sides, unresolved)
}

/// Classifies trades with the quote rule against the latest quote stamped at
/// or before each trade, falling back to the tick rule at the mid or when no
/// quote precedes the trade. Both slices must be sorted by time.
pub fn quote_rule(trade_ts: &[TsNs], prices: &[f64], quotes: &[Quote]) -> (Vec<Aggressor>, usize) {
    let (by_tick, unresolved) = tick_rule(prices);
    let mut q = 0;
    let mut mid = None;
    let sides = trade_ts
        .iter()
        .zip(prices)
        .zip(by_tick)
        .map(|((ts, px), tick_side)| {
            while q < quotes.len() && quotes[q].ts <= *ts {
                mid = Some(quotes[q].mid());
                q += 1;
            }
            match mid.map(|m| px.total_cmp(&m)) {
                Some(std::cmp::Ordering::Greater) => Aggressor::Buy,
                Some(std::cmp::Ordering::Less) => Aggressor::Sell,
                _ => tick_side,
            }
        })
        .collect();
    (sides, unresolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Aggressor::{Buy, Sell};

    fn path() -> &'static Path {
        Path::new("t.parquet")
    }

    #[test]
    fn buyer_maker_strings_mean_the_seller_aggressed() {
        let values = SideValues::Strings(vec![Some("True"), Some("False"), None]);
        let got = decode_sides(&values, SideEncoding::BuyerMaker, path(), "buyer_maker").unwrap();
        assert_eq!(got, vec![Some(Sell), Some(Buy), None]);
    }

    #[test]
    fn is_buy_booleans_mean_the_buyer_aggressed() {
        let values = SideValues::Bools(vec![Some(true), Some(false)]);
        let got = decode_sides(&values, SideEncoding::IsBuy, path(), "is_buy").unwrap();
        assert_eq!(got, vec![Some(Buy), Some(Sell)]);
    }

    #[test]
    fn side_words_and_signs_decode() {
        let words = ["buy", "SELL", "B", "s"].map(Some).to_vec();
        let got = decode_sides(&SideValues::Strings(words), SideEncoding::Side, path(), "side");
        assert_eq!(got.unwrap(), vec![Some(Buy), Some(Sell), Some(Buy), Some(Sell)]);
        let ints = SideValues::Ints(vec![Some(1), Some(-1)]);
        let got = decode_sides(&ints, SideEncoding::Side, path(), "side").unwrap();
        assert_eq!(got, vec![Some(Buy), Some(Sell)]);
    }

    #[test]
    fn an_unknown_side_word_names_the_row_and_value() {
        let values = SideValues::Strings(vec![Some("buy"), Some("maybe")]);
        let err = decode_sides(&values, SideEncoding::Side, path(), "side").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("row 1") && text.contains("maybe") && text.contains("`side`"),
            "{text}"
        );
    }

    #[test]
    fn tick_rule_uses_upticks_downticks_and_repeats_on_zero_ticks() {
        let (sides, unresolved) = tick_rule(&[10.0, 10.0, 10.5, 10.5, 10.2, 10.2]);
        assert_eq!(sides, vec![Buy, Buy, Buy, Buy, Sell, Sell]);
        assert_eq!(unresolved, 2, "the first two trades had no price change to go on");
    }

    #[test]
    fn quote_rule_compares_with_the_prevailing_mid_and_falls_back_at_the_mid() {
        let quotes = [
            Quote::top(TsNs(0), 99.0, 1.0, 101.0, 1.0),
            Quote::top(TsNs(10), 101.0, 1.0, 103.0, 1.0),
        ];
        let ts = [TsNs(5), TsNs(6), TsNs(10), TsNs(11)];
        let px = [100.5, 99.5, 101.5, 102.0];
        let (sides, _) = quote_rule(&ts, &px, &quotes);
        // 102.0 sits at the new mid: the tick rule sees an uptick from 101.5.
        assert_eq!(sides, vec![Buy, Sell, Sell, Buy]);
    }
}
