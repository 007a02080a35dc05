//! Stage 2 of the detector: thresholds, cooldown, warm-up, scoring and merging.
//!
//! `EventFilter` turns stage-1 `Candidates` into at most one `Event` per bar. It
//! holds only a fixed table of last-fire positions, so a grid search can run
//! thousands of filters over one stored candidate list cheaply.
//!
//! Order of checks for a pivot pair: warm-up, pair not seen before (then marked
//! seen), separation within `[min_separation, max_separation]`, then per present
//! channel: not cooling down, diverging, strong enough. Confirming channels merge
//! into one event, scored, and dropped below `weak_threshold`. A divergence that
//! survives wins over a conflict on the same bar; otherwise the conflict is tried.

use crate::core::{Channels, ParamRangeError};

use super::divergence::{channel_strength, price_type, type_slot, Strength};
use super::event::{Channel, ChannelSet, Event, EventKind, PivotRef, Reason, Reasons, Side};
use super::params::DetectorParams;
use super::pivots::{Candidates, ConflictReading, Pivot, PivotPair};
use super::score::{self, DivergenceParts};

/// Divergence consistency at or above this earns `Reason::Consistent`.
const CONSISTENT_DIVERGENCE: f64 = 0.7;
/// Conflict consistency at or below this earns `Reason::Consistent`.
const CONSISTENT_CONFLICT: f64 = 0.3;
/// Five event types (see `type_slot`) by three channels.
type FireTable = [[Option<u64>; 3]; 5];

/// Stage-2 filter for one parameter set.
#[derive(Clone, Debug)]
pub struct EventFilter {
    p: DetectorParams,
    channels: Channels,
    /// Divergence channels present, in `Channel::ALL` order.
    present: ChannelSet,
    warmup: u64,
    /// Valid-bar seq of the last emitted event per (type slot, channel).
    last_fire: FireTable,
    /// Seq of pivot B of the last pair evaluated, per `PivotKind`.
    last_pair_b: [Option<u64>; 2],
}

impl EventFilter {
    /// A filter for validated `params` over a source with `channels`.
    pub fn new(params: &DetectorParams, channels: Channels) -> Result<Self, ParamRangeError> {
        params.validate()?;
        Ok(EventFilter {
            p: params.clone(),
            channels,
            present: ChannelSet::from_channels(channels),
            warmup: params.effective_warmup(),
            last_fire: [[None; 3]; 5],
            last_pair_b: [None; 2],
        })
    }

    pub fn params(&self) -> &DetectorParams {
        &self.p
    }

    /// Valid bars that must pass before an event may fire.
    pub fn warmup(&self) -> u64 {
        self.warmup
    }

    /// Forgets cooldowns and seen pairs.
    pub fn reset(&mut self) {
        self.last_fire = [[None; 3]; 5];
        self.last_pair_b = [None; 2];
    }

    /// The event for this bar's candidates, if any survives.
    pub fn apply(&mut self, c: &Candidates) -> Option<Event> {
        if c.seq < self.warmup {
            return None;
        }
        let conflict = c.conflict.filter(|r| self.conflict_qualifies(r));
        if let Some(pair) = &c.pair {
            if let Some(ev) = self.divergence(c, pair, conflict.is_some()) {
                return Some(ev);
            }
        }
        conflict.and_then(|r| self.conflict_event(c, &r))
    }

    fn cooling(&self, slot: usize, channel: Channel, seq: u64) -> bool {
        let last = self.last_fire[slot][channel.idx()];
        // Saturating: candidates fed out of order count as cooling, never wrap.
        last.is_some_and(|s| seq.saturating_sub(s) <= self.p.cooldown as u64)
    }

    /// Marks the pair seen; false when it (or a later one) was seen already.
    fn first_sighting(&mut self, pair: &PivotPair) -> bool {
        let seen = &mut self.last_pair_b[pair.kind as usize];
        if seen.is_some_and(|b| b >= pair.b.seq) {
            return false;
        }
        *seen = Some(pair.b.seq);
        true
    }

    fn divergence(&mut self, c: &Candidates, pair: &PivotPair, conflict: bool) -> Option<Event> {
        // Pair gates.
        let t = price_type(pair)?;
        if !self.first_sighting(pair) {
            return None;
        }
        let d = pair.b.seq.saturating_sub(pair.a.seq);
        if d < self.p.min_separation as u64 || d > self.p.max_separation as u64 {
            return None;
        }

        // Channels.
        let slot = type_slot(t.0, t.1);
        let (fired, primary) = self.confirming_channels(c.seq, pair, t, slot)?;

        // Score.
        let parts = self.parts(pair, d, fired, &primary);
        let score = parts.total();
        if score < self.p.weak_threshold {
            return None;
        }
        for ch in fired.iter() {
            self.last_fire[slot][ch.idx()] = Some(c.seq);
        }
        let reasons = self.divergence_reasons(pair, fired, &primary, &parts, conflict);
        let pivot = |p: &Pivot| PivotRef {
            index: p.index,
            ts: p.ts,
            price: p.price,
            indicator: p.ind[primary.channel.idx()],
        };
        Some(Event {
            index: c.index,
            ts: c.ts,
            price: c.price,
            kind: t.0,
            side: t.1,
            channels: fired,
            primary: primary.channel,
            score,
            pivot_a: Some(pivot(&pair.a)),
            pivot_b: Some(pivot(&pair.b)),
            reasons,
        })
    }

    /// Present channels not cooling down that confirm `t`, and the strongest of them.
    fn confirming_channels(
        &self,
        seq: u64,
        pair: &PivotPair,
        t: (EventKind, Side),
        slot: usize,
    ) -> Option<(ChannelSet, Strength)> {
        let mut fired = ChannelSet::EMPTY;
        let mut best: Option<Strength> = None;
        for ch in self.present.iter() {
            if self.cooling(slot, ch, seq) {
                continue;
            }
            let Some(s) = channel_strength(pair, t, ch, self.p.z_hi, self.p.z_mid) else {
                continue;
            };
            fired = fired.with(ch);
            // Strict: on a tie the earlier channel in Channel::ALL stays primary.
            if best.is_none_or(|b| s.beats(&b)) {
                best = Some(s);
            }
        }
        best.map(|b| (fired, b))
    }

    fn parts(&self, pair: &PivotPair, d: u64, fired: ChannelSet, s: &Strength) -> DivergenceParts {
        let p = &self.p;
        DivergenceParts {
            strength: score::divergence_size(s.strong, s.weak, p.z_hi),
            swing: score::swing(pair.span_high, pair.span_low, pair.b.price, p.swing_full_bps),
            separation: score::separation(d, p.min_separation, p.max_separation),
            agreement: fired.len() as f64 / self.present.len() as f64,
            consistency: score::consistency(pair.b.consistency),
        }
    }

    fn divergence_reasons(
        &self,
        pair: &PivotPair,
        fired: ChannelSet,
        s: &Strength,
        parts: &DivergenceParts,
        conflict: bool,
    ) -> Reasons {
        let c = pair.b.consistency;
        Reasons::default()
            .with_if(Reason::StrongIndicator, s.strong >= 2.0 * self.p.z_hi)
            .with_if(Reason::MultiChannel, fired.len() >= 2)
            .with_if(Reason::Consistent, c.is_finite() && c >= CONSISTENT_DIVERGENCE)
            .with_if(Reason::NoConsistency, !c.is_finite())
            .with_if(Reason::WideSwing, parts.swing >= 1.0)
            .with_if(Reason::ConflictOnBar, conflict)
    }

    /// |z_ofi| >= z_hi and |z_cvd| >= z_mid with opposite signs, both channels present.
    fn conflict_qualifies(&self, r: &ConflictReading) -> bool {
        let (o, v) = (r.z_ofi, r.z_cvd);
        let opposite = (o > 0.0 && v < 0.0) || (o < 0.0 && v > 0.0);
        self.channels.ofi
            && self.channels.cvd
            && opposite
            && r.z_ofi.abs() >= self.p.z_hi
            && r.z_cvd.abs() >= self.p.z_mid
    }

    fn conflict_event(&mut self, c: &Candidates, r: &ConflictReading) -> Option<Event> {
        let slot = type_slot(EventKind::Conflict, Side::None);
        if self.cooling(slot, Channel::Ofi, c.seq) {
            return None;
        }
        let score = score::conflict(r.z_ofi, r.z_cvd, r.consistency, self.p.z_hi, self.p.z_mid);
        if score < self.p.weak_threshold {
            return None;
        }
        self.last_fire[slot][Channel::Ofi.idx()] = Some(c.seq);
        let k = r.consistency;
        let reasons = Reasons::default()
            .with_if(Reason::StrongIndicator, r.z_ofi.abs() >= 2.0 * self.p.z_hi)
            .with_if(Reason::Consistent, k.is_finite() && k <= CONSISTENT_CONFLICT)
            .with_if(Reason::NoConsistency, !k.is_finite());
        Some(Event {
            index: c.index,
            ts: c.ts,
            price: c.price,
            kind: EventKind::Conflict,
            side: Side::None,
            channels: ChannelSet::EMPTY.with(Channel::Ofi).with(Channel::Cvd),
            primary: Channel::Ofi,
            score,
            pivot_a: None,
            pivot_b: None,
            reasons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::TsNs;

    fn conflict_at(seq: u64) -> Candidates {
        let reading = ConflictReading { z_ofi: 2.0, z_cvd: -1.0, consistency: 0.1 };
        Candidates { index: seq, seq, ts: TsNs(0), price: 1.0, pair: None, conflict: Some(reading) }
    }

    fn filter(cooldown: usize) -> EventFilter {
        let p = DetectorParams { swing_l: 1, warmup: 0, cooldown, ..Default::default() };
        EventFilter::new(&p, Channels::ALL).unwrap()
    }

    #[test]
    fn conflict_cooldown_silences_exactly_cooldown_bars() {
        let mut f = filter(3);
        let fired: Vec<u64> = (3..12).filter(|&s| f.apply(&conflict_at(s)).is_some()).collect();
        assert_eq!(fired, vec![3, 7, 11]);
    }

    #[test]
    fn candidates_fed_out_of_order_count_as_cooling_instead_of_wrapping() {
        let mut f = filter(0);
        assert!(f.apply(&conflict_at(10)).is_some());
        assert!(f.apply(&conflict_at(9)).is_none());
        assert!(f.apply(&conflict_at(11)).is_some());
    }

    #[test]
    fn reset_forgets_cooldowns() {
        let mut f = filter(100);
        assert!(f.apply(&conflict_at(5)).is_some());
        assert!(f.apply(&conflict_at(6)).is_none());
        f.reset();
        assert!(f.apply(&conflict_at(6)).is_some());
    }

    #[test]
    fn conflict_reasons_mark_low_consistency_as_consistent() {
        let e = filter(0).apply(&conflict_at(5)).unwrap();
        assert_eq!(e.reasons.to_string(), "consistent");
        let c = Candidates {
            conflict: Some(ConflictReading { z_ofi: -3.3, z_cvd: 0.7, consistency: f64::NAN }),
            ..conflict_at(5)
        };
        let e = filter(0).apply(&c).unwrap();
        assert_eq!(e.reasons.to_string(), "strong_indicator|no_consistency");
    }
}
