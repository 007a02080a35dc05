//! [`FeatureStream`]: time-ordered ticks in, one [`Bar`] per bar period out.
//!
//! Each tick first closes every bar that ends at or before its timestamp,
//! then updates the indicators; so a bar is emitted the moment a tick at or
//! after its close time arrives, and no emitted value can depend on a later
//! tick. Per bar:
//!
//! - `price`: mid of the latest quote when the OFI channel exists, else the
//!   last trade price, carried forward through empty bars. Bars that close
//!   before any price is known are dropped whole: not emitted and not fed
//!   to the z-scores (their trades still count in a CVD level).
//! - `z_ofi`: rolling z of the bar's summed OFI; NaN without the OFI channel.
//! - `z_cvd`: rolling z of the bar's signed volume (or CVD level); NaN
//!   without the CVD channel.
//! - `fusion`: weighted mean of the two; NaN unless both channels exist and
//!   the fusion channel is on. `consistency`: NaN unless both exist.
//! - `activity`: the number of trades in the bar.
//!
//! Time bars with no tick between two ticks are emitted too, with zero flow
//! and the price carried forward; the number of such bars is not capped
//! (callers split streams at long gaps). `finish` flushes the open bar.
//! Per-trade bars close at each trade's timestamp and hold the book updates
//! since the previous trade; several trades at one timestamp make several
//! bars with that timestamp.
//!
//! Input rules: without the OFI channel quotes are ignored entirely; a quote
//! that `Ofi::accepts` rejects and a trade with a non-finite price, a
//! non-finite or negative quantity are skipped. A tick older than the open
//! bar (out of order) is counted in the open bar; an emitted bar never
//! changes. Nothing is allocated after construction.

use super::bars::{BarSpec, TimeBarClock};
use super::cvd::{Cvd, CvdMode};
use super::fusion::{consistency, fuse};
use super::ofi::Ofi;
use super::params::FeatureParams;
use super::zscore::RollingZ;
use crate::core::{Bar, Channels, Quote, Trade, TsNs};

/// Streaming features of one symbol over one segment of time.
#[derive(Clone, Debug)]
pub struct FeatureStream {
    channels: Channels,
    cvd_mode: CvdMode,
    w_ofi: f64,
    w_cvd: f64,
    /// `None` for per-trade bars.
    clock: Option<TimeBarClock>,
    ofi: Ofi,
    cvd: Cvd,
    z_ofi: RollingZ,
    z_cvd: RollingZ,
    price: Option<f64>,
    trades_in_bar: u64,
}

impl FeatureStream {
    /// A stream for a source with `channels`. The fusion channel is kept
    /// only when both OFI and CVD exist.
    ///
    /// # Panics
    /// If `params.validate()` fails; use [`FeatureStream::try_new`] to get
    /// the error instead.
    pub fn new(params: &FeatureParams, channels: Channels) -> FeatureStream {
        Self::try_new(params, channels).unwrap_or_else(|e| panic!("invalid FeatureParams: {e}"))
    }

    /// Like [`FeatureStream::new`], returning the validation error.
    pub fn try_new(
        params: &FeatureParams,
        channels: Channels,
    ) -> Result<FeatureStream, crate::core::ParamRangeError> {
        params.validate()?;
        let clock = match params.bar {
            BarSpec::Time { ns } => Some(TimeBarClock::new(ns)),
            BarSpec::PerTrade => None,
        };
        let fusion = channels.fusion && channels.ofi && channels.cvd;
        Ok(FeatureStream {
            channels: Channels { fusion, ..channels },
            cvd_mode: params.cvd_mode,
            w_ofi: params.w_ofi,
            w_cvd: params.w_cvd,
            clock,
            ofi: Ofi::new(params.ofi_levels, &params.ofi_level_weights),
            cvd: Cvd::new(params.cvd_reset),
            z_ofi: RollingZ::new(params.zscore_spec()),
            z_cvd: RollingZ::new(params.zscore_spec()),
            price: None,
            trades_in_bar: 0,
        })
    }

    /// The channels this stream fills (fusion only with both indicators).
    pub fn channels(&self) -> Channels {
        self.channels
    }

    /// Feeds one book snapshot; calls `emit` for each bar it closes.
    pub fn push_quote(&mut self, quote: &Quote, emit: &mut impl FnMut(&Bar)) {
        if !self.channels.ofi || !self.ofi.accepts(quote) {
            return;
        }
        self.advance_clock(quote.ts, emit);
        self.ofi.update(quote);
        self.price = Some(quote.mid());
    }

    /// Feeds one trade; calls `emit` for each bar it closes (with per-trade
    /// bars, the trade's own bar).
    pub fn push_trade(&mut self, trade: &Trade, emit: &mut impl FnMut(&Bar)) {
        if !(trade.px.is_finite() && trade.qty.is_finite() && trade.qty >= 0.0) {
            return;
        }
        self.advance_clock(trade.ts, emit);
        self.cvd.push(trade);
        self.trades_in_bar += 1;
        if !self.channels.ofi {
            self.price = Some(trade.px);
        }
        if self.clock.is_none() {
            self.close_bar(trade.ts, emit);
        }
    }

    /// Feeds two slices, each sorted by `ts`, merged by timestamp. At equal
    /// timestamps quotes go first, so a trade sees the book published with
    /// it. Does not call `finish`.
    pub fn push_merged(&mut self, trades: &[Trade], quotes: &[Quote], emit: &mut impl FnMut(&Bar)) {
        let (mut quotes, mut trades) = (quotes.iter().peekable(), trades.iter().peekable());
        loop {
            let quote_first = match (quotes.peek(), trades.peek()) {
                (Some(q), Some(t)) => q.ts <= t.ts,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => return,
            };
            if quote_first {
                self.push_quote(quotes.next().expect("peeked"), emit);
            } else {
                self.push_trade(trades.next().expect("peeked"), emit);
            }
        }
    }

    /// Emits the open time bar, stamped with its close time. A tick pushed
    /// afterwards starts a new bar clock without filling the gap. Per-trade
    /// bars have no open bar; book flow since the last trade stays pending.
    pub fn finish(&mut self, emit: &mut impl FnMut(&Bar)) {
        if let Some(end) = self.clock.as_mut().and_then(TimeBarClock::close_open) {
            self.close_bar(end, emit);
        }
    }

    /// Back to the state right after construction (a new segment).
    pub fn reset(&mut self) {
        if let Some(clock) = self.clock.as_mut() {
            clock.reset();
        }
        self.ofi.reset();
        self.cvd.reset();
        self.z_ofi.reset();
        self.z_cvd.reset();
        self.price = None;
        self.trades_in_bar = 0;
    }

    /// Closes every time bar that ends at or before `ts`, then makes sure
    /// the bar containing `ts` is open. Each bar opening is a time the CVD
    /// daily reset must see.
    #[inline]
    fn advance_clock(&mut self, ts: TsNs, emit: &mut impl FnMut(&Bar)) {
        // Fast path, taken by nearly every tick: nothing to close or open.
        if self.clock.as_ref().is_none_or(|clock| clock.is_open_before(ts)) {
            return;
        }
        self.turn_clock(ts, emit);
    }

    fn turn_clock(&mut self, ts: TsNs, emit: &mut impl FnMut(&Bar)) {
        let Some(clock) = self.clock.as_mut() else { return };
        if let Some(start) = clock.open_if_closed(ts) {
            self.cvd.observe_time(start);
            return;
        }
        while let Some(end) = self.clock.as_mut().and_then(|c| c.close_due(ts)) {
            self.close_bar(end, emit);
            self.cvd.observe_time(end);
        }
    }

    /// Turns the accumulated flow into a bar stamped `ts` and starts the next.
    fn close_bar(&mut self, ts: TsNs, emit: &mut impl FnMut(&Bar)) {
        let ofi = self.ofi.take_bar_sum();
        let cvd = self.cvd.take_bar_value(self.cvd_mode);
        let activity = std::mem::take(&mut self.trades_in_bar) as f64;
        if let Some(price) = self.price {
            let (z_ofi, z_cvd, fusion, consistency) = self.score(ofi, cvd);
            emit(&Bar { ts, price, z_ofi, z_cvd, fusion, consistency, activity });
        }
    }

    /// z_ofi, z_cvd, fusion and consistency of one bar's flow, NaN for
    /// missing channels.
    fn score(&mut self, ofi: f64, cvd: f64) -> (f64, f64, f64, f64) {
        let channels = self.channels;
        let z_ofi = if channels.ofi { self.z_ofi.update(ofi) } else { f64::NAN };
        let z_cvd = if channels.cvd { self.z_cvd.update(cvd) } else { f64::NAN };
        let fusion =
            if channels.fusion { fuse(z_ofi, z_cvd, self.w_ofi, self.w_cvd) } else { f64::NAN };
        let both = channels.ofi && channels.cvd;
        let consistency = if both { consistency(z_ofi, z_cvd) } else { f64::NAN };
        (z_ofi, z_cvd, fusion, consistency)
    }
}

/// Runs one stream over sorted trades and quotes and collects its bars,
/// flushing the open bar at the end (see [`FeatureStream::push_merged`]).
///
/// # Panics
/// If `params.validate()` fails.
pub fn bars_from_ticks(
    trades: &[Trade],
    quotes: &[Quote],
    params: &FeatureParams,
    channels: Channels,
) -> Vec<Bar> {
    let mut stream = FeatureStream::new(params, channels);
    let mut bars = Vec::new();
    let mut emit = |bar: &Bar| bars.push(*bar);
    stream.push_merged(trades, quotes, &mut emit);
    stream.finish(&mut emit);
    bars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Aggressor::{self, Buy, Sell};
    use crate::core::Level;
    use crate::features::cvd::CvdReset;

    const MS: i64 = 1_000_000;
    const SEC: i64 = 1_000 * MS;
    const OFI_ONLY: Channels = Channels { ofi: true, cvd: false, fusion: false };

    fn quote(ts_ms: i64, bid: (f64, f64), ask: (f64, f64)) -> Quote {
        Quote::top(TsNs(ts_ms * MS), bid.0, bid.1, ask.0, ask.1)
    }

    fn trade(ts_ms: i64, px: f64, qty: f64, side: Aggressor) -> Trade {
        Trade { ts: TsNs(ts_ms * MS), px, qty, side }
    }

    /// Small windows and no smoothing, so values can be worked by hand.
    fn hand_params(bar: &str) -> FeatureParams {
        FeatureParams {
            bar: bar.parse().unwrap(),
            z_window: 2,
            ema_span: None,
            ..Default::default()
        }
    }

    fn bits(bar: &Bar) -> [u64; 7] {
        [
            bar.ts.0 as u64,
            bar.price.to_bits(),
            bar.z_ofi.to_bits(),
            bar.z_cvd.to_bits(),
            bar.fusion.to_bits(),
            bar.consistency.to_bits(),
            bar.activity.to_bits(),
        ]
    }

    fn all_bits(bars: &[Bar]) -> Vec<[u64; 7]> {
        bars.iter().map(bits).collect()
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-12, "{actual} vs {expected}");
    }

    // A deterministic pseudo-random tick stream (64-bit LCG, Knuth's MMIX
    // constants), with depth-3 books, bursts at equal timestamps and gaps
    // longer than a bar.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn unit(&mut self) -> f64 {
            self.next() as f64 / (1u64 << 31) as f64
        }
    }

    fn synthetic_ticks(seed: u64, start_ns: i64, n: usize) -> (Vec<Trade>, Vec<Quote>) {
        let mut rng = Lcg(seed);
        let (mut trades, mut quotes) = (Vec::new(), Vec::new());
        let (mut ts, mut mid) = (start_ns, 100.0);
        for _ in 0..n {
            ts += match rng.next() % 50 {
                0 => 0,
                1 => 3 * SEC + (rng.next() % 1000) as i64 * MS,
                _ => (rng.next() % 120) as i64 * MS,
            };
            if rng.next() % 3 == 0 {
                let side = if rng.next() % 2 == 0 { Buy } else { Sell };
                trades.push(Trade { ts: TsNs(ts), px: mid, qty: 1.0 + rng.unit() * 9.0, side });
            } else {
                mid += (rng.next() % 3) as f64 * 0.5 - 0.5;
                quotes.push(book(&mut rng, ts, mid));
            }
        }
        (trades, quotes)
    }

    fn book(rng: &mut Lcg, ts: i64, mid: f64) -> Quote {
        let mut q = Quote::top(TsNs(ts), mid - 0.25, 0.0, mid + 0.25, 0.0);
        for i in 0..3 {
            let offset = 0.25 + i as f64 * 0.5;
            q.bid[i] = Level { px: mid - offset, sz: 1.0 + (rng.next() % 20) as f64 };
            q.ask[i] = Level { px: mid + offset, sz: 1.0 + (rng.next() % 20) as f64 };
        }
        q.depth = 3;
        q
    }

    /// Every tick stamped after `t_ns` gets a different price, size and side.
    fn scramble_after(t_ns: i64, trades: &mut [Trade], quotes: &mut [Quote]) {
        for tr in trades.iter_mut().filter(|tr| tr.ts.0 > t_ns) {
            tr.px += 3.5;
            tr.qty *= 7.0;
            tr.side = if tr.side == Buy { Sell } else { Buy };
        }
        for q in quotes.iter_mut().filter(|q| q.ts.0 > t_ns) {
            for level in q.bid.iter_mut().chain(q.ask.iter_mut()) {
                level.px += 2.0;
                level.sz = 50.0 - level.sz;
            }
        }
    }

    fn scored_params(bar: &str) -> FeatureParams {
        FeatureParams {
            bar: bar.parse().unwrap(),
            z_window: 20,
            ofi_levels: 3,
            ..Default::default()
        }
    }

    #[test]
    fn bars_up_to_t_are_bit_identical_whatever_happens_after_t() {
        let start = 1_700_000_000 * SEC;
        let (trades, quotes) = synthetic_ticks(11, start, 4_000);
        let variants = [
            scored_params("1s"),
            scored_params("100ms"),
            scored_params("trade"),
            FeatureParams { cvd_mode: CvdMode::Level, ..scored_params("1s") },
        ];
        let last_ts = trades.last().unwrap().ts.0;
        for params in &variants {
            let base = bars_from_ticks(&trades, &quotes, params, Channels::ALL);
            // Cut at bar close times (where the closing tick lies after the
            // cut), at tick times and just before or after them.
            let step = base.len() / 40;
            let mut cuts: Vec<i64> = base.iter().skip(25).step_by(step).map(|b| b.ts.0).collect();
            cuts.extend([trades[300].ts.0, quotes[900].ts.0 + 1, trades[1000].ts.0 - 1]);
            for &t in cuts.iter().filter(|&&t| t < last_ts) {
                let (mut trades2, mut quotes2) = (trades.clone(), quotes.clone());
                scramble_after(t, &mut trades2, &mut quotes2);
                let changed = bars_from_ticks(&trades2, &quotes2, params, Channels::ALL);

                let before: Vec<&Bar> = base.iter().filter(|b| b.ts.0 <= t).collect();
                let before_changed: Vec<&Bar> = changed.iter().filter(|b| b.ts.0 <= t).collect();
                assert!(before.len() > 20, "{} bars before the cut", before.len());
                assert_eq!(before.len(), before_changed.len());
                for (a, b) in before.iter().zip(&before_changed) {
                    assert_eq!(bits(a), bits(b), "bar at {} with bar {}", a.ts.0, params.bar);
                }
                // The scramble did reach the later bars, so the test can fail.
                assert_ne!(all_bits(&base), all_bits(&changed));
            }
        }
    }

    #[test]
    fn a_truncated_stream_reproduces_the_bars_it_has_in_common() {
        let (trades, quotes) = synthetic_ticks(5, 1_700_000_000 * SEC, 3_000);
        let params = scored_params("1s");
        let full = bars_from_ticks(&trades, &quotes, &params, Channels::ALL);
        let t = trades[500].ts;
        let cut_trades: Vec<Trade> = trades.iter().copied().filter(|x| x.ts <= t).collect();
        let cut_quotes: Vec<Quote> = quotes.iter().copied().filter(|x| x.ts <= t).collect();
        let cut = bars_from_ticks(&cut_trades, &cut_quotes, &params, Channels::ALL);
        let common: Vec<Bar> = cut.iter().copied().filter(|b| b.ts <= t).collect();
        assert!(common.len() > 20);
        assert_eq!(all_bits(&common), all_bits(&full[..common.len()]));
    }

    #[test]
    fn same_input_gives_bit_identical_bars_and_reset_restarts_cleanly() {
        let (trades, quotes) = synthetic_ticks(3, 1_700_000_000 * SEC, 3_000);
        let params = scored_params("1s");
        let first = bars_from_ticks(&trades, &quotes, &params, Channels::ALL);
        let second = bars_from_ticks(&trades, &quotes, &params, Channels::ALL);
        assert_eq!(all_bits(&first), all_bits(&second));

        // The same stream object, reset part-way, gives the same bars again.
        let mut stream = FeatureStream::new(&params, Channels::ALL);
        let mut discarded = 0;
        stream.push_merged(&trades[..300], &quotes[..700], &mut |_: &Bar| discarded += 1);
        assert!(discarded > 0);
        stream.reset();
        let mut bars = Vec::new();
        let mut emit = |b: &Bar| bars.push(*b);
        stream.push_merged(&trades, &quotes, &mut emit);
        stream.finish(&mut emit);
        assert_eq!(all_bits(&bars), all_bits(&first));
    }

    #[test]
    fn hand_worked_bars_match_their_formulas() {
        let quotes = [
            quote(100, (100.0, 5.0), (101.0, 4.0)),   // first quote: OFI 0
            quote(1_100, (100.0, 8.0), (101.0, 4.0)), // bid size +3
            quote(2_300, (100.5, 1.0), (101.0, 4.0)), // bid up, new size 1
        ];
        let trades = [
            trade(200, 100.0, 2.0, Buy),
            trade(1_500, 100.0, 1.0, Sell),
            trade(2_400, 101.0, 4.0, Buy),
            trade(3_200, 101.0, 3.0, Sell),
        ];
        let bars = bars_from_ticks(&trades, &quotes, &hand_params("1s"), Channels::ALL);
        let stamps: Vec<i64> = bars.iter().map(|b| b.ts.0 / SEC).collect();
        assert_eq!(stamps, [1, 2, 3, 4]);
        assert_eq!(
            bars.iter().map(|b| b.price).collect::<Vec<_>>(),
            [100.5, 100.5, 100.75, 100.75]
        );
        assert!(bars[..2].iter().all(|b| b.z_ofi.is_nan() && b.z_cvd.is_nan()));

        // Bar 3: OFI 1 against [0, 3]; CVD delta 4 against [2, -1].
        let (z_ofi, z_cvd) = (-0.5 / 4.5f64.sqrt(), 3.5 / 4.5f64.sqrt());
        assert_close(bars[2].z_ofi, z_ofi);
        assert_close(bars[2].z_cvd, z_cvd);
        assert_close(bars[2].fusion, 0.5 * z_ofi + 0.5 * z_cvd);
        assert_close(bars[2].consistency, 0.5 * (1.0 - 1.0 / 7.0));

        // Bar 4 (flushed by finish): OFI 0 against [3, 1]; CVD -3 against [-1, 4].
        assert_close(bars[3].z_ofi, -2.0 / 2.0f64.sqrt());
        assert_close(bars[3].z_cvd, -4.5 / 12.5f64.sqrt());
        assert_eq!(bars[3].activity, 1.0);
    }

    #[test]
    fn bars_are_aligned_to_multiples_of_their_length_and_stamped_at_close() {
        let trades = [trade(1_234, 10.0, 1.0, Buy), trade(1_450, 11.0, 1.0, Buy)];
        let bars = bars_from_ticks(&trades, &[], &hand_params("100ms"), Channels::CVD_ONLY);
        let stamps: Vec<i64> = bars.iter().map(|b| b.ts.0 / MS).collect();
        assert_eq!(stamps, [1_300, 1_400, 1_500]);
        assert_eq!(bars.iter().map(|b| b.activity).collect::<Vec<_>>(), [1.0, 0.0, 1.0]);
    }

    #[test]
    fn a_bar_is_emitted_by_the_first_tick_at_or_after_its_close() {
        let mut stream = FeatureStream::new(&hand_params("1s"), Channels::CVD_ONLY);
        let mut bars = Vec::new();
        let mut emit = |b: &Bar| bars.push(*b);
        stream.push_trade(&trade(500, 10.0, 1.0, Buy), &mut emit);
        stream.push_trade(&trade(999, 10.0, 1.0, Buy), &mut emit);
        stream.push_trade(&trade(1_000, 12.0, 1.0, Buy), &mut emit);
        // The trade at exactly 1 s closed bar [0, 1 s) and belongs to the next one.
        assert_eq!(bars.len(), 1);
        assert_eq!((bars[0].ts, bars[0].price, bars[0].activity), (TsNs(SEC), 10.0, 2.0));
    }

    #[test]
    fn empty_bars_between_ticks_carry_the_price_with_zero_flow() {
        let trades = [
            trade(400, 10.0, 1.0, Buy),
            trade(1_500, 10.5, 1.0, Buy),
            trade(4_500, 11.0, 1.0, Sell),
        ];
        let params = FeatureParams { z_window: 2, ema_span: None, ..Default::default() };
        let bars = bars_from_ticks(&trades, &[], &params, Channels::CVD_ONLY);
        let stamps: Vec<i64> = bars.iter().map(|b| b.ts.0 / SEC).collect();
        assert_eq!(stamps, [1, 2, 3, 4, 5]);
        assert_eq!(
            bars.iter().map(|b| b.price).collect::<Vec<_>>(),
            [10.0, 10.5, 10.5, 10.5, 11.0]
        );
        assert_eq!(bars.iter().map(|b| b.activity).collect::<Vec<_>>(), [1.0, 1.0, 0.0, 0.0, 1.0]);
        // Empty bars are scored as zero flow: bar 3 has delta 0 against [1, 1].
        assert_eq!(bars[2].z_cvd, -5.0);
        // Bar 4: 0 against [1, 0] -> (0 - 0.5) / sqrt(0.5).
        assert_close(bars[3].z_cvd, -0.5 / 0.5f64.sqrt());
    }

    #[test]
    fn bars_before_the_first_price_are_not_emitted() {
        let trades = [
            trade(100, 10.0, 1.0, Buy),
            trade(1_200, 10.0, 1.0, Buy),
            trade(2_600, 10.0, 1.0, Sell),
        ];
        let quotes = [quote(2_500, (99.0, 1.0), (101.0, 1.0))];
        let bars = bars_from_ticks(&trades, &quotes, &hand_params("1s"), Channels::ALL);
        assert_eq!(bars.len(), 1);
        assert_eq!((bars[0].ts, bars[0].price, bars[0].activity), (TsNs(3 * SEC), 100.0, 1.0));
    }

    #[test]
    fn flow_of_unpriced_bars_does_not_reach_the_z_scores() {
        let early = [trade(100, 10.0, 50.0, Buy), trade(1_200, 10.0, 70.0, Sell)];
        let later: Vec<Trade> = (0..8)
            .map(|i| {
                trade(2_600 + i * 1_000, 10.0, 1.0 + i as f64, if i % 3 == 0 { Sell } else { Buy })
            })
            .collect();
        let quotes = [quote(2_500, (99.0, 1.0), (101.0, 1.0))];
        let all: Vec<Trade> = early.iter().chain(&later).copied().collect();
        let params = hand_params("1s");
        let with_early = bars_from_ticks(&all, &quotes, &params, Channels::ALL);
        let without = bars_from_ticks(&later, &quotes, &params, Channels::ALL);
        assert!(with_early.iter().any(|b| b.z_cvd.is_finite()));
        assert_eq!(all_bits(&with_early), all_bits(&without));
    }

    #[test]
    fn per_trade_bars_close_at_each_trade_with_the_book_flow_since_the_last() {
        let quotes = [
            quote(1, (100.0, 5.0), (101.0, 4.0)),
            quote(2, (100.0, 8.0), (101.0, 4.0)), // +3 before trade 1
            quote(4, (100.0, 9.0), (101.0, 4.0)), // +1 before trade 2
        ];
        let trades = [
            trade(3, 100.5, 2.0, Buy),
            trade(5, 100.5, 2.0, Sell),
            trade(5, 100.5, 4.0, Buy), // same timestamp, no book change: OFI 0
        ];
        let bars = bars_from_ticks(&trades, &quotes, &hand_params("trade"), Channels::ALL);
        let stamps: Vec<i64> = bars.iter().map(|b| b.ts.0).collect();
        assert_eq!(stamps, [3 * MS, 5 * MS, 5 * MS]);
        assert!(bars.iter().all(|b| b.activity == 1.0 && b.price == 100.5));
        // OFI 0 against [3, 1]; signed volume 4 against [2, -2].
        assert_close(bars[2].z_ofi, -2.0f64.sqrt());
        assert_close(bars[2].z_cvd, 2.0f64.sqrt());
        assert_close(bars[2].fusion, 0.0);
        assert_close(bars[2].consistency, 0.0);
    }

    #[test]
    fn quotes_go_before_trades_at_equal_timestamps() {
        let quotes = [quote(1, (100.0, 5.0), (101.0, 4.0)), quote(3, (102.0, 5.0), (103.0, 4.0))];
        let trades = [trade(3, 102.0, 1.0, Buy)];
        let bars = bars_from_ticks(&trades, &quotes, &hand_params("trade"), Channels::ALL);
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].price, 102.5);
    }

    #[test]
    fn without_the_ofi_channel_quotes_are_ignored_and_trades_set_the_price() {
        let (trades, quotes) = synthetic_ticks(9, 1_700_000_000 * SEC, 2_000);
        let params = scored_params("1s");
        let with_quotes = bars_from_ticks(&trades, &quotes, &params, Channels::CVD_ONLY);
        let without = bars_from_ticks(&trades, &[], &params, Channels::CVD_ONLY);
        assert_eq!(all_bits(&with_quotes), all_bits(&without));
        assert!(with_quotes.iter().all(|b| b.z_ofi.is_nan() && b.fusion.is_nan()));
        assert!(with_quotes.iter().all(|b| b.consistency.is_nan()));
        assert!(with_quotes.iter().any(|b| b.z_cvd.is_finite()));
        assert!(with_quotes.iter().all(|b| trades.iter().any(|t| t.px == b.price)));
    }

    #[test]
    fn without_the_cvd_channel_only_ofi_is_scored() {
        let (trades, quotes) = synthetic_ticks(9, 1_700_000_000 * SEC, 2_000);
        let bars = bars_from_ticks(&trades, &quotes, &scored_params("1s"), OFI_ONLY);
        assert!(bars.iter().all(|b| b.z_cvd.is_nan() && b.fusion.is_nan()));
        assert!(bars.iter().all(|b| b.consistency.is_nan()));
        assert!(bars.iter().any(|b| b.z_ofi.is_finite()));
        assert!(bars.iter().any(|b| b.activity > 0.0));
    }

    #[test]
    fn fusion_channel_off_leaves_fusion_nan_but_keeps_consistency() {
        let (trades, quotes) = synthetic_ticks(9, 1_700_000_000 * SEC, 2_000);
        let channels = Channels { fusion: false, ..Channels::ALL };
        let bars = bars_from_ticks(&trades, &quotes, &scored_params("1s"), channels);
        assert!(bars.iter().all(|b| b.fusion.is_nan()));
        assert!(bars.iter().any(|b| b.consistency.is_finite()));
    }

    #[test]
    fn fusion_channel_needs_both_indicators() {
        let channels = Channels { ofi: true, cvd: false, fusion: true };
        let stream = FeatureStream::new(&FeatureParams::default(), channels);
        assert_eq!(stream.channels(), OFI_ONLY);
    }

    #[test]
    fn unusable_ticks_are_skipped_as_if_absent() {
        let good = [trade(100, 10.0, 1.0, Buy), trade(1_300, 10.0, 2.0, Sell)];
        let mut noisy = vec![good[0], trade(200, f64::NAN, 1.0, Buy), trade(300, 10.0, -1.0, Buy)];
        noisy.extend([trade(400, 10.0, f64::INFINITY, Sell), good[1]]);
        let bad_quote = quote(150, (f64::NAN, 1.0), (11.0, 1.0));
        let params = hand_params("1s");
        let clean = bars_from_ticks(&good, &[], &params, Channels::ALL);
        let dirty = bars_from_ticks(&noisy, &[bad_quote], &params, Channels::ALL);
        assert_eq!(all_bits(&clean), all_bits(&dirty));
    }

    #[test]
    fn a_late_tick_is_counted_in_the_open_bar() {
        let mut stream = FeatureStream::new(&hand_params("1s"), Channels::CVD_ONLY);
        let mut bars = Vec::new();
        let mut emit = |b: &Bar| bars.push(*b);
        for ts_ms in [1_500, 2_500, 1_700] {
            stream.push_trade(&trade(ts_ms, 10.0, 1.0, Buy), &mut emit);
        }
        stream.finish(&mut emit);
        assert_eq!(bars.iter().map(|b| b.activity).collect::<Vec<_>>(), [1.0, 2.0]);
    }

    #[test]
    fn finish_flushes_the_open_bar_once() {
        let mut stream = FeatureStream::new(&hand_params("1s"), Channels::CVD_ONLY);
        let mut count = 0;
        let mut emit = |_: &Bar| count += 1;
        stream.push_trade(&trade(1_500, 10.0, 1.0, Buy), &mut emit);
        stream.finish(&mut emit);
        stream.finish(&mut emit);
        assert_eq!(count, 1);
    }

    #[test]
    fn every_feature_parameter_changes_the_bars() {
        // Start 30 s before a UTC midnight so the daily reset has work to do.
        let midnight = 19_700 * 86_400 * SEC;
        let (trades, quotes) = synthetic_ticks(21, midnight - 30 * SEC, 3_000);
        let base = scored_params("1s");
        let level = FeatureParams { cvd_mode: CvdMode::Level, ..base.clone() };
        let levels3 = FeatureParams { ofi_levels: 3, ..base.clone() };
        let cases: Vec<(&str, &FeatureParams, FeatureParams)> = vec![
            ("bar", &base, FeatureParams { bar: "500ms".parse().unwrap(), ..base.clone() }),
            ("z_window", &base, FeatureParams { z_window: 30, ..base.clone() }),
            ("z_min_periods", &base, FeatureParams { z_min_periods: Some(5), ..base.clone() }),
            ("std_floor", &base, FeatureParams { std_floor: 25.0, ..base.clone() }),
            ("z_clip", &base, FeatureParams { z_clip: 1.0, ..base.clone() }),
            ("ema_span", &base, FeatureParams { ema_span: None, ..base.clone() }),
            ("w_ofi/w_cvd", &base, FeatureParams { w_ofi: 0.9, w_cvd: 0.1, ..base.clone() }),
            ("ofi_levels", &base, FeatureParams { ofi_levels: 1, ..base.clone() }),
            (
                "ofi_level_weights",
                &levels3,
                FeatureParams { ofi_level_weights: vec![3.0, 2.0, 1.0], ..levels3.clone() },
            ),
            ("cvd_mode", &base, level.clone()),
            ("cvd_reset", &level, FeatureParams { cvd_reset: CvdReset::Daily, ..level.clone() }),
        ];
        for (name, reference, changed) in cases {
            let a = bars_from_ticks(&trades, &quotes, reference, Channels::ALL);
            let b = bars_from_ticks(&trades, &quotes, &changed, Channels::ALL);
            assert_ne!(all_bits(&a), all_bits(&b), "{name} had no effect");
        }
    }

    #[test]
    #[should_panic(expected = "invalid FeatureParams")]
    fn new_panics_on_invalid_params_and_try_new_reports_them() {
        let params = FeatureParams { z_window: 1, ..Default::default() };
        let err = FeatureStream::try_new(&params, Channels::ALL).unwrap_err();
        assert_eq!(err.name, "z_window");
        FeatureStream::new(&params, Channels::ALL);
    }
}
