//! Streaming divergence detector: price pivots against order-flow indicators.
//!
//! `Detector` reads one `Bar` at a time and emits at most one `Event` per bar:
//! a regular or hidden divergence between price and z_ofi / z_cvd / fusion at
//! the last two same-kind price pivots, or an OFI-CVD conflict warning. It does
//! no I/O, reads no clock, allocates nothing per bar and keeps memory fixed by
//! `swing_l`. docs/detector.md is the full specification.
//!
//! The work is split in two stages so that a grid search can share the costly
//! part: `PivotTracker` (depends on `PivotKey` only) produces `Candidates`, and
//! `EventFilter` (thresholds, cooldown, score) turns them into events. `Detector`
//! is simply the two chained; [`candidates`] and [`filter_candidates`] run them
//! separately over a slice.

pub mod divergence;
pub mod event;
pub mod filter;
pub mod params;
pub mod pivots;
pub mod score;
pub mod window;

pub use event::{Channel, ChannelSet, Event, EventKind, PivotRef, Reason, Reasons, Side};
pub use filter::EventFilter;
pub use params::{DetectorParams, PivotKey, NAMES};
pub use pivots::{
    Candidates, ConflictFloor, ConflictReading, Pivot, PivotKind, PivotPair, PivotTracker,
};

use crate::core::{Bar, Channels, ParamRangeError};

/// One parameter set's detector over one bar stream (one symbol-day).
#[derive(Clone, Debug)]
pub struct Detector {
    tracker: PivotTracker,
    filter: EventFilter,
}

impl Detector {
    /// Validates `params` and sizes the buffers for `params.swing_l`.
    pub fn new(params: DetectorParams, channels: Channels) -> Result<Detector, ParamRangeError> {
        let filter = EventFilter::new(&params, channels)?;
        let tracker = PivotTracker::new(params.swing_l, channels, ConflictFloor::of(&params))?;
        Ok(Detector { tracker, filter })
    }

    /// Feeds one bar; returns the event this bar confirms, if any.
    ///
    /// A bar with a non-finite price or present-channel value changes nothing but
    /// the bar index, which counts every bar fed since `new` or `reset`.
    pub fn update(&mut self, bar: &Bar) -> Option<Event> {
        let c = self.tracker.update(bar)?;
        self.filter.apply(&c)
    }

    /// Back to the state right after `new`: the next bar gets index 0.
    pub fn reset(&mut self) {
        self.tracker.reset();
        self.filter.reset();
    }

    /// True once `effective_warmup` valid bars were seen: the next valid bar may fire.
    pub fn is_warm(&self) -> bool {
        self.tracker.valid_bars() >= self.filter.warmup()
    }

    pub fn params(&self) -> &DetectorParams {
        self.filter.params()
    }

    /// Bars fed since `new` or `reset`, skipped ones included.
    pub fn bars_fed(&self) -> u64 {
        self.tracker.bars_fed()
    }

    /// Total slots of the internal buffers; fixed at construction.
    pub fn buffer_capacity(&self) -> usize {
        self.tracker.buffer_capacity()
    }
}

/// All events of `params` over `bars`, from a fresh detector.
pub fn replay(
    bars: &[Bar],
    params: DetectorParams,
    channels: Channels,
) -> Result<Vec<Event>, ParamRangeError> {
    let mut d = Detector::new(params, channels)?;
    Ok(bars.iter().filter_map(|b| d.update(b)).collect())
}

/// Stage 1 over `bars`: every bar's candidates, for sharing across parameter sets
/// with the same `PivotKey`. `floor` must not exceed any of those sets' thresholds
/// (use `ConflictFloor::for_sets`), or their conflicts will be missed.
pub fn candidates(
    bars: &[Bar],
    key: PivotKey,
    channels: Channels,
    floor: ConflictFloor,
) -> Result<Vec<Candidates>, ParamRangeError> {
    let mut t = PivotTracker::new(key.swing_l, channels, floor)?;
    Ok(bars.iter().filter_map(|b| t.update(b)).collect())
}

/// Stage 2 over stored candidates: the same events `replay` gives for `params`.
pub fn filter_candidates(
    cands: &[Candidates],
    params: &DetectorParams,
    channels: Channels,
) -> Result<Vec<Event>, ParamRangeError> {
    let mut f = EventFilter::new(params, channels)?;
    Ok(cands.iter().filter_map(|c| f.apply(c)).collect())
}

#[cfg(test)]
mod tests;
