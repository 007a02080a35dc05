//! Forward-return labels of detector events, and the base rates they are judged by.
//!
//! For an event at bar `i` and horizon `H` (in bars, counted like `Event::index`,
//! skipped bars included) the label is the simple return
//! `r = price[i + H] / price[i] - 1` from the confirming bar's price. With cost
//! `c = cost_bps / 10_000`, a directed event's outcome is:
//!
//! - `Hit` when `side.sign() * r > c` (right direction and beats the cost),
//! - `Flat` when `r == 0` exactly (its own outcome, never a hit),
//! - `Miss` otherwise (wrong direction, or right direction but `|r| <= c`).
//!
//! Conflict events (`Side::None`) get a return but no outcome. A label is empty
//! (`None`) when `i + H` is past the end of `prices`, when either price is not
//! finite, or when `price[i] <= 0` (a simple return needs a positive base).
//! Empty labels are kept and counted by [`summarize`], never dropped.
//!
//! [`base_rates`] gives, over every bar with a valid return `H` bars ahead, the
//! fraction with `r > c` (up) and `r < -c` (down): the hit rate of a coin that
//! always says bull or always says bear, which an event type must beat.

use serde::{Deserialize, Serialize};

use crate::core::ParamRangeError;
use crate::detector::{Event, Side};

/// Longest horizon accepted, in bars.
pub const MAX_HORIZON: usize = 100_000;
/// Largest cost accepted, in basis points (100 %).
pub const MAX_COST_BPS: f64 = 10_000.0;

/// Horizons and cost for labelling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelParams {
    /// Bars ahead, strictly increasing, each in [1, 100000]. Default [10, 20].
    pub horizons: Vec<usize>,
    /// Round-trip cost a return must beat, in basis points, in [0, 10000]. Default 0.
    pub cost_bps: f64,
}

impl Default for LabelParams {
    fn default() -> Self {
        LabelParams { horizons: vec![10, 20], cost_bps: 0.0 }
    }
}

impl LabelParams {
    /// Checks the horizon list (non-empty, strictly increasing, each in range) and cost.
    pub fn validate(&self) -> Result<(), ParamRangeError> {
        let range = format!("strictly increasing, non-empty, each in [1, {MAX_HORIZON}]");
        let mut prev = 0;
        for &h in &self.horizons {
            if h <= prev || h > MAX_HORIZON {
                return Err(ParamRangeError::new(
                    "horizons",
                    &range,
                    format!("{:?}", self.horizons),
                ));
            }
            prev = h;
        }
        if self.horizons.is_empty() {
            return Err(ParamRangeError::new("horizons", &range, "[]"));
        }
        if !(0.0..=MAX_COST_BPS).contains(&self.cost_bps) {
            return Err(ParamRangeError::new("cost_bps", "[0, 10000]", self.cost_bps));
        }
        Ok(())
    }

    fn cost(&self) -> f64 {
        self.cost_bps / 1e4
    }
}

/// How a directed event's forward return turned out.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Hit,
    Miss,
    Flat,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Flat => "flat",
        }
    }
}

/// One event's label at one horizon.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct HorizonLabel {
    pub horizon: usize,
    /// Simple return; `None` when not enough bars follow or a price is unusable.
    pub ret: Option<f64>,
    /// `None` when `ret` is `None` or the event has no direction.
    pub outcome: Option<Outcome>,
}

impl HorizonLabel {
    /// `Some(true)` for a hit, `Some(false)` for a miss or flat, `None` when undefined.
    pub fn hit(&self) -> Option<bool> {
        self.outcome.map(|o| o == Outcome::Hit)
    }
}

/// All horizons of one event, in `LabelParams::horizons` order.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLabels {
    /// The event's bar index.
    pub index: u64,
    pub side: Side,
    pub horizons: Vec<HorizonLabel>,
}

/// Simple return from bar `i` to bar `i + h`, if both prices allow one.
pub fn forward_return(prices: &[f64], i: usize, h: usize) -> Option<f64> {
    let (p0, p1) = (*prices.get(i)?, *prices.get(i.checked_add(h)?)?);
    (p0.is_finite() && p1.is_finite() && p0 > 0.0).then(|| p1 / p0 - 1.0)
}

/// Outcome of return `r` for `side` against cost `c` (a fraction, not bps).
pub fn outcome(side: Side, r: f64, c: f64) -> Option<Outcome> {
    if side == Side::None {
        return None;
    }
    let o = if r == 0.0 {
        Outcome::Flat
    } else if side.sign() * r > c {
        Outcome::Hit
    } else {
        Outcome::Miss
    };
    Some(o)
}

/// Labels every event at every horizon; one `EventLabels` per event, in order.
///
/// `prices[k]` is the price of bar `k`, indexed like `Event::index`.
pub fn label_events(
    events: &[Event],
    prices: &[f64],
    params: &LabelParams,
) -> Result<Vec<EventLabels>, ParamRangeError> {
    params.validate()?;
    let c = params.cost();
    let label = |e: &Event| {
        let horizons = params
            .horizons
            .iter()
            .map(|&h| {
                let ret = usize::try_from(e.index).ok().and_then(|i| forward_return(prices, i, h));
                HorizonLabel { horizon: h, ret, outcome: ret.and_then(|r| outcome(e.side, r, c)) }
            })
            .collect();
        EventLabels { index: e.index, side: e.side, horizons }
    };
    Ok(events.iter().map(label).collect())
}

/// Counts of labels at one horizon. `events = unlabeled + undirected + hits + misses + flats`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelCounts {
    pub horizon: usize,
    pub events: u64,
    /// No return: too close to the end of the data or an unusable price.
    pub unlabeled: u64,
    /// A return but no direction (conflicts).
    pub undirected: u64,
    pub hits: u64,
    pub misses: u64,
    pub flats: u64,
}

/// Per-horizon counts over `labels` (horizons taken from `params`).
pub fn summarize(labels: &[EventLabels], params: &LabelParams) -> Vec<LabelCounts> {
    let mut out: Vec<LabelCounts> =
        params.horizons.iter().map(|&h| LabelCounts { horizon: h, ..Default::default() }).collect();
    for l in labels {
        for (c, hl) in out.iter_mut().zip(&l.horizons) {
            c.events += 1;
            match (hl.ret, hl.outcome) {
                (None, _) => c.unlabeled += 1,
                (Some(_), None) => c.undirected += 1,
                (Some(_), Some(Outcome::Hit)) => c.hits += 1,
                (Some(_), Some(Outcome::Miss)) => c.misses += 1,
                (Some(_), Some(Outcome::Flat)) => c.flats += 1,
            }
        }
    }
    out
}

/// Unconditional move frequencies at one horizon.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct BaseRate {
    pub horizon: usize,
    /// Bars with a valid return `horizon` bars ahead.
    pub bars: u64,
    /// Of those, returns above the cost.
    pub up: u64,
    /// Of those, returns below minus the cost.
    pub down: u64,
}

impl BaseRate {
    /// `up / bars`; `None` when no bar had a valid return.
    pub fn up_rate(&self) -> Option<f64> {
        (self.bars > 0).then(|| self.up as f64 / self.bars as f64)
    }

    /// `down / bars`; `None` when no bar had a valid return.
    pub fn down_rate(&self) -> Option<f64> {
        (self.bars > 0).then(|| self.down as f64 / self.bars as f64)
    }
}

/// Base rate at `horizon` over all bars of `prices`, against `cost_bps`.
pub fn base_rate(prices: &[f64], horizon: usize, cost_bps: f64) -> BaseRate {
    let c = cost_bps / 1e4;
    let mut b = BaseRate { horizon, ..Default::default() };
    for i in 0..prices.len().saturating_sub(horizon) {
        let Some(r) = forward_return(prices, i, horizon) else { continue };
        b.bars += 1;
        b.up += (r > c) as u64;
        b.down += (r < -c) as u64;
    }
    b
}

/// [`base_rate`] at each of `params.horizons`.
pub fn base_rates(prices: &[f64], params: &LabelParams) -> Result<Vec<BaseRate>, ParamRangeError> {
    params.validate()?;
    Ok(params.horizons.iter().map(|&h| base_rate(prices, h, params.cost_bps)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::TsNs;
    use crate::detector::{Channel, ChannelSet, EventKind, Reasons};

    fn event(index: u64, side: Side) -> Event {
        let kind = if side == Side::None { EventKind::Conflict } else { EventKind::Regular };
        Event {
            index,
            ts: TsNs(0),
            price: 0.0,
            kind,
            side,
            channels: ChannelSet::EMPTY.with(Channel::Cvd),
            primary: Channel::Cvd,
            score: 50.0,
            pivot_a: None,
            pivot_b: None,
            reasons: Reasons::default(),
        }
    }

    fn params(h: &[usize], cost_bps: f64) -> LabelParams {
        LabelParams { horizons: h.to_vec(), cost_bps }
    }

    #[test]
    fn bull_hit_bear_miss_and_exact_simple_returns() {
        let prices = [100.0, 101.0, 102.0, 99.0];
        let ev = [event(0, Side::Bull), event(1, Side::Bear)];
        let l = label_events(&ev, &prices, &params(&[2], 0.0)).unwrap();
        assert_eq!(l[0].horizons[0].ret, Some(102.0 / 100.0 - 1.0));
        assert_eq!(l[0].horizons[0].outcome, Some(Outcome::Hit));
        assert_eq!(l[1].horizons[0].ret, Some(99.0 / 101.0 - 1.0));
        assert_eq!(l[1].horizons[0].outcome, Some(Outcome::Hit));
        let l = label_events(&[event(0, Side::Bear)], &prices, &params(&[2], 0.0)).unwrap();
        assert_eq!(l[0].horizons[0].hit(), Some(false));
    }

    #[test]
    fn a_zero_return_is_flat_not_a_hit() {
        let l = label_events(&[event(0, Side::Bull)], &[5.0, 5.0], &params(&[1], 0.0)).unwrap();
        assert_eq!(
            (l[0].horizons[0].outcome, l[0].horizons[0].hit()),
            (Some(Outcome::Flat), Some(false))
        );
    }

    #[test]
    fn a_right_move_that_does_not_beat_the_cost_is_a_miss() {
        // +0.1 % = 10 bps: beats 9.99 bps, not 10.01 bps.
        let prices = [100.0, 100.1];
        let o = |bps| {
            let labels = label_events(&[event(0, Side::Bull)], &prices, &params(&[1], bps));
            labels.unwrap()[0].horizons[0].outcome
        };
        assert_eq!(o(9.99), Some(Outcome::Hit));
        assert_eq!(o(10.01), Some(Outcome::Miss));
    }

    #[test]
    fn conflicts_get_a_return_but_no_outcome() {
        let l = label_events(&[event(0, Side::None)], &[100.0, 90.0], &params(&[1], 0.0)).unwrap();
        assert_eq!(l[0].horizons[0].ret, Some(90.0 / 100.0 - 1.0));
        assert_eq!(l[0].horizons[0].hit(), None);
    }

    #[test]
    fn events_too_near_the_end_or_on_bad_prices_are_kept_with_empty_labels_and_counted() {
        let prices = [100.0, f64::NAN, 101.0, 0.0, 102.0, 103.0];
        let ev = [
            event(0, Side::Bull),
            event(1, Side::Bull),
            event(3, Side::Bull),
            event(4, Side::Bull),
            event(9, Side::Bear),
        ];
        let p = params(&[1, 2], 0.0);
        let l = label_events(&ev, &prices, &p).unwrap();
        assert_eq!(l.len(), 5);
        let rets: Vec<Vec<Option<f64>>> =
            l.iter().map(|e| e.horizons.iter().map(|h| h.ret).collect()).collect();
        // Bar 0: +1 is NaN, +2 is 101. Bar 1: NaN base. Bar 3: zero base.
        // Bar 4: +1 ok, +2 past the end. Bar 9: past the end.
        assert_eq!(rets[0], vec![None, Some(101.0 / 100.0 - 1.0)]);
        assert_eq!((rets[1].clone(), rets[2].clone()), (vec![None, None], vec![None, None]));
        assert_eq!(rets[3], vec![Some(103.0 / 102.0 - 1.0), None]);
        assert_eq!(rets[4], vec![None, None]);

        let counts = summarize(&l, &p);
        assert_eq!(
            counts[0],
            LabelCounts { horizon: 1, events: 5, unlabeled: 4, hits: 1, ..Default::default() }
        );
        assert_eq!(
            counts[1],
            LabelCounts { horizon: 2, events: 5, unlabeled: 4, hits: 1, ..Default::default() }
        );
    }

    #[test]
    fn no_events_give_no_labels_and_zero_counts() {
        let p = LabelParams::default();
        let l = label_events(&[], &[1.0, 2.0], &p).unwrap();
        assert!(l.is_empty());
        assert_eq!(summarize(&l, &p)[1], LabelCounts { horizon: 20, ..Default::default() });
    }

    #[test]
    fn base_rate_counts_up_and_down_moves_beyond_the_cost() {
        // Returns at h = 1: +1 %, 0, -0.5 %, +0.05 %; NaN bar excluded both ways.
        let prices = [100.0, 101.0, 101.0, 100.495, 100.545_247_5, f64::NAN];
        let b = base_rate(&prices, 1, 0.0);
        assert_eq!((b.bars, b.up, b.down), (4, 2, 1));
        let b = base_rate(&prices, 1, 10.0);
        assert_eq!((b.bars, b.up, b.down), (4, 1, 1));
        assert_eq!((b.up_rate(), b.down_rate()), (Some(0.25), Some(0.25)));
    }

    #[test]
    fn base_rate_of_too_short_or_empty_input_has_no_rate() {
        let b = base_rate(&[100.0, 101.0], 5, 0.0);
        assert_eq!((b.bars, b.up_rate()), (0, None));
        assert_eq!(base_rate(&[], 1, 0.0).down_rate(), None);
    }

    #[test]
    fn base_rates_follow_the_horizon_list() {
        let prices: Vec<f64> = (0..30).map(|i| 100.0 + i as f64).collect();
        let r = base_rates(&prices, &LabelParams::default()).unwrap();
        assert_eq!((r[0].horizon, r[0].bars, r[0].up), (10, 20, 20));
        assert_eq!((r[1].horizon, r[1].bars, r[1].down), (20, 10, 0));
    }

    #[test]
    fn validation_rejects_bad_horizons_and_costs() {
        let bad = |p: LabelParams| p.validate().unwrap_err().name;
        assert_eq!(bad(params(&[], 0.0)), "horizons");
        assert_eq!(bad(params(&[0], 0.0)), "horizons");
        assert_eq!(bad(params(&[20, 10], 0.0)), "horizons");
        assert_eq!(bad(params(&[10, 10], 0.0)), "horizons");
        assert_eq!(bad(params(&[100_001], 0.0)), "horizons");
        assert_eq!(bad(params(&[10], -1.0)), "cost_bps");
        assert_eq!(bad(params(&[10], f64::NAN)), "cost_bps");
        assert_eq!(bad(params(&[10], 10_001.0)), "cost_bps");
        assert_eq!(LabelParams::default().validate(), Ok(()));
        assert!(label_events(&[], &[], &params(&[], 0.0)).is_err());
    }

    #[test]
    fn label_params_from_yaml_take_defaults_and_reject_unknown_fields() {
        let p: LabelParams = serde_yaml::from_str("cost_bps: 2.5\n").unwrap();
        assert_eq!(p, LabelParams { horizons: vec![10, 20], cost_bps: 2.5 });
        assert!(serde_yaml::from_str::<LabelParams>("horizon: [5]\n").is_err());
    }
}
