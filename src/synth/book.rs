//! The displayed book: best bid and ask (plus optional deeper levels) that follow the
//! latent mid, with sizes that lean with the flow pressure, and trades at the touch.
//!
//! Prices live in integer ticks, so quotes are on the grid by construction and the
//! spread is always 1 or 2 ticks: never locked or crossed. Main type: `Book`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::core::{Aggressor, Level, Quote, Trade, TsNs, MAX_LEVELS};

/// The book re-centres on the latent mid only when it is this many ticks away from the
/// displayed mid, so a latent price near a rounding boundary does not flicker.
const HYSTERESIS_TICKS: f64 = 0.6;
/// Per quote update: chance a 1-tick spread widens to 2, and a 2-tick one narrows.
const WIDEN_PROB: f64 = 0.02;
const NARROW_PROB: f64 = 0.08;
/// Mean size of a fresh best level.
const QUOTE_SIZE: f64 = 500.0;
/// Log-sd of fresh level sizes and of trade sizes.
const QUOTE_SIZE_LOG_SD: f64 = 0.4;
const TRADE_SIZE_LOG_SD: f64 = 0.5;
/// Mean trade size.
const TRADE_SIZE: f64 = 100.0;
/// A fresh level is `1 + FRESH_TILT * p` times larger on the side the pressure favours.
const FRESH_TILT: f64 = 0.5;
/// Per update, a resting level grows by `DRIFT_TILT * p * QUOTE_SIZE` on the favoured
/// side and shrinks on the other, plus noise of `DRIFT_NOISE * QUOTE_SIZE`, and reverts
/// by `REVERT` of its distance to the normal size.
const DRIFT_TILT: f64 = 0.3;
const DRIFT_NOISE: f64 = 0.1;
const REVERT: f64 = 0.1;

/// Converts whole ticks to prices.
#[derive(Copy, Clone, Debug)]
pub(crate) struct PriceGrid {
    tick_size: f64,
    /// `1 / tick_size` when that is a whole number: `ticks / it` is then the f64 nearest
    /// the decimal price (0.35, where `35.0 * 0.01` gives 0.35000000000000003).
    ticks_per_unit: Option<f64>,
}

impl PriceGrid {
    pub fn new(tick_size: f64) -> Self {
        let inv = 1.0 / tick_size;
        let whole = inv >= 1.0 && (inv - inv.round()).abs() < 1e-9 * inv;
        PriceGrid { tick_size, ticks_per_unit: whole.then(|| inv.round()) }
    }

    /// The price of `ticks` ticks.
    pub fn px(&self, ticks: f64) -> f64 {
        match self.ticks_per_unit {
            Some(per_unit) => ticks / per_unit,
            None => ticks * self.tick_size,
        }
    }
}

/// The current displayed book.
pub(crate) struct Book {
    grid: PriceGrid,
    /// Levels per side shown in each quote.
    depth: usize,
    bid: i64,
    ask: i64,
    wide: bool,
    /// Sizes by level, best first.
    bid_sz: [f64; MAX_LEVELS],
    ask_sz: [f64; MAX_LEVELS],
}

impl Book {
    /// A book showing `depth` levels with a 1-tick spread around latent mid `x` (ticks).
    pub fn new(x: f64, grid: PriceGrid, depth: usize, rng: &mut ChaCha8Rng) -> Self {
        let (bid, ask) = place(x, false);
        let (bid_sz, ask_sz) = ([0.0; MAX_LEVELS], [0.0; MAX_LEVELS]);
        let mut book = Book { grid, depth, bid, ask, wide: false, bid_sz, ask_sz };
        book.bid_sz[0] = fresh_size(0.0, 1.0, rng);
        book.ask_sz[0] = fresh_size(0.0, 1.0, rng);
        book.redraw_deeper(rng);
        book
    }

    /// Displayed mid in ticks.
    pub fn mid_ticks(&self) -> f64 {
        (self.bid + self.ask) as f64 / 2.0
    }

    /// One quote update: maybe switch spread, re-centre on latent mid `x` if it moved
    /// away, then refresh sizes. `pressure` in [-1, 1] favours bids when positive;
    /// `depth` (> 0, normally 1) scales the sizes the book rests at.
    pub fn on_quote(&mut self, x: f64, pressure: f64, depth: f64, rng: &mut ChaCha8Rng) {
        let switch = rng.random::<f64>() < if self.wide { NARROW_PROB } else { WIDEN_PROB };
        self.wide ^= switch;
        let (bid, ask) = if switch || (x - self.mid_ticks()).abs() > HYSTERESIS_TICKS {
            place(x, self.wide)
        } else {
            (self.bid, self.ask)
        };
        self.bid_sz[0] = next_size(self.bid_sz[0], bid != self.bid, pressure, depth, rng);
        self.ask_sz[0] = next_size(self.ask_sz[0], ask != self.ask, -pressure, depth, rng);
        (self.bid, self.ask) = (bid, ask);
        self.redraw_deeper(rng);
    }

    /// Sizes of levels 2..depth: independent fresh draws, larger further out. They carry
    /// no signal; they exist so that depth-reading code has realistic input.
    fn redraw_deeper(&mut self, rng: &mut ChaCha8Rng) {
        for i in 1..self.depth {
            let scale = 1.0 + 0.5 * i as f64;
            self.bid_sz[i] = (scale * fresh_size(0.0, 1.0, rng)).round();
            self.ask_sz[i] = (scale * fresh_size(0.0, 1.0, rng)).round();
        }
    }

    /// The book as a quote stamped `ts`. Deeper bid levels that would sit at or below
    /// a zero price are left out (`depth` shrinks), which needs a bid under 5 ticks.
    pub fn quote(&self, ts: TsNs) -> Quote {
        let depth = self.depth.min(self.bid as usize);
        let mut bid = [Level::default(); MAX_LEVELS];
        let mut ask = [Level::default(); MAX_LEVELS];
        for i in 0..depth {
            bid[i] = Level { px: self.px(self.bid - i as i64), sz: self.bid_sz[i] };
            ask[i] = Level { px: self.px(self.ask + i as i64), sz: self.ask_sz[i] };
        }
        Quote { ts, bid, ask, depth }
    }

    /// A trade stamped `ts`: a buy with probability `(1 + pressure) / 2`, at the touch.
    pub fn trade(&self, ts: TsNs, pressure: f64, rng: &mut ChaCha8Rng) -> Trade {
        let buy = rng.random::<f64>() < 0.5 * (1.0 + pressure);
        let qty = (TRADE_SIZE * lognormal_unit(TRADE_SIZE_LOG_SD, rng)).round().max(1.0);
        let (px, side) = if buy {
            (self.px(self.ask), Aggressor::Buy)
        } else {
            (self.px(self.bid), Aggressor::Sell)
        };
        Trade { ts, px, qty, side }
    }

    fn px(&self, ticks: i64) -> f64 {
        self.grid.px(ticks as f64)
    }
}

/// Best bid and ask ticks centred within half a tick of latent mid `x`.
fn place(x: f64, wide: bool) -> (i64, i64) {
    if wide {
        let centre = x.round() as i64;
        (centre - 1, centre + 1)
    } else {
        let bid = x.floor() as i64;
        (bid, bid + 1)
    }
}

/// The next size of a best level: fresh if its price changed, else the old size pushed
/// by the pressure on its side, plus noise and reversion. At least 1, whole units.
fn next_size(old: f64, moved: bool, side_pressure: f64, depth: f64, rng: &mut ChaCha8Rng) -> f64 {
    if moved {
        return fresh_size(side_pressure, depth, rng);
    }
    let z: f64 = rng.sample(StandardNormal);
    let normal = QUOTE_SIZE * depth;
    let push = QUOTE_SIZE * (DRIFT_TILT * side_pressure + DRIFT_NOISE * z);
    (old + push + REVERT * (normal - old)).round().max(1.0)
}

/// A fresh level's size: lognormal around `QUOTE_SIZE`, tilted by the pressure on its
/// side and scaled by `depth`. At least 1, whole units.
fn fresh_size(side_pressure: f64, depth: f64, rng: &mut ChaCha8Rng) -> f64 {
    let tilt = (1.0 + FRESH_TILT * side_pressure) * depth;
    (QUOTE_SIZE * tilt * lognormal_unit(QUOTE_SIZE_LOG_SD, rng)).round().max(1.0)
}

/// A lognormal draw with mean 1 and log-sd `sd`.
fn lognormal_unit(sd: f64, rng: &mut ChaCha8Rng) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    (sd * z - 0.5 * sd * sd).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn book(x: f64, seed: u64) -> (Book, ChaCha8Rng) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (Book::new(x, PriceGrid::new(0.01), 5, &mut rng), rng)
    }

    #[test]
    fn narrow_placement_brackets_the_latent_mid() {
        assert_eq!(place(100.3, false), (100, 101));
        assert_eq!(place(100.0, false), (100, 101));
        assert_eq!(place(100.6, true), (100, 102));
        assert_eq!(place(100.4, true), (99, 101));
    }

    #[test]
    fn prices_are_the_nearest_decimal_on_a_cent_grid() {
        let grid = PriceGrid::new(0.01);
        assert_eq!(grid.px(10023.0), 100.23);
        assert_eq!(grid.px(35.0), 0.35); // 35.0 * 0.01 would give 0.35000000000000003
        assert_eq!(grid.px(7.0), 0.07);
        // A tick whose inverse is not whole falls back to multiplication.
        assert_eq!(PriceGrid::new(0.3).px(3.0), 3.0 * 0.3);
    }

    #[test]
    fn book_holds_still_inside_the_hysteresis_band() {
        let (mut book, mut rng) = book(100.5, 2);
        book.wide = false;
        for _ in 0..200 {
            let before = (book.bid, book.ask, book.wide);
            book.on_quote(100.5 + 0.55, 0.0, 1.0, &mut rng);
            if book.wide == before.2 && !before.2 {
                assert_eq!((book.bid, book.ask), (before.0, before.1));
            }
        }
    }

    #[test]
    fn book_recentres_when_the_latent_mid_leaves_the_band() {
        let (mut book, mut rng) = book(100.5, 3);
        book.on_quote(103.7, 0.0, 1.0, &mut rng);
        assert!((book.mid_ticks() - 103.7).abs() <= 0.5, "mid {}", book.mid_ticks());
    }

    #[test]
    fn buy_pressure_grows_resting_bids_and_shrinks_asks() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (mut bids, mut asks) = (0.0, 0.0);
        for _ in 0..2000 {
            bids += next_size(500.0, false, 0.8, 1.0, &mut rng) - 500.0;
            asks += next_size(500.0, false, -0.8, 1.0, &mut rng) - 500.0;
        }
        // Expected change per update: +-DRIFT_TILT * 0.8 * 500 = +-120, noise sd 50 per
        // update, so the mean of 2000 has sd 1.1; allow 5 (4.5 sd).
        assert!((bids / 2000.0 - 120.0).abs() < 5.0, "bids {}", bids / 2000.0);
        assert!((asks / 2000.0 + 120.0).abs() < 5.0, "asks {}", asks / 2000.0);
    }

    #[test]
    fn sizes_stay_whole_and_positive_under_extreme_pressure() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut size = 3.0;
        for _ in 0..1000 {
            size = next_size(size, false, -1.0, 0.1, &mut rng);
            assert!(size >= 1.0 && size.fract() == 0.0);
        }
    }

    #[test]
    fn trade_side_follows_pressure_and_prints_at_the_touch() {
        let (book, mut rng) = book(10000.5, 6);
        let trades: Vec<Trade> = (0..4000).map(|i| book.trade(TsNs(i), 0.5, &mut rng)).collect();
        let buys = trades.iter().filter(|t| t.side == Aggressor::Buy).count() as f64;
        // Binomial(4000, 0.75): sd = sqrt(4000 * 0.75 * 0.25) = 27.4; allow 4 sd.
        assert!((buys - 3000.0).abs() < 110.0, "buys {buys}");
        for t in &trades {
            let want = if t.side == Aggressor::Buy { 100.01 } else { 100.0 };
            assert_eq!(t.px, want);
        }
    }

    #[test]
    fn deeper_levels_step_away_one_tick_at_a_time() {
        let (book, _) = book(10000.5, 7);
        let q = book.quote(TsNs(0));
        assert_eq!(q.depth, 5);
        for i in 1..5 {
            assert!((q.bid[i - 1].px - q.bid[i].px - 0.01).abs() < 1e-9);
            assert!((q.ask[i].px - q.ask[i - 1].px - 0.01).abs() < 1e-9);
            assert!(q.bid[i].sz >= 1.0 && q.ask[i].sz >= 1.0);
        }
    }
}
