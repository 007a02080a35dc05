//! Market buckets: session (day or night by local hour), liquidity (active
//! or quiet by a trailing activity measure against a threshold fixed on the
//! training period), and source (the channel that produced the event).
//!
//! An event belongs to the bucket of its confirmation bar, and every bucket
//! value of a bar uses only data up to that bar: the session is a function
//! of the bar's own time, the liquidity measure is a trailing mean, and its
//! threshold comes from training bars, which all precede the test period.

use crate::core::{Bar, TsNs};
use crate::detector::{Channel, ChannelSet};
use chrono::{TimeZone, Timelike};
use serde::{Deserialize, Serialize};

/// A bucket dimension.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Session,
    Liquidity,
    Source,
}

/// Session of a bar: `Day` between the configured local hours.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Session {
    Day,
    Night,
}

/// Liquidity of a bar against its symbol's training threshold.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Liquidity {
    Active,
    Quiet,
}

/// The channel mix that produced an event.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    OfiOnly,
    CvdOnly,
    Fusion,
}

impl Session {
    pub const ALL: [Session; 2] = [Session::Day, Session::Night];
    pub fn as_str(self) -> &'static str {
        match self {
            Session::Day => "day",
            Session::Night => "night",
        }
    }
}

impl Liquidity {
    pub const ALL: [Liquidity; 2] = [Liquidity::Active, Liquidity::Quiet];
    pub fn as_str(self) -> &'static str {
        match self {
            Liquidity::Active => "active",
            Liquidity::Quiet => "quiet",
        }
    }
}

impl Source {
    pub const ALL: [Source; 3] = [Source::OfiOnly, Source::CvdOnly, Source::Fusion];
    pub fn as_str(self) -> &'static str {
        match self {
            Source::OfiOnly => "OFI_ONLY",
            Source::CvdOnly => "CVD_ONLY",
            Source::Fusion => "FUSION",
        }
    }

    /// Fusion when the fusion channel fired or OFI and CVD fired together.
    pub fn of(channels: ChannelSet) -> Source {
        let (ofi, cvd) = (channels.contains(Channel::Ofi), channels.contains(Channel::Cvd));
        if channels.contains(Channel::Fusion) || (ofi && cvd) {
            Source::Fusion
        } else if ofi {
            Source::OfiOnly
        } else {
            Source::CvdOnly
        }
    }
}

/// A cell's bucket: each dimension either a value or `None` for "all".
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketKey {
    pub session: Option<Session>,
    pub liquidity: Option<Liquidity>,
    pub source: Option<Source>,
}

impl Serialize for BucketKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("BucketKey", 3)?;
        st.serialize_field("session", self.session.map_or("all", Session::as_str))?;
        st.serialize_field("liquidity", self.liquidity.map_or("all", Liquidity::as_str))?;
        st.serialize_field("source", self.source.map_or("all", Source::as_str))?;
        st.end()
    }
}

impl BucketKey {
    pub const GLOBAL: BucketKey = BucketKey { session: None, liquidity: None, source: None };

    pub fn is_global(&self) -> bool {
        *self == BucketKey::GLOBAL
    }

    /// Whether every dimension in `dims` is set and no other is.
    pub fn is_full(&self, dims: &[Dimension]) -> bool {
        let want = |d: Dimension| dims.contains(&d);
        self.session.is_some() == want(Dimension::Session)
            && self.liquidity.is_some() == want(Dimension::Liquidity)
            && self.source.is_some() == want(Dimension::Source)
    }

    /// `session=day,liquidity=all,source=FUSION` style label.
    pub fn label(&self) -> String {
        format!(
            "session={},liquidity={},source={}",
            self.session.map_or("all", Session::as_str),
            self.liquidity.map_or("all", Liquidity::as_str),
            self.source.map_or("all", Source::as_str)
        )
    }

    /// Every key an event with these exact values counts towards: each
    /// configured dimension either at its value or at "all".
    pub fn rollups(
        session: Session,
        liquidity: Liquidity,
        source: Source,
        dims: &[Dimension],
    ) -> Vec<BucketKey> {
        let opts = |on: bool| if on { vec![false, true] } else { vec![false] };
        let mut keys = Vec::with_capacity(8);
        for s in opts(dims.contains(&Dimension::Session)) {
            for l in opts(dims.contains(&Dimension::Liquidity)) {
                for c in opts(dims.contains(&Dimension::Source)) {
                    keys.push(BucketKey {
                        session: s.then_some(session),
                        liquidity: l.then_some(liquidity),
                        source: c.then_some(source),
                    });
                }
            }
        }
        keys
    }
}

/// The `buckets:` section of the config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BucketConfig {
    /// Which dimensions to bucket by; an empty list tunes globally only.
    pub dimensions: Vec<Dimension>,
    pub session: SessionConfig,
    pub liquidity: LiquidityConfig,
}

impl Default for BucketConfig {
    fn default() -> Self {
        BucketConfig {
            dimensions: vec![Dimension::Session, Dimension::Liquidity, Dimension::Source],
            session: SessionConfig::default(),
            liquidity: LiquidityConfig::default(),
        }
    }
}

/// Day session hours in a time zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// IANA time zone of the hours below.
    pub tz: String,
    /// Start of the day session, `HH:MM` local time (inclusive).
    pub day_start: String,
    /// End of the day session, `HH:MM` local time (exclusive).
    pub day_end: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { tz: "UTC".into(), day_start: "09:00".into(), day_end: "17:00".into() }
    }
}

/// What makes a bar active.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiquidityConfig {
    pub measure: LiquidityMeasure,
    /// Bars in the trailing mean.
    pub window: usize,
    /// Quantile of the training bars' measure used as the threshold.
    pub quantile: f64,
    /// One threshold per symbol (symbols differ in scale) or one for all.
    pub per_symbol: bool,
}

impl Default for LiquidityConfig {
    fn default() -> Self {
        LiquidityConfig {
            measure: LiquidityMeasure::Auto,
            window: 300,
            quantile: 0.5,
            per_symbol: true,
        }
    }
}

/// The trailing activity measure.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiquidityMeasure {
    /// Trades per bar where the data has trades, else volatility.
    Auto,
    /// Mean trades per bar.
    TradeRate,
    /// Mean absolute log return per bar.
    Volatility,
}

/// Checked session hours.
#[derive(Copy, Clone, Debug)]
pub struct SessionClock {
    tz: chrono_tz::Tz,
    start_min: u32,
    end_min: u32,
}

impl SessionClock {
    pub fn new(config: &SessionConfig) -> Result<SessionClock, String> {
        let tz = config
            .tz
            .parse::<chrono_tz::Tz>()
            .map_err(|_| format!("buckets.session.tz: `{}` is not an IANA time zone", config.tz))?;
        let minutes = |text: &str, key: &str| -> Result<u32, String> {
            let bad = || format!("buckets.session.{key}: `{text}` is not a time such as 09:00");
            let (h, m) = text.split_once(':').ok_or_else(bad)?;
            let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            if h > 24 || m > 59 || h * 60 + m > 24 * 60 {
                return Err(bad());
            }
            Ok(h * 60 + m)
        };
        Ok(SessionClock {
            tz,
            start_min: minutes(&config.day_start, "day_start")?,
            end_min: minutes(&config.day_end, "day_end")?,
        })
    }

    /// Day when the local time of `ts` is in [start, end); a window that
    /// wraps midnight (22:00-06:00) is honoured.
    pub fn session(&self, ts: TsNs) -> Session {
        let local = self.tz.timestamp_nanos(ts.0);
        let minute = local.hour() * 60 + local.minute();
        let inside = if self.start_min <= self.end_min {
            (self.start_min..self.end_min).contains(&minute)
        } else {
            minute >= self.start_min || minute < self.end_min
        };
        if inside {
            Session::Day
        } else {
            Session::Night
        }
    }
}

impl LiquidityConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=1_000_000).contains(&self.window) {
            return Err(format!(
                "buckets.liquidity.window must be in [1, 1000000], got {}",
                self.window
            ));
        }
        if !(self.quantile > 0.0 && self.quantile < 1.0) {
            return Err(format!(
                "buckets.liquidity.quantile must be in (0, 1), got {}",
                self.quantile
            ));
        }
        Ok(())
    }

    /// The trailing measure at every bar: the mean over the last `window`
    /// bars up to and including the bar (fewer at the start). NaN inputs
    /// are left out of the mean.
    pub fn trailing_measure(&self, bars: &[Bar]) -> (Vec<f64>, LiquidityMeasure) {
        let has_trades = bars.iter().any(|b| b.activity.is_finite());
        let measure = match self.measure {
            LiquidityMeasure::Auto if has_trades => LiquidityMeasure::TradeRate,
            LiquidityMeasure::Auto => LiquidityMeasure::Volatility,
            m => m,
        };
        let raw: Vec<f64> = match measure {
            LiquidityMeasure::Volatility => std::iter::once(f64::NAN)
                .chain(bars.windows(2).map(|w| (w[1].price / w[0].price).ln().abs()))
                .collect(),
            _ => bars.iter().map(|b| b.activity).collect(),
        };
        (trailing_mean(&raw, self.window), measure)
    }
}

/// Mean of the finite values among the last `window` values up to each
/// position.
pub fn trailing_mean(values: &[f64], window: usize) -> Vec<f64> {
    let (mut sum, mut count) = (0.0, 0usize);
    let mut out = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        if v.is_finite() {
            sum += v;
            count += 1;
        }
        if i >= window {
            let old = values[i - window];
            if old.is_finite() {
                sum -= old;
                count -= 1;
            }
        }
        out.push(if count > 0 { sum / count as f64 } else { f64::NAN });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_follows_local_hours_and_wraps_midnight() {
        let utc = SessionClock::new(&SessionConfig::default()).unwrap();
        let at =
            |h: i64, m: i64| TsNs(1_722_902_400_000_000_000 + (h * 3600 + m * 60) * 1_000_000_000);
        assert_eq!(utc.session(at(9, 0)), Session::Day);
        assert_eq!(utc.session(at(16, 59)), Session::Day);
        assert_eq!(utc.session(at(17, 0)), Session::Night);
        assert_eq!(utc.session(at(8, 59)), Session::Night);
        let shanghai = SessionConfig { tz: "Asia/Shanghai".into(), ..Default::default() };
        let clock = SessionClock::new(&shanghai).unwrap();
        assert_eq!(clock.session(at(1, 0)), Session::Day, "09:00 in Shanghai is 01:00 UTC");
        let wrap = SessionConfig {
            day_start: "22:00".into(),
            day_end: "06:00".into(),
            ..Default::default()
        };
        let clock = SessionClock::new(&wrap).unwrap();
        assert_eq!(clock.session(at(23, 0)), Session::Day);
        assert_eq!(clock.session(at(12, 0)), Session::Night);
        assert!(SessionClock::new(&SessionConfig {
            day_start: "9am".into(),
            ..Default::default()
        })
        .is_err());
    }

    #[test]
    fn trailing_mean_uses_only_the_past_and_skips_nan() {
        let got = trailing_mean(&[1.0, 3.0, f64::NAN, 5.0, 7.0], 2);
        assert_eq!(got[0], 1.0);
        assert_eq!(got[1], 2.0);
        assert_eq!(got[2], 3.0);
        assert_eq!(got[3], 5.0);
        assert_eq!(got[4], 6.0);
    }

    #[test]
    fn rollups_cover_each_dimension_at_its_value_and_at_all() {
        let dims = [Dimension::Session, Dimension::Source];
        let keys = BucketKey::rollups(Session::Day, Liquidity::Quiet, Source::Fusion, &dims);
        assert_eq!(keys.len(), 4);
        assert!(keys.contains(&BucketKey::GLOBAL));
        assert!(keys.iter().all(|k| k.liquidity.is_none()));
        assert!(keys.iter().filter(|k| k.is_full(&dims)).count() == 1);
    }

    #[test]
    fn source_is_fusion_when_both_flows_or_fusion_fire() {
        let set = |cs: &[Channel]| cs.iter().fold(ChannelSet::EMPTY, |s, c| s.with(*c));
        assert_eq!(Source::of(set(&[Channel::Ofi])), Source::OfiOnly);
        assert_eq!(Source::of(set(&[Channel::Cvd])), Source::CvdOnly);
        assert_eq!(Source::of(set(&[Channel::Ofi, Channel::Cvd])), Source::Fusion);
        assert_eq!(Source::of(set(&[Channel::Fusion])), Source::Fusion);
    }
}
