//! Row validation: each rule drops the offending rows and counts them by
//! reason, per file, so that the run summary and `data_quality.json` say
//! exactly what was removed and why.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a row was dropped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The timestamp is null or out of range.
    TsMissing,
    /// The timestamp is earlier than one already seen in the same file.
    TsBackwards,
    PriceNotFinite,
    PriceNotPositive,
    QtyNotFinite,
    QtyNotPositive,
    /// The side column is null.
    SideMissing,
    /// Best bid above best ask.
    QuoteCrossed,
    /// Best bid equal to best ask.
    QuoteLocked,
    /// Identical in every field to an earlier row at the same time, in this
    /// file or an earlier file of the same unit.
    Duplicate,
}

impl DropReason {
    pub const ALL: [DropReason; 10] = [
        DropReason::TsMissing,
        DropReason::TsBackwards,
        DropReason::PriceNotFinite,
        DropReason::PriceNotPositive,
        DropReason::QtyNotFinite,
        DropReason::QtyNotPositive,
        DropReason::SideMissing,
        DropReason::QuoteCrossed,
        DropReason::QuoteLocked,
        DropReason::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::TsMissing => "ts_missing",
            DropReason::TsBackwards => "ts_backwards",
            DropReason::PriceNotFinite => "price_not_finite",
            DropReason::PriceNotPositive => "price_not_positive",
            DropReason::QtyNotFinite => "qty_not_finite",
            DropReason::QtyNotPositive => "qty_not_positive",
            DropReason::SideMissing => "side_missing",
            DropReason::QuoteCrossed => "quote_crossed",
            DropReason::QuoteLocked => "quote_locked",
            DropReason::Duplicate => "duplicate",
        }
    }
}

/// Dropped-row counts by reason. Serialises as a map with every reason, in
/// a fixed order, so that the JSON schema does not depend on the data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropCounts([u64; DropReason::ALL.len()]);

impl DropCounts {
    pub fn add(&mut self, reason: DropReason) {
        self.0[reason as usize] += 1;
    }

    pub fn get(&self, reason: DropReason) -> u64 {
        self.0[reason as usize]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    pub fn merge(&mut self, other: &DropCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// `reason=count` for the non-zero reasons, for one-line summaries.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = DropReason::ALL
            .iter()
            .filter(|r| self.get(**r) > 0)
            .map(|r| format!("{}={}", r.as_str(), self.get(*r)))
            .collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(" ")
        }
    }
}

impl Serialize for DropCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(DropReason::ALL.len()))?;
        for reason in DropReason::ALL {
            map.serialize_entry(reason.as_str(), &self.get(reason))?;
        }
        map.end()
    }
}

/// Reads the map [`Serialize`] writes; a reason missing from it counts 0.
impl<'de> Deserialize<'de> for DropCounts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let named = std::collections::BTreeMap::<String, u64>::deserialize(deserializer)?;
        let mut counts = DropCounts::default();
        for (name, n) in named {
            let reason = DropReason::ALL
                .into_iter()
                .find(|r| r.as_str() == name)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown drop reason {name:?}")))?;
            counts.0[reason as usize] = n;
        }
        Ok(counts)
    }
}

/// Checks a price: finite and positive.
pub fn check_price(px: Option<f64>) -> Result<f64, DropReason> {
    match px {
        Some(p) if !p.is_finite() => Err(DropReason::PriceNotFinite),
        None => Err(DropReason::PriceNotFinite),
        Some(p) if p <= 0.0 => Err(DropReason::PriceNotPositive),
        Some(p) => Ok(p),
    }
}

/// Checks a quantity or book size: finite and positive.
pub fn check_qty(qty: Option<f64>) -> Result<f64, DropReason> {
    match qty {
        Some(q) if !q.is_finite() => Err(DropReason::QtyNotFinite),
        None => Err(DropReason::QtyNotFinite),
        Some(q) if q <= 0.0 => Err(DropReason::QtyNotPositive),
        Some(q) => Ok(q),
    }
}

/// Checks that the best bid is strictly below the best ask.
pub fn check_book(bid: f64, ask: f64) -> Result<(), DropReason> {
    if bid > ask {
        Err(DropReason::QuoteCrossed)
    } else if bid == ask {
        Err(DropReason::QuoteLocked)
    } else {
        Ok(())
    }
}

/// Tracks the latest timestamp kept in one file: a row earlier than it went
/// backwards. Equal timestamps are allowed (several prints per instant).
#[derive(Default)]
pub struct MonotoneClock {
    latest: Option<i64>,
}

impl MonotoneClock {
    pub fn check(&mut self, ts: Option<i64>) -> Result<i64, DropReason> {
        let ts = ts.ok_or(DropReason::TsMissing)?;
        if self.latest.is_some_and(|latest| ts < latest) {
            return Err(DropReason::TsBackwards);
        }
        self.latest = Some(ts);
        Ok(ts)
    }
}

/// Removes exact duplicates from a time-sorted sequence: rows equal to an
/// earlier row with the same timestamp. `same_time` and `same_row` compare
/// two rows; `on_drop` is told the index of each dropped row (so the caller
/// can charge it to the file it came from). Work is linear in the length
/// plus the square of the largest same-time run, which is small in practice.
pub fn dedup_sorted<T>(
    rows: Vec<T>,
    same_time: impl Fn(&T, &T) -> bool,
    same_row: impl Fn(&T, &T) -> bool,
    mut on_drop: impl FnMut(usize),
) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(rows.len());
    let mut run_start = 0;
    for (i, row) in rows.into_iter().enumerate() {
        if kept.last().is_some_and(|last| !same_time(last, &row)) {
            run_start = kept.len();
        }
        if kept[run_start..].iter().any(|k| same_row(k, &row)) {
            on_drop(i);
        } else {
            kept.push(row);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_must_be_finite_and_positive() {
        assert_eq!(check_price(Some(1.5)), Ok(1.5));
        assert_eq!(check_price(Some(f64::NAN)), Err(DropReason::PriceNotFinite));
        assert_eq!(check_price(Some(f64::INFINITY)), Err(DropReason::PriceNotFinite));
        assert_eq!(check_price(None), Err(DropReason::PriceNotFinite));
        assert_eq!(check_price(Some(0.0)), Err(DropReason::PriceNotPositive));
        assert_eq!(check_price(Some(-3.0)), Err(DropReason::PriceNotPositive));
    }

    #[test]
    fn quantities_must_be_finite_and_positive() {
        assert_eq!(check_qty(Some(0.01)), Ok(0.01));
        assert_eq!(check_qty(Some(f64::NEG_INFINITY)), Err(DropReason::QtyNotFinite));
        assert_eq!(check_qty(Some(0.0)), Err(DropReason::QtyNotPositive));
    }

    #[test]
    fn crossed_and_locked_books_are_told_apart() {
        assert_eq!(check_book(99.0, 100.0), Ok(()));
        assert_eq!(check_book(100.0, 100.0), Err(DropReason::QuoteLocked));
        assert_eq!(check_book(100.5, 100.0), Err(DropReason::QuoteCrossed));
    }

    #[test]
    fn timestamps_going_backwards_are_dropped_but_repeats_are_kept() {
        let mut clock = MonotoneClock::default();
        let got: Vec<_> = [Some(5), Some(5), Some(3), Some(7), None, Some(6)]
            .into_iter()
            .map(|t| clock.check(t))
            .collect();
        use DropReason::*;
        assert_eq!(
            got,
            vec![Ok(5), Ok(5), Err(TsBackwards), Ok(7), Err(TsMissing), Err(TsBackwards)]
        );
    }

    #[test]
    fn exact_duplicates_at_the_same_time_are_dropped_even_when_not_adjacent() {
        let rows = vec![(1, 'a'), (1, 'b'), (1, 'a'), (2, 'a'), (2, 'a'), (3, 'b')];
        let mut dropped = Vec::new();
        let kept = dedup_sorted(rows, |x, y| x.0 == y.0, |x, y| x == y, |i| dropped.push(i));
        assert_eq!(kept, vec![(1, 'a'), (1, 'b'), (2, 'a'), (3, 'b')]);
        assert_eq!(dropped, vec![2, 4]);
    }

    #[test]
    fn drop_counts_serialise_every_reason_in_a_fixed_order() {
        let mut counts = DropCounts::default();
        counts.add(DropReason::Duplicate);
        counts.add(DropReason::Duplicate);
        let json = serde_json::to_string(&counts).unwrap();
        assert!(json.starts_with("{\"ts_missing\":0,"), "{json}");
        assert!(json.ends_with("\"duplicate\":2}"), "{json}");
        assert_eq!(counts.summary(), "duplicate=2");
    }
}
