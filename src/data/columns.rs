//! Column names: the aliases vendors use for each field, and how a file's
//! schema is resolved to the fields divtune needs.
//!
//! Every field has an ordered list of default aliases; the config can name
//! the column explicitly instead. Matching is case-insensitive. Exchange
//! event time is preferred over local receive time, which is why event-time
//! names come first in the timestamp list.

use std::collections::BTreeMap;

/// A field divtune reads, independent of what a vendor calls it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Ts,
    Price,
    Qty,
    /// "buy"/"sell", "B"/"S", or +1/-1: the aggressor.
    Side,
    /// true when the seller was the aggressor (Binance's `m`).
    IsBuyerMaker,
    /// true when the buyer was the aggressor.
    IsBuy,
    BidPx,
    BidSz,
    AskPx,
    AskSz,
    ZOfi,
    ZCvd,
    Fusion,
    Consistency,
    Symbol,
    /// An exchange trade id: trades that share it are the same trade.
    TradeId,
}

impl Field {
    /// Every field, in the order they are documented.
    pub const ALL: [Field; 16] = [
        Field::Ts,
        Field::Price,
        Field::Qty,
        Field::Side,
        Field::IsBuyerMaker,
        Field::IsBuy,
        Field::BidPx,
        Field::BidSz,
        Field::AskPx,
        Field::AskSz,
        Field::ZOfi,
        Field::ZCvd,
        Field::Fusion,
        Field::Consistency,
        Field::Symbol,
        Field::TradeId,
    ];

    /// The key used for this field in the config's `columns:` mapping.
    pub fn key(self) -> &'static str {
        match self {
            Field::Ts => "ts",
            Field::Price => "price",
            Field::Qty => "qty",
            Field::Side => "side",
            Field::IsBuyerMaker => "is_buyer_maker",
            Field::IsBuy => "is_buy",
            Field::BidPx => "bid_px",
            Field::BidSz => "bid_sz",
            Field::AskPx => "ask_px",
            Field::AskSz => "ask_sz",
            Field::ZOfi => "z_ofi",
            Field::ZCvd => "z_cvd",
            Field::Fusion => "fusion",
            Field::Consistency => "consistency",
            Field::Symbol => "symbol",
            Field::TradeId => "trade_id",
        }
    }

    /// Default column names, most specific first.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Ts => &[
                "ts_event",
                "event_time",
                "event_time_ms",
                "transact_time",
                "ts",
                "ts_ns",
                "ts_ms",
                "timestamp",
                "time",
                "datetime",
                "t",
            ],
            Field::Price => &["price", "px", "p", "trade_price", "last_price"],
            Field::Qty => &["qty", "quantity", "size", "amount", "volume", "q", "sz"],
            Field::Side => &["side", "aggressor_side", "taker_side", "aggressor"],
            Field::IsBuyerMaker => &["is_buyer_maker", "buyer_maker", "m"],
            Field::IsBuy => &["is_buy", "buyer_aggressor", "is_taker_buy"],
            Field::BidPx => {
                &["bid_px", "bid", "bid_price", "bid_px_1", "bid_price_1", "bp", "best_bid"]
            }
            Field::BidSz => {
                &["bid_sz", "bid_size", "bid_qty", "bid_sz_1", "bid_size_1", "bq", "best_bid_size"]
            }
            Field::AskPx => {
                &["ask_px", "ask", "ask_price", "ask_px_1", "ask_price_1", "ap", "best_ask"]
            }
            Field::AskSz => {
                &["ask_sz", "ask_size", "ask_qty", "ask_sz_1", "ask_size_1", "aq", "best_ask_size"]
            }
            Field::ZOfi => &["z_ofi", "ofi_z", "zofi"],
            Field::ZCvd => &["z_cvd", "cvd_z", "zcvd"],
            Field::Fusion => &["fusion_score", "fusion", "z_fusion"],
            Field::Consistency => &["consistency", "consistency_score"],
            Field::Symbol => &["symbol", "ticker", "instrument", "sym"],
            Field::TradeId => &["trade_id", "agg_trade_id", "tid", "id"],
        }
    }
}

/// Explicit column names from the config (`columns:`), keyed by field key.
pub type ColumnOverrides = BTreeMap<String, String>;

/// Checks that every key of the overrides names a field.
pub fn validate_overrides(overrides: &ColumnOverrides) -> Result<(), String> {
    let known: Vec<&str> = Field::ALL.iter().map(|f| f.key()).collect();
    for key in overrides.keys() {
        if !known.contains(&key.as_str()) && parse_depth_key(key).is_none() {
            return Err(format!(
                "unknown column key `{key}` in `columns:`; known keys: {}, and bid_px_2 .. ask_sz_5",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// Finds the column for `field` among `names`: the override if the config
/// gives one (it must exist), else the first default alias present.
pub fn resolve(field: Field, names: &[String], overrides: &ColumnOverrides) -> Resolution {
    if let Some(wanted) = overrides.get(field.key()) {
        return match find(names, wanted) {
            Some(name) => Resolution::Found(name),
            None => Resolution::OverrideMissing(wanted.clone()),
        };
    }
    field
        .aliases()
        .iter()
        .find_map(|alias| find(names, alias))
        .map_or(Resolution::Absent, Resolution::Found)
}

/// The outcome of looking a field up in a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    Found(String),
    Absent,
    /// The config named a column that the file does not have.
    OverrideMissing(String),
}

impl Resolution {
    pub fn found(&self) -> Option<&str> {
        match self {
            Resolution::Found(name) => Some(name),
            _ => None,
        }
    }
}

/// Book side of a depth column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BookSide {
    Bid,
    Ask,
}

/// Columns of book level `level` (2-based: the best level is resolved as a
/// field), under the common spellings `bid_px_2`, `bid_price_2`, `bid_2` for
/// prices and `bid_sz_2`, `bid_size_2`, `bid_qty_2` for sizes.
pub fn resolve_depth(
    side: BookSide,
    level: usize,
    names: &[String],
    overrides: &ColumnOverrides,
) -> Option<(String, String)> {
    let prefix = match side {
        BookSide::Bid => "bid",
        BookSide::Ask => "ask",
    };
    let px_key = format!("{prefix}_px_{level}");
    let sz_key = format!("{prefix}_sz_{level}");
    let pick = |key: &str, spellings: &[&str]| -> Option<String> {
        if let Some(wanted) = overrides.get(key) {
            return find(names, wanted);
        }
        spellings.iter().find_map(|s| find(names, &format!("{prefix}_{s}_{level}")))
    };
    let px =
        pick(&px_key, &["px", "price"]).or_else(|| find(names, &format!("{prefix}_{level}")))?;
    let sz = pick(&sz_key, &["sz", "size", "qty"])?;
    Some((px, sz))
}

/// Parses `bid_px_3`-style override keys into (side, level).
fn parse_depth_key(key: &str) -> Option<(BookSide, usize)> {
    let (side, rest) = if let Some(rest) = key.strip_prefix("bid_") {
        (BookSide::Bid, rest)
    } else {
        (BookSide::Ask, key.strip_prefix("ask_")?)
    };
    let level = rest.strip_prefix("px_").or_else(|| rest.strip_prefix("sz_"))?;
    let level: usize = level.parse().ok()?;
    (2..=crate::core::MAX_LEVELS).contains(&level).then_some((side, level))
}

fn find(names: &[String], wanted: &str) -> Option<String> {
    names.iter().find(|n| n.eq_ignore_ascii_case(wanted)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exchange_event_time_wins_over_receive_time() {
        let cols = names(&["timestamp", "event_time_ms", "price"]);
        let got = resolve(Field::Ts, &cols, &ColumnOverrides::new());
        assert_eq!(got, Resolution::Found("event_time_ms".into()));
    }

    #[test]
    fn common_vendor_names_resolve_without_config() {
        let cols = names(&["Time", "PX", "Amount", "Bid_Price", "ask", "bid_size", "ask_qty"]);
        let none = ColumnOverrides::new();
        assert_eq!(resolve(Field::Ts, &cols, &none).found(), Some("Time"));
        assert_eq!(resolve(Field::Price, &cols, &none).found(), Some("PX"));
        assert_eq!(resolve(Field::Qty, &cols, &none).found(), Some("Amount"));
        assert_eq!(resolve(Field::BidPx, &cols, &none).found(), Some("Bid_Price"));
        assert_eq!(resolve(Field::AskPx, &cols, &none).found(), Some("ask"));
        assert_eq!(resolve(Field::BidSz, &cols, &none).found(), Some("bid_size"));
        assert_eq!(resolve(Field::AskSz, &cols, &none).found(), Some("ask_qty"));
    }

    #[test]
    fn an_override_replaces_the_aliases_and_must_exist() {
        let cols = names(&["price", "last"]);
        let mut map = ColumnOverrides::new();
        map.insert("price".into(), "last".into());
        assert_eq!(resolve(Field::Price, &cols, &map).found(), Some("last"));
        map.insert("qty".into(), "volume_traded".into());
        assert_eq!(
            resolve(Field::Qty, &cols, &map),
            Resolution::OverrideMissing("volume_traded".into())
        );
    }

    #[test]
    fn depth_levels_resolve_under_several_spellings() {
        let cols = names(&["bid_px_2", "bid_sz_2", "ask_price_2", "ask_size_2", "bid_3"]);
        let none = ColumnOverrides::new();
        assert_eq!(
            resolve_depth(BookSide::Bid, 2, &cols, &none),
            Some(("bid_px_2".into(), "bid_sz_2".into()))
        );
        assert_eq!(
            resolve_depth(BookSide::Ask, 2, &cols, &none),
            Some(("ask_price_2".into(), "ask_size_2".into()))
        );
        assert_eq!(resolve_depth(BookSide::Bid, 3, &cols, &none), None);
    }

    #[test]
    fn unknown_override_keys_are_rejected() {
        let mut map = ColumnOverrides::new();
        map.insert("bid_px_3".into(), "b3".into());
        assert!(validate_overrides(&map).is_ok());
        map.insert("prise".into(), "p".into());
        assert!(validate_overrides(&map).unwrap_err().contains("prise"));
    }
}
