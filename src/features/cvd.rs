//! Cumulative volume delta (CVD): the running sum of signed traded quantity.
//!
//! ```text
//! CVD_n = CVD_n-1 + s_n q_n,   s_n = +1 for a buyer-initiated trade, -1 for a seller
//! ```
//!
//! The sign comes from `Trade::side` as recorded by the venue; no tick-rule
//! inference happens here. [`Cvd`] keeps two quantities per bar:
//!
//! - the *delta*: the signed volume of the bar alone (the per-bar change of
//!   CVD). It does not depend on any reset, so a reset never shows up as a
//!   jump;
//! - the *level*: the CVD itself, which starts at 0 for every stream (a new
//!   segment) and, with [`CvdReset::Daily`], again at the first instant of
//!   each new UTC calendar day that the stream observes (a bar opening or a
//!   trade).
//!
//! [`CvdMode`] picks which of the two the z-score reads. A bar without
//! trades has delta 0 and carries the level forward.

use serde::{Deserialize, Serialize};

use crate::core::{Trade, TsNs};

const NS_PER_DAY: i64 = 86_400 * TsNs::NS_PER_SEC;

/// When the CVD level returns to 0 within one stream.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CvdReset {
    /// Only at the start of a stream (construction or `reset`).
    #[default]
    Never,
    /// Also at each UTC midnight.
    Daily,
}

/// Which CVD series the z-score reads.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CvdMode {
    /// The bar's signed volume (the per-bar change of CVD).
    #[default]
    Delta,
    /// The CVD level at the bar's close.
    Level,
}

/// Streaming CVD with a per-bar delta accumulator.
#[derive(Clone, Debug)]
pub struct Cvd {
    reset: CvdReset,
    level: f64,
    bar_delta: f64,
    /// Start of the UTC day after the latest observed time (daily reset
    /// only); `None` before the first observation.
    next_midnight: Option<i64>,
}

impl Cvd {
    /// A CVD at level 0 with no day seen yet.
    pub fn new(reset: CvdReset) -> Self {
        Cvd { reset, level: 0.0, bar_delta: 0.0, next_midnight: None }
    }

    /// Applies the daily reset if `ts` falls on a later UTC day than the
    /// last time seen. Call it when a bar opens and before each trade.
    #[inline]
    pub fn observe_time(&mut self, ts: TsNs) {
        if self.reset == CvdReset::Never || self.next_midnight.is_some_and(|m| ts.0 < m) {
            return;
        }
        if self.next_midnight.is_some() {
            self.level = 0.0;
        }
        // The division only runs once per day, not once per trade.
        let day = ts.0.div_euclid(NS_PER_DAY);
        self.next_midnight = Some(day.saturating_add(1).saturating_mul(NS_PER_DAY));
    }

    /// Adds one trade (after applying the daily reset at its time).
    #[inline]
    pub fn push(&mut self, trade: &Trade) {
        self.observe_time(trade.ts);
        let signed = trade.side.sign() * trade.qty;
        self.level += signed;
        self.bar_delta += signed;
    }

    /// The current CVD level.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// The value of the bar just closed in `mode`; starts a new bar.
    pub fn take_bar_value(&mut self, mode: CvdMode) -> f64 {
        let delta = std::mem::take(&mut self.bar_delta);
        match mode {
            CvdMode::Delta => delta,
            CvdMode::Level => self.level,
        }
    }

    /// Back to the start of a stream: level 0, no day seen.
    pub fn reset(&mut self) {
        *self = Cvd::new(self.reset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Aggressor;
    use crate::core::Aggressor::{Buy, Sell};

    fn trade(ts_ns: i64, qty: f64, side: Aggressor) -> Trade {
        Trade { ts: TsNs(ts_ns), px: 100.0, qty, side }
    }

    #[test]
    fn level_is_the_running_sum_of_signed_quantity() {
        let mut cvd = Cvd::new(CvdReset::Never);
        let levels: Vec<f64> = [(2.0, Buy), (5.0, Sell), (1.5, Buy)]
            .iter()
            .map(|&(qty, side)| {
                cvd.push(&trade(0, qty, side));
                cvd.level()
            })
            .collect();
        assert_eq!(levels, [2.0, -3.0, -1.5]);
    }

    #[test]
    fn delta_mode_returns_each_bars_signed_volume() {
        let mut cvd = Cvd::new(CvdReset::Never);
        cvd.push(&trade(0, 2.0, Buy));
        cvd.push(&trade(1, 5.0, Sell));
        assert_eq!(cvd.take_bar_value(CvdMode::Delta), -3.0);
        assert_eq!(cvd.take_bar_value(CvdMode::Delta), 0.0);
        cvd.push(&trade(2, 4.0, Buy));
        assert_eq!(cvd.take_bar_value(CvdMode::Delta), 4.0);
    }

    #[test]
    fn level_mode_returns_the_level_and_carries_it_through_empty_bars() {
        let mut cvd = Cvd::new(CvdReset::Never);
        cvd.push(&trade(0, 2.0, Buy));
        assert_eq!(cvd.take_bar_value(CvdMode::Level), 2.0);
        assert_eq!(cvd.take_bar_value(CvdMode::Level), 2.0);
        cvd.push(&trade(1, 7.0, Sell));
        assert_eq!(cvd.take_bar_value(CvdMode::Level), -5.0);
    }

    #[test]
    fn daily_reset_zeroes_the_level_at_the_first_time_of_a_new_utc_day() {
        let mut cvd = Cvd::new(CvdReset::Daily);
        cvd.push(&trade(NS_PER_DAY - 1, 3.0, Buy));
        cvd.push(&trade(NS_PER_DAY, 1.0, Sell));
        assert_eq!(cvd.level(), -1.0);
        // A bar opening on the next day resets before any trade arrives.
        cvd.observe_time(TsNs(2 * NS_PER_DAY));
        assert_eq!(cvd.level(), 0.0);
    }

    #[test]
    fn daily_reset_leaves_the_bar_delta_alone() {
        let mut cvd = Cvd::new(CvdReset::Daily);
        cvd.push(&trade(NS_PER_DAY - 1, 3.0, Buy));
        cvd.push(&trade(NS_PER_DAY, 1.0, Sell));
        assert_eq!(cvd.take_bar_value(CvdMode::Delta), 2.0);
    }

    #[test]
    fn never_reset_keeps_the_level_across_midnight() {
        let mut cvd = Cvd::new(CvdReset::Never);
        cvd.push(&trade(NS_PER_DAY - 1, 3.0, Buy));
        cvd.push(&trade(NS_PER_DAY, 1.0, Sell));
        assert_eq!(cvd.level(), 2.0);
    }

    #[test]
    fn days_before_the_epoch_are_counted_with_floor_division() {
        let mut cvd = Cvd::new(CvdReset::Daily);
        cvd.push(&trade(-1, 3.0, Buy));
        cvd.push(&trade(0, 1.0, Buy));
        assert_eq!(cvd.level(), 1.0);
    }

    #[test]
    fn reset_starts_a_new_segment_at_zero() {
        let mut cvd = Cvd::new(CvdReset::Never);
        cvd.push(&trade(0, 3.0, Buy));
        cvd.reset();
        assert_eq!(cvd.level(), 0.0);
        assert_eq!(cvd.take_bar_value(CvdMode::Delta), 0.0);
    }
}
