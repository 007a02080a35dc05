//! Order-flow imbalance (OFI) of successive book snapshots.
//!
//! Cont, Kukanov and Stoikov (2014), "The price impact of order book
//! events", Journal of Financial Econometrics 12(1), measure the net order
//! flow between snapshot `n-1` and snapshot `n` at the best level as
//!
//! ```text
//! e_n =  1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1
//!      - 1{Pa_n <= Pa_n-1} qa_n + 1{Pa_n >= Pa_n-1} qa_n-1
//! ```
//!
//! A bid that moves up counts its whole new size as buying pressure, one
//! that moves down counts its whole old size as selling pressure, and an
//! unchanged price (the tie, where both indicators are 1) counts only the
//! size change. The ask side is the mirror image.
//!
//! Xu, Gould and Howison (2019), "Multi-level order-flow imbalance", apply
//! the same formula at each of the first few levels; [`Ofi`] blends them as
//! a weighted sum with weights normalised to 1. When a snapshot is
//! shallower than the configured levels, only the `min(depth_prev,
//! depth_now, levels)` levels present in both snapshots are used and their
//! weights are re-normalised to sum 1, so the scale of the series does not
//! drop while the book is thin. If every used level has weight 0 the
//! update contributes 0.
//!
//! The first snapshot after construction or `reset` has nothing to compare
//! with and contributes 0. A snapshot with depth 0 or a non-finite price or
//! size in a used level is rejected by [`Ofi::accepts`] and must be skipped.
//! Main type: [`Ofi`], which also sums the flow of the bar in progress.

use crate::core::{Level, Quote, MAX_LEVELS};

/// Flow at one book level between two snapshots (the formula above).
pub fn level_flow(bid_prev: Level, bid: Level, ask_prev: Level, ask: Level) -> f64 {
    let mut e = 0.0;
    if bid.px >= bid_prev.px {
        e += bid.sz;
    }
    if bid.px <= bid_prev.px {
        e -= bid_prev.sz;
    }
    if ask.px <= ask_prev.px {
        e -= ask.sz;
    }
    if ask.px >= ask_prev.px {
        e += ask_prev.sz;
    }
    e
}

/// Streaming multi-level OFI with a per-bar accumulator.
#[derive(Clone, Debug)]
pub struct Ofi {
    levels: usize,
    /// `weights_by_used[m][i]`: weight of level `i` when `m` levels are
    /// compared (see `weight_table`).
    weights_by_used: [[f64; MAX_LEVELS]; MAX_LEVELS + 1],
    prev_bid: [Level; MAX_LEVELS],
    prev_ask: [Level; MAX_LEVELS],
    /// Levels of the previous snapshot that later updates read; 0 before
    /// the first snapshot (an accepted quote has at least one level).
    prev_depth: usize,
    bar_sum: f64,
}

impl Ofi {
    /// `levels` in `1..=MAX_LEVELS`; `level_weights` empty (equal weights) or
    /// `levels` non-negative values with a positive sum, as checked by
    /// `FeatureParams::validate`.
    pub fn new(levels: usize, level_weights: &[f64]) -> Self {
        let levels = levels.clamp(1, MAX_LEVELS);
        let empty = [Level::default(); MAX_LEVELS];
        Ofi {
            levels,
            weights_by_used: weight_table(levels, level_weights),
            prev_bid: empty,
            prev_ask: empty,
            prev_depth: 0,
            bar_sum: 0.0,
        }
    }

    /// The normalised weight of each configured level.
    pub fn weights(&self) -> &[f64] {
        &self.weights_by_used[self.levels][..self.levels]
    }

    /// Whether `q` can be used: depth at least 1 and finite prices and sizes
    /// in every level this indicator reads.
    #[inline]
    pub fn accepts(&self, q: &Quote) -> bool {
        let used = q.depth.min(self.levels);
        used >= 1
            && q.bid[..used]
                .iter()
                .chain(&q.ask[..used])
                .all(|l| l.px.is_finite() && l.sz.is_finite())
    }

    /// The flow from the previous snapshot to `q`, also added to the bar sum.
    /// `q` must pass [`Ofi::accepts`].
    #[inline]
    pub fn update(&mut self, q: &Quote) -> f64 {
        debug_assert!(self.accepts(q));
        let e = if self.prev_depth == 0 { 0.0 } else { self.weighted_flow(q) };
        // Whole fixed-size arrays: a few vector moves, no `memcpy` call.
        self.prev_bid = q.bid;
        self.prev_ask = q.ask;
        self.prev_depth = q.depth.min(self.levels);
        self.bar_sum += e;
        e
    }

    /// The flow summed since the last call, which starts a new bar.
    pub fn take_bar_sum(&mut self) -> f64 {
        std::mem::take(&mut self.bar_sum)
    }

    /// Forgets the previous snapshot and the bar sum.
    pub fn reset(&mut self) {
        self.prev_depth = 0;
        self.bar_sum = 0.0;
    }

    fn weighted_flow(&self, q: &Quote) -> f64 {
        let used = self.prev_depth.min(q.depth);
        let weights = &self.weights_by_used[used];
        (0..used)
            .map(|i| {
                let e = level_flow(self.prev_bid[i], q.bid[i], self.prev_ask[i], q.ask[i]);
                weights[i] * e
            })
            .sum()
    }
}

/// Row `m` holds the weights used when `m` levels are compared: the
/// configured weights normalised to sum 1 over the first `m` levels (zeros if
/// they sum to 0). Pre-computed so that no update divides.
fn weight_table(levels: usize, level_weights: &[f64]) -> [[f64; MAX_LEVELS]; MAX_LEVELS + 1] {
    let mut raw = [0.0; MAX_LEVELS];
    for (i, w) in raw.iter_mut().take(levels).enumerate() {
        *w = level_weights.get(i).copied().unwrap_or(1.0);
    }
    let total: f64 = raw.iter().sum();
    let normalised = raw.map(|w| w / total);

    let mut table = [[0.0; MAX_LEVELS]; MAX_LEVELS + 1];
    for (used, row) in table.iter_mut().enumerate().skip(1) {
        let subtotal: f64 = normalised[..used].iter().sum();
        if subtotal > 0.0 {
            for (w, n) in row.iter_mut().zip(&normalised[..used]) {
                *w = n / subtotal;
            }
        }
    }
    // The full row keeps the configured weights exactly, not re-divided.
    table[levels] = normalised;
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::TsNs;

    fn top(bid_px: f64, bid_sz: f64, ask_px: f64, ask_sz: f64) -> Quote {
        Quote::top(TsNs(0), bid_px, bid_sz, ask_px, ask_sz)
    }

    /// The flow of `next` after a best-level book of 100 x 5 / 101 x 4.
    fn flow_after_base(next: Quote) -> f64 {
        let mut ofi = Ofi::new(1, &[]);
        assert_eq!(ofi.update(&top(100.0, 5.0, 101.0, 4.0)), 0.0);
        ofi.update(&next)
    }

    fn two_levels(bids: [(f64, f64); 2], asks: [(f64, f64); 2]) -> Quote {
        let mut q = top(bids[0].0, bids[0].1, asks[0].0, asks[0].1);
        q.bid[1] = Level { px: bids[1].0, sz: bids[1].1 };
        q.ask[1] = Level { px: asks[1].0, sz: asks[1].1 };
        q.depth = 2;
        q
    }

    #[test]
    fn first_quote_contributes_zero() {
        let mut ofi = Ofi::new(1, &[]);
        assert_eq!(ofi.update(&top(100.0, 50.0, 101.0, 1.0)), 0.0);
        assert_eq!(ofi.take_bar_sum(), 0.0);
    }

    #[test]
    fn bid_moving_up_counts_the_whole_new_bid_size() {
        assert_eq!(flow_after_base(top(100.5, 3.0, 101.0, 4.0)), 3.0);
    }

    #[test]
    fn bid_at_same_price_counts_the_size_change() {
        assert_eq!(flow_after_base(top(100.0, 8.0, 101.0, 4.0)), 3.0);
        assert_eq!(flow_after_base(top(100.0, 2.0, 101.0, 4.0)), -3.0);
    }

    #[test]
    fn bid_moving_down_removes_the_whole_old_bid_size() {
        assert_eq!(flow_after_base(top(99.0, 7.0, 101.0, 4.0)), -5.0);
    }

    #[test]
    fn ask_moving_down_counts_the_whole_new_ask_size_as_selling() {
        assert_eq!(flow_after_base(top(100.0, 5.0, 100.5, 6.0)), -6.0);
    }

    #[test]
    fn ask_at_same_price_counts_the_size_change_with_opposite_sign() {
        assert_eq!(flow_after_base(top(100.0, 5.0, 101.0, 9.0)), -5.0);
        assert_eq!(flow_after_base(top(100.0, 5.0, 101.0, 1.0)), 3.0);
    }

    #[test]
    fn ask_moving_up_counts_the_whole_old_ask_size_as_buying() {
        assert_eq!(flow_after_base(top(100.0, 5.0, 102.0, 2.0)), 4.0);
    }

    #[test]
    fn both_sides_moving_up_add_new_bid_and_old_ask() {
        assert_eq!(flow_after_base(top(101.0, 2.0, 102.0, 7.0)), 2.0 + 4.0);
    }

    #[test]
    fn unchanged_book_has_zero_flow() {
        assert_eq!(flow_after_base(top(100.0, 5.0, 101.0, 4.0)), 0.0);
    }

    #[test]
    fn multi_level_flow_is_the_normalised_weighted_sum() {
        let mut ofi = Ofi::new(2, &[3.0, 1.0]);
        assert_eq!(ofi.weights(), &[0.75, 0.25]);
        ofi.update(&two_levels([(100.0, 5.0), (99.0, 10.0)], [(101.0, 4.0), (102.0, 8.0)]));
        // Level 1: bid size +3 at same price, ask unchanged -> e1 = 3.
        // Level 2: bid moved up to 99.5 size 6 -> +6; ask moved down to 101.5 size 2 -> -2.
        let q = two_levels([(100.0, 8.0), (99.5, 6.0)], [(101.0, 4.0), (101.5, 2.0)]);
        assert_eq!(ofi.update(&q), 0.75 * 3.0 + 0.25 * 4.0);
    }

    #[test]
    fn empty_level_weights_mean_equal_weights() {
        let ofi = Ofi::new(4, &[]);
        assert_eq!(ofi.weights(), &[0.25; 4]);
    }

    #[test]
    fn shallower_snapshot_uses_common_levels_with_renormalised_weights() {
        let mut ofi = Ofi::new(2, &[3.0, 1.0]);
        ofi.update(&two_levels([(100.0, 5.0), (99.0, 10.0)], [(101.0, 4.0), (102.0, 8.0)]));
        // Depth 1 now: only level 1 is compared, at full weight.
        assert_eq!(ofi.update(&top(100.0, 8.0, 101.0, 4.0)), 3.0);
    }

    #[test]
    fn levels_with_zero_weight_only_give_zero_flow() {
        let mut ofi = Ofi::new(2, &[0.0, 1.0]);
        ofi.update(&top(100.0, 5.0, 101.0, 4.0));
        assert_eq!(ofi.update(&top(100.0, 9.0, 101.0, 4.0)), 0.0);
    }

    #[test]
    fn quotes_with_no_depth_or_non_finite_used_levels_are_rejected() {
        let ofi = Ofi::new(2, &[]);
        assert!(ofi.accepts(&top(100.0, 5.0, 101.0, 4.0)));
        assert!(!ofi.accepts(&Quote { depth: 0, ..top(100.0, 5.0, 101.0, 4.0) }));
        assert!(!ofi.accepts(&top(f64::NAN, 5.0, 101.0, 4.0)));
        assert!(!ofi.accepts(&top(100.0, 5.0, 101.0, f64::INFINITY)));
        let mut deep = two_levels([(100.0, 5.0), (99.0, 1.0)], [(101.0, 4.0), (102.0, 1.0)]);
        deep.ask[1].sz = f64::NAN;
        assert!(!ofi.accepts(&deep));
        // A level beyond the configured ones is not read, so it may be anything.
        assert!(Ofi::new(1, &[]).accepts(&deep));
    }

    #[test]
    fn bar_sum_accumulates_until_taken() {
        let mut ofi = Ofi::new(1, &[]);
        ofi.update(&top(100.0, 5.0, 101.0, 4.0));
        ofi.update(&top(100.0, 8.0, 101.0, 4.0)); // +3
        ofi.update(&top(99.0, 1.0, 101.0, 4.0)); // -8
        assert_eq!(ofi.take_bar_sum(), -5.0);
        assert_eq!(ofi.take_bar_sum(), 0.0);
    }

    #[test]
    fn reset_makes_the_next_quote_a_first_quote() {
        let mut ofi = Ofi::new(1, &[]);
        ofi.update(&top(100.0, 5.0, 101.0, 4.0));
        ofi.reset();
        assert_eq!(ofi.update(&top(102.0, 9.0, 103.0, 1.0)), 0.0);
    }
}
