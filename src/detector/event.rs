//! What the detector emits: `Event` and its small vocabulary.
//!
//! Everything here is `Copy` and heap-free so that emitting an event costs no
//! allocation. `EventKind`, `Side`, `Channel`, `ChannelSet` and `Reason` have
//! stable lower-case names (`as_str`) used as strings in Parquet and CSV.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::{Channels, TsNs};

/// The family of an event.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// Price and indicator pivots disagree in the reversal sense (lower low vs higher low).
    Regular,
    /// Price and indicator pivots disagree in the continuation sense.
    Hidden,
    /// OFI and CVD are both stretched on one bar, with opposite signs.
    Conflict,
}

impl EventKind {
    pub const ALL: [EventKind; 3] = [EventKind::Regular, EventKind::Hidden, EventKind::Conflict];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Regular => "regular",
            EventKind::Hidden => "hidden",
            EventKind::Conflict => "conflict",
        }
    }
}

/// The price direction an event expects.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// Expects price up.
    Bull,
    /// Expects price down.
    Bear,
    /// No direction (conflict warnings).
    None,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Bull => "bull",
            Side::Bear => "bear",
            Side::None => "none",
        }
    }

    /// +1 for bull, -1 for bear, 0 for none: the sign of the expected return.
    pub fn sign(self) -> f64 {
        match self {
            Side::Bull => 1.0,
            Side::Bear => -1.0,
            Side::None => 0.0,
        }
    }
}

/// One order-flow indicator the detector compares price against.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    Ofi = 0,
    Cvd = 1,
    Fusion = 2,
}

impl Channel {
    /// In tie-breaking order: the earlier channel wins a tie for primary.
    pub const ALL: [Channel; 3] = [Channel::Ofi, Channel::Cvd, Channel::Fusion];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Ofi => "ofi",
            Channel::Cvd => "cvd",
            Channel::Fusion => "fusion",
        }
    }

    /// Position in per-channel arrays such as `Pivot::ind`.
    pub fn idx(self) -> usize {
        self as usize
    }
}

/// A set of channels as a 3-bit mask (bit 0 ofi, bit 1 cvd, bit 2 fusion).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelSet(pub u8);

impl ChannelSet {
    pub const EMPTY: ChannelSet = ChannelSet(0);
    const LABELS: [&'static str; 8] =
        ["none", "ofi", "cvd", "ofi+cvd", "fusion", "ofi+fusion", "cvd+fusion", "ofi+cvd+fusion"];

    /// The channels a source has.
    pub fn from_channels(ch: Channels) -> Self {
        let on = [ch.ofi, ch.cvd, ch.fusion];
        Channel::ALL.into_iter().filter(|c| on[c.idx()]).fold(Self::EMPTY, Self::with)
    }

    pub fn with(self, c: Channel) -> Self {
        ChannelSet(self.0 | 1 << c.idx())
    }

    pub fn contains(self, c: Channel) -> bool {
        self.0 & (1 << c.idx()) != 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Members in `Channel::ALL` order.
    pub fn iter(self) -> impl Iterator<Item = Channel> {
        Channel::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// Name such as `ofi+fusion`; `none` for the empty set.
    pub fn as_str(self) -> &'static str {
        Self::LABELS[(self.0 & 7) as usize]
    }
}

/// Why an event scored as it did; stored as bits of [`Reasons`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The primary reading reached twice `z_hi` (strength credit saturated).
    StrongIndicator = 0,
    /// Two or more channels confirmed the divergence on the same pivot pair.
    MultiChannel = 1,
    /// The consistency reading supports the event (see docs/detector.md).
    Consistent = 2,
    /// Consistency was NaN, so its score component was neutral.
    NoConsistency = 3,
    /// The price range over the pivot pair reached `swing_full_bps`.
    WideSwing = 4,
    /// A qualifying OFI-CVD conflict on the same bar lost to this divergence.
    ConflictOnBar = 5,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::StrongIndicator,
        Reason::MultiChannel,
        Reason::Consistent,
        Reason::NoConsistency,
        Reason::WideSwing,
        Reason::ConflictOnBar,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::StrongIndicator => "strong_indicator",
            Reason::MultiChannel => "multi_channel",
            Reason::Consistent => "consistent",
            Reason::NoConsistency => "no_consistency",
            Reason::WideSwing => "wide_swing",
            Reason::ConflictOnBar => "conflict_on_bar",
        }
    }
}

/// A set of [`Reason`]s as a bit mask.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reasons(pub u16);

impl Reasons {
    pub fn with(self, r: Reason) -> Self {
        Reasons(self.0 | 1 << r as u16)
    }

    /// Adds `r` when `cond` holds.
    pub fn with_if(self, r: Reason, cond: bool) -> Self {
        if cond {
            self.with(r)
        } else {
            self
        }
    }

    pub fn contains(self, r: Reason) -> bool {
        self.0 & (1 << r as u16) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

/// `|`-separated names in `Reason::ALL` order, empty for no reasons.
impl fmt::Display for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(r.as_str())?;
        }
        Ok(())
    }
}

/// One pivot of a divergence as the event records it.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PivotRef {
    /// Bar index of the pivot bar (same counting as `Event::index`).
    pub index: u64,
    pub ts: TsNs,
    pub price: f64,
    /// The primary channel's value at the pivot bar.
    pub indicator: f64,
}

/// One detector event, dated at the bar where it became knowable.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Index of the confirming bar among all bars fed since construction or `reset`,
    /// skipped (non-finite) bars included.
    pub index: u64,
    /// Close time of the confirming bar.
    pub ts: TsNs,
    /// Price of the confirming bar: the entry price for forward returns.
    pub price: f64,
    pub kind: EventKind,
    pub side: Side,
    /// Channels that fired (conflicts: ofi+cvd).
    pub channels: ChannelSet,
    /// The channel whose readings fill `pivot_a/b.indicator` (conflicts: ofi).
    pub primary: Channel,
    /// 0-100, see docs/detector.md.
    pub score: f64,
    /// Older pivot; `None` for conflicts.
    pub pivot_a: Option<PivotRef>,
    /// Newer pivot; `None` for conflicts.
    pub pivot_b: Option<PivotRef>,
    pub reasons: Reasons,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_set_names_every_combination() {
        let s = ChannelSet::EMPTY.with(Channel::Ofi).with(Channel::Fusion);
        assert_eq!(s.as_str(), "ofi+fusion");
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![Channel::Ofi, Channel::Fusion]);
        assert_eq!(ChannelSet::EMPTY.as_str(), "none");
        assert_eq!(ChannelSet(7).as_str(), "ofi+cvd+fusion");
        assert_eq!(ChannelSet(2).as_str(), Channel::Cvd.as_str());
        assert_eq!(ChannelSet::from_channels(Channels::CVD_ONLY).as_str(), "cvd");
        assert_eq!(ChannelSet::from_channels(Channels::ALL).as_str(), "ofi+cvd+fusion");
    }

    #[test]
    fn reasons_print_in_fixed_order_joined_by_bars() {
        let r = Reasons::default().with(Reason::WideSwing).with(Reason::StrongIndicator);
        assert_eq!(r.to_string(), "strong_indicator|wide_swing");
        assert_eq!(Reasons::default().to_string(), "");
        assert!(!r.with_if(Reason::Consistent, false).contains(Reason::Consistent));
    }

    #[test]
    fn enum_names_are_distinct_lower_case_words() {
        let mut names: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        names.extend([Side::Bull, Side::Bear, Side::None].map(Side::as_str));
        names.extend(Reason::ALL.map(Reason::as_str));
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    }
}
