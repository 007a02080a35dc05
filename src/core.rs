//! The small vocabulary shared by every stage: timestamps, ticks and bars.
//!
//! `TsNs` is the one time type inside divtune. `Trade` and `Quote` are what
//! the data stage hands to the feature stage; `Bar` is what the feature stage
//! hands to the detector. `Channels` records which order-flow indicators a
//! source can support, so that later stages work on whichever exist.

use serde::{Deserialize, Serialize};

/// Nanoseconds since the Unix epoch, UTC.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TsNs(pub i64);

impl TsNs {
    pub const NS_PER_SEC: i64 = 1_000_000_000;

    /// Seconds since the epoch as a float, for display and plotting only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::NS_PER_SEC as f64
    }

    /// The UTC calendar date, as `YYYY-MM-DD`.
    pub fn utc_date(self) -> String {
        self.to_utc().format("%Y-%m-%d").to_string()
    }

    /// RFC 3339 with millisecond precision, for reports and logs.
    pub fn to_rfc3339(self) -> String {
        self.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    pub fn to_utc(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_nanos(self.0)
    }
}

/// Which side took liquidity in a trade.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aggressor {
    Buy,
    Sell,
}

impl Aggressor {
    /// +1 for a buyer-initiated trade, -1 for a seller-initiated one.
    pub fn sign(self) -> f64 {
        match self {
            Aggressor::Buy => 1.0,
            Aggressor::Sell => -1.0,
        }
    }
}

/// One trade print.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Trade {
    pub ts: TsNs,
    pub px: f64,
    pub qty: f64,
    pub side: Aggressor,
}

/// Deepest book level divtune reads from a quote file.
pub const MAX_LEVELS: usize = 5;

/// One price level of one side of the book.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Level {
    pub px: f64,
    pub sz: f64,
}

/// A top-of-book (or top-N) snapshot. Levels past `depth` are unused.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Quote {
    pub ts: TsNs,
    pub bid: [Level; MAX_LEVELS],
    pub ask: [Level; MAX_LEVELS],
    pub depth: usize,
}

impl Quote {
    /// A quote with only the best level.
    pub fn top(ts: TsNs, bid_px: f64, bid_sz: f64, ask_px: f64, ask_sz: f64) -> Self {
        let mut bid = [Level::default(); MAX_LEVELS];
        let mut ask = [Level::default(); MAX_LEVELS];
        bid[0] = Level { px: bid_px, sz: bid_sz };
        ask[0] = Level { px: ask_px, sz: ask_sz };
        Quote { ts, bid, ask, depth: 1 }
    }

    pub fn mid(&self) -> f64 {
        0.5 * (self.bid[0].px + self.ask[0].px)
    }
}

/// The order-flow indicators a source can support.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    /// Order-flow imbalance: needs quotes.
    pub ofi: bool,
    /// Cumulative volume delta: needs signed trades.
    pub cvd: bool,
    /// The weighted blend of the two: needs both, or a recording that has it.
    pub fusion: bool,
}

impl Channels {
    pub const ALL: Channels = Channels { ofi: true, cvd: true, fusion: true };
    pub const CVD_ONLY: Channels = Channels { ofi: false, cvd: true, fusion: false };

    /// Human-readable list such as `ofi+cvd+fusion`.
    pub fn label(&self) -> String {
        let names: Vec<&str> = [(self.ofi, "ofi"), (self.cvd, "cvd"), (self.fusion, "fusion")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join("+")
        }
    }
}

/// One bar of the feature stream: everything the detector reads.
///
/// Indicators of channels the source does not have are NaN and must be
/// ignored by consumers (they consult `Channels`). `ts` is the bar's close
/// time: every value in the bar uses only data stamped at or before it.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Bar {
    pub ts: TsNs,
    /// Mid price when quotes exist, else the last trade price.
    pub price: f64,
    pub z_ofi: f64,
    pub z_cvd: f64,
    pub fusion: f64,
    /// Agreement of OFI and CVD in [0, 1]; NaN with fewer than two channels.
    pub consistency: f64,
    /// Trades in the bar, the raw input of the liquidity bucket.
    pub activity: f64,
}

/// A parameter outside its documented range. Every stage validates its own
/// parameters with this, so every such message reads the same way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parameter `{name}` must be in {range}, got {value}")]
pub struct ParamRangeError {
    pub name: String,
    pub range: String,
    pub value: String,
}

impl ParamRangeError {
    pub fn new(name: &str, range: &str, value: impl std::fmt::Display) -> Self {
        ParamRangeError {
            name: name.to_string(),
            range: range.to_string(),
            value: value.to_string(),
        }
    }
}
