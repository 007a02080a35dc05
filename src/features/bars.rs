//! How the tick stream is cut into bars: [`BarSpec`] and the time-bar clock.
//!
//! Time bars have a fixed length `L` in nanoseconds and are aligned to
//! multiples of `L` since the Unix epoch: bar `k` covers `[kL, (k+1)L)` and
//! is stamped with its close time `(k+1)L`. A tick stamped exactly at a
//! boundary belongs to the bar that starts there. Alignment uses floor
//! division, so timestamps before the epoch work too. Per-trade bars close
//! at each trade instead (see `FeatureStream`).
//!
//! `BarSpec` is written as a string: a positive whole number followed by a
//! unit (`ns`, `us`, `ms`, `s`, `m` for minutes, `h`), or `trade`. Examples:
//! `100ms`, `1s`, `5s`, `1m`, `trade`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::core::{ParamRangeError, TsNs};

const UNITS: [(&str, i64); 6] = [
    ("h", 3_600 * TsNs::NS_PER_SEC),
    ("m", 60 * TsNs::NS_PER_SEC),
    ("s", TsNs::NS_PER_SEC),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

const BAR_RANGE: &str = "a positive duration such as 100ms, 1s, 5s, 1m, or `trade`";

/// How ticks are grouped into bars.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BarSpec {
    /// Fixed-length bars aligned to the epoch; `ns` > 0.
    Time { ns: i64 },
    /// One bar per trade, closed at the trade's timestamp.
    PerTrade,
}

impl Default for BarSpec {
    fn default() -> Self {
        BarSpec::Time { ns: TsNs::NS_PER_SEC }
    }
}

impl FromStr for BarSpec {
    type Err = ParamRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text == "trade" {
            return Ok(BarSpec::PerTrade);
        }
        let err = || ParamRangeError::new("bar", BAR_RANGE, format!("{s:?}"));
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (digits, unit) = text.split_at(split);
        let count: i64 = digits.parse().map_err(|_| err())?;
        let unit_ns = UNITS.iter().find(|(name, _)| *name == unit).ok_or_else(err)?.1;
        match count.checked_mul(unit_ns) {
            Some(ns) if ns > 0 => Ok(BarSpec::Time { ns }),
            _ => Err(err()),
        }
    }
}

impl fmt::Display for BarSpec {
    /// The shortest form in the largest unit that divides the length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BarSpec::PerTrade => f.write_str("trade"),
            BarSpec::Time { ns } => {
                let (unit, unit_ns) = UNITS
                    .iter()
                    .find(|(_, unit_ns)| ns % unit_ns == 0)
                    .copied()
                    .unwrap_or(("ns", 1));
                write!(f, "{}{unit}", ns / unit_ns)
            }
        }
    }
}

impl Serialize for BarSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BarSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The bar-boundary bookkeeping of time bars.
///
/// Holds only the close time of the open bar, so the per-tick check is one
/// comparison.
#[derive(Clone, Debug)]
pub(crate) struct TimeBarClock {
    len_ns: i64,
    /// Close time of the bar in progress; `None` before the first tick and
    /// after `close_open`.
    open_end: Option<i64>,
}

impl TimeBarClock {
    pub(crate) fn new(len_ns: i64) -> Self {
        TimeBarClock { len_ns: len_ns.max(1), open_end: None }
    }

    /// Whether a bar is open and `ts` is before its close time.
    #[inline]
    pub(crate) fn is_open_before(&self, ts: TsNs) -> bool {
        self.open_end.is_some_and(|end| ts.0 < end)
    }

    /// If the open bar ends at or before `ts`, returns its close time and
    /// opens the bar right after it. Call until `None` to walk through
    /// every bar, empty ones included, up to the one containing `ts`.
    #[inline]
    pub(crate) fn close_due(&mut self, ts: TsNs) -> Option<TsNs> {
        match self.open_end {
            Some(end) if ts.0 >= end => {
                // Past i64::MAX no bar can close again.
                self.open_end = end.checked_add(self.len_ns);
                Some(TsNs(end))
            }
            _ => None,
        }
    }

    /// Opens the bar containing `ts` if no bar is open; returns its start.
    #[inline]
    pub(crate) fn open_if_closed(&mut self, ts: TsNs) -> Option<TsNs> {
        if self.open_end.is_some() {
            return None;
        }
        let start = ts.0.div_euclid(self.len_ns) * self.len_ns;
        self.open_end = start.checked_add(self.len_ns);
        Some(TsNs(start))
    }

    /// Closes the open bar, if any, returning its close time.
    pub(crate) fn close_open(&mut self) -> Option<TsNs> {
        self.open_end.take().map(TsNs)
    }

    pub(crate) fn reset(&mut self) {
        self.open_end = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closes_up_to(clock: &mut TimeBarClock, ts: i64) -> Vec<i64> {
        std::iter::from_fn(|| clock.close_due(TsNs(ts))).map(|t| t.0).collect()
    }

    #[test]
    fn bar_strings_parse_to_lengths_in_nanoseconds() {
        let cases = [
            ("100ms", 100_000_000),
            ("1s", 1_000_000_000),
            ("5s", 5_000_000_000),
            ("1m", 60_000_000_000),
            ("2h", 7_200_000_000_000),
            ("250us", 250_000),
            ("7ns", 7),
        ];
        for (text, ns) in cases {
            assert_eq!(text.parse::<BarSpec>().unwrap(), BarSpec::Time { ns }, "{text}");
        }
        assert_eq!("trade".parse::<BarSpec>().unwrap(), BarSpec::PerTrade);
    }

    #[test]
    fn malformed_or_non_positive_bar_strings_are_rejected() {
        for text in ["", "s", "0s", "-1s", "1.5s", "1 s", "1sec", "10d", "trades", "99999999999h"] {
            let err = text.parse::<BarSpec>().unwrap_err();
            assert_eq!(err.name, "bar", "{text}");
        }
    }

    #[test]
    fn display_uses_the_largest_whole_unit_and_round_trips() {
        let cases = [("1000ms", "1s"), ("90s", "90s"), ("120s", "2m"), ("1500ms", "1500ms")];
        for (input, shown) in cases {
            let spec: BarSpec = input.parse().unwrap();
            assert_eq!(spec.to_string(), shown);
            assert_eq!(shown.parse::<BarSpec>().unwrap(), spec);
        }
        assert_eq!(BarSpec::PerTrade.to_string(), "trade");
    }

    #[test]
    fn serde_reads_and_writes_the_string_form() {
        let spec: BarSpec = serde_json::from_str("\"5s\"").unwrap();
        assert_eq!(spec, BarSpec::Time { ns: 5_000_000_000 });
        assert_eq!(serde_json::to_string(&BarSpec::PerTrade).unwrap(), "\"trade\"");
        assert!(serde_json::from_str::<BarSpec>("\"0ms\"").is_err());
    }

    #[test]
    fn first_bar_is_aligned_to_a_multiple_of_its_length() {
        let mut clock = TimeBarClock::new(100);
        assert_eq!(clock.open_if_closed(TsNs(1234)), Some(TsNs(1200)));
        assert_eq!(clock.open_if_closed(TsNs(1250)), None);
        assert_eq!(closes_up_to(&mut clock, 1299), Vec::<i64>::new());
        assert_eq!(closes_up_to(&mut clock, 1300), vec![1300]);
    }

    #[test]
    fn alignment_floors_timestamps_before_the_epoch() {
        let mut clock = TimeBarClock::new(100);
        assert_eq!(clock.open_if_closed(TsNs(-1)), Some(TsNs(-100)));
        assert_eq!(closes_up_to(&mut clock, 0), vec![0]);
    }

    #[test]
    fn a_late_tick_walks_through_every_skipped_bar() {
        let mut clock = TimeBarClock::new(10);
        clock.open_if_closed(TsNs(5));
        assert_eq!(closes_up_to(&mut clock, 42), vec![10, 20, 30, 40]);
        assert_eq!(clock.close_open(), Some(TsNs(50)));
        assert_eq!(clock.close_open(), None);
    }

    #[test]
    fn bars_near_the_end_of_time_stop_closing_instead_of_overflowing() {
        let mut clock = TimeBarClock::new(10);
        clock.open_if_closed(TsNs(i64::MAX - 3));
        assert_eq!(closes_up_to(&mut clock, i64::MAX), Vec::<i64>::new());
    }
}
