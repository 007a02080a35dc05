//! Timestamp units: detection from the values, forcing from the config, and
//! conversion to the one internal type, `TsNs`.
//!
//! Vendors store event time as integer seconds, milliseconds, microseconds or
//! nanoseconds, as float seconds, or as a Parquet timestamp type. For plain
//! numbers the unit is read off the magnitude of the values: any date between
//! 1973 and 2286 has a distinct order of magnitude in each unit.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The unit of a raw numeric timestamp column.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TsUnit {
    S,
    Ms,
    Us,
    Ns,
}

impl TsUnit {
    /// Nanoseconds in one unit.
    pub fn ns_per_unit(self) -> i64 {
        match self {
            TsUnit::S => 1_000_000_000,
            TsUnit::Ms => 1_000_000,
            TsUnit::Us => 1_000,
            TsUnit::Ns => 1,
        }
    }

    /// The unit whose range contains `magnitude`, the absolute value of a
    /// typical timestamp. Seconds since the epoch stay below 1e11 until the
    /// year 5138, and each finer unit multiplies by 1000, so the boundaries
    /// 1e11, 1e14 and 1e17 separate the units for dates after 1973.
    pub fn from_magnitude(magnitude: f64) -> TsUnit {
        if magnitude < 1e11 {
            TsUnit::S
        } else if magnitude < 1e14 {
            TsUnit::Ms
        } else if magnitude < 1e17 {
            TsUnit::Us
        } else {
            TsUnit::Ns
        }
    }

    /// Converts an integer in this unit to nanoseconds; `None` on overflow.
    pub fn int_to_ns(self, value: i64) -> Option<i64> {
        value.checked_mul(self.ns_per_unit())
    }

    /// Converts a float in this unit to nanoseconds; `None` for NaN,
    /// infinities and values out of range. The whole and fractional parts
    /// are scaled separately: a float of epoch seconds resolves about 0.2
    /// microseconds, and scaling it whole would add rounding of its own.
    pub fn float_to_ns(self, value: f64) -> Option<i64> {
        if !value.is_finite() || value.abs() * self.ns_per_unit() as f64 >= i64::MAX as f64 {
            return None;
        }
        let whole = value.floor();
        let frac_ns = ((value - whole) * self.ns_per_unit() as f64).round() as i64;
        (whole as i64).checked_mul(self.ns_per_unit())?.checked_add(frac_ns)
    }
}

impl fmt::Display for TsUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TsUnit::S => "s",
            TsUnit::Ms => "ms",
            TsUnit::Us => "us",
            TsUnit::Ns => "ns",
        })
    }
}

impl FromStr for TsUnit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "s" => Ok(TsUnit::S),
            "ms" => Ok(TsUnit::Ms),
            "us" => Ok(TsUnit::Us),
            "ns" => Ok(TsUnit::Ns),
            other => Err(format!("unknown timestamp unit `{other}`: use s, ms, us or ns")),
        }
    }
}

/// Detects the unit of a column from the median magnitude of its finite,
/// non-zero values. The median, not the first value, so that a few corrupt
/// rows cannot flip the unit of a whole file. `None` when nothing is usable.
pub fn detect_unit(values: impl Iterator<Item = f64>) -> Option<TsUnit> {
    let mut magnitudes: Vec<f64> =
        values.filter(|v| v.is_finite() && *v != 0.0).map(f64::abs).collect();
    if magnitudes.is_empty() {
        return None;
    }
    let mid = magnitudes.len() / 2;
    let (_, median, _) = magnitudes.select_nth_unstable_by(mid, f64::total_cmp);
    Some(TsUnit::from_magnitude(*median))
}

/// Parses a duration such as `250ms`, `1s`, `5m`, `2h` or `1500us` into
/// nanoseconds. Used for bar lengths and gap limits in the config.
pub fn parse_duration_ns(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write e.g. 100ms, 1s, 5m or 2h"))?;
    let ns_per_unit = match unit.trim() {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` in `{text}`: use ns, us, ms, s, m or h"
            ))
        }
    };
    let ns = (value * ns_per_unit).round();
    if ns < 1.0 || ns > i64::MAX as f64 {
        return Err(format!("duration `{text}` must be positive and below 292 years"));
    }
    Ok(ns as i64)
}

/// Formats nanoseconds as the shortest exact duration string (`100ms`, `1s`).
pub fn format_duration_ns(ns: i64) -> String {
    for (unit, size) in [("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000)] {
        if ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    for (unit, size) in [("ms", 1_000_000), ("us", 1_000)] {
        if ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_unit_from_a_2024_timestamp() {
        let secs = 1_722_000_000.0;
        assert_eq!(detect_unit([secs].into_iter()), Some(TsUnit::S));
        assert_eq!(detect_unit([secs * 1e3].into_iter()), Some(TsUnit::Ms));
        assert_eq!(detect_unit([secs * 1e6].into_iter()), Some(TsUnit::Us));
        assert_eq!(detect_unit([secs * 1e9].into_iter()), Some(TsUnit::Ns));
    }

    #[test]
    fn float_seconds_with_fraction_are_seconds() {
        let unit = detect_unit([1_760_714_954.668_082_2].into_iter()).unwrap();
        assert_eq!(unit, TsUnit::S);
        assert_eq!(unit.float_to_ns(1_760_714_954.5), Some(1_760_714_954_500_000_000));
    }

    #[test]
    fn a_few_corrupt_values_do_not_change_the_detected_unit() {
        let mut values = vec![1.7e12; 9];
        values.extend([5.0, 9e18]);
        assert_eq!(detect_unit(values.into_iter()), Some(TsUnit::Ms));
    }

    #[test]
    fn no_usable_value_detects_nothing() {
        assert_eq!(detect_unit([f64::NAN, 0.0].into_iter()), None);
        assert_eq!(detect_unit(std::iter::empty()), None);
    }

    #[test]
    fn integer_conversion_reports_overflow() {
        assert_eq!(TsUnit::Ms.int_to_ns(1_722_000_000_123), Some(1_722_000_000_123_000_000));
        assert_eq!(TsUnit::S.int_to_ns(i64::MAX / 10), None);
        assert_eq!(TsUnit::S.float_to_ns(f64::NAN), None);
    }

    #[test]
    fn durations_parse_and_format_round_trip() {
        for (text, ns) in [("100ms", 100_000_000), ("1s", 1_000_000_000), ("5m", 300_000_000_000)] {
            assert_eq!(parse_duration_ns(text), Ok(ns));
            assert_eq!(format_duration_ns(ns), text);
        }
        assert_eq!(parse_duration_ns("1.5s"), Ok(1_500_000_000));
        assert!(parse_duration_ns("fast").is_err());
        assert!(parse_duration_ns("10 parsecs").is_err());
        assert!(parse_duration_ns("0s").is_err());
    }
}
