//! Detector parameters: defaults, documented ranges, validation and access by name.
//!
//! `DetectorParams` is what a YAML config or a grid point sets. Every field has a
//! range in [`SPECS`]; [`DetectorParams::set`] checks one field against its own
//! range (so a grid can set fields one at a time in any order) and
//! [`DetectorParams::validate`] checks every field plus the two cross-field rules
//! (`z_mid <= z_hi`, `min_separation <= max_separation`).

use serde::{Deserialize, Serialize};

use crate::core::ParamRangeError;

/// Parameters of the divergence detector. See docs/detector.md for meanings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorParams {
    /// Bars on each side of a pivot; a pivot is confirmed `swing_l` bars later.
    pub swing_l: usize,
    /// The stronger pivot reading (and the OFI side of a conflict) must reach this |z|.
    pub z_hi: f64,
    /// The weaker pivot reading (and the CVD side of a conflict) must reach this |z|.
    pub z_mid: f64,
    /// Pivots fewer than this many valid bars apart are not paired.
    pub min_separation: usize,
    /// Pivots more than this many valid bars apart are not paired (stale).
    pub max_separation: usize,
    /// Valid bars after an event during which the same (type, channel) stays silent.
    pub cooldown: usize,
    /// Valid bars before any event may fire; raised to `2 * swing_l + 1` if smaller.
    pub warmup: usize,
    /// Events scoring below this (0-100) are not emitted.
    pub weak_threshold: f64,
    /// Price range over the pivot pair, in basis points, that earns full swing credit.
    pub swing_full_bps: f64,
}

impl Default for DetectorParams {
    fn default() -> Self {
        DetectorParams {
            swing_l: 13,
            z_hi: 1.6,
            z_mid: 0.6,
            min_separation: 20,
            max_separation: 200,
            cooldown: 10,
            warmup: 50,
            weak_threshold: 20.0,
            swing_full_bps: 20.0,
        }
    }
}

/// The parameters stage 1 (`PivotTracker`) depends on. Parameter sets with equal
/// keys can share one pivot pass; group a grid by this before replaying.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PivotKey {
    pub swing_l: usize,
}

/// The documented range of one parameter.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub lo: f64,
    pub hi: f64,
    /// True when `lo` itself is excluded.
    pub lo_open: bool,
    /// True for count parameters, which must be whole numbers.
    pub integer: bool,
}

impl ParamSpec {
    const fn int(name: &'static str, lo: f64, hi: f64) -> Self {
        ParamSpec { name, lo, hi, lo_open: false, integer: true }
    }

    const fn real(name: &'static str, lo: f64, hi: f64, lo_open: bool) -> Self {
        ParamSpec { name, lo, hi, lo_open, integer: false }
    }

    /// The range as text, e.g. `[1, 500]`, `(0, 10]`, `integer in [0, 100000]`.
    pub fn range_text(&self) -> String {
        let open = if self.lo_open { '(' } else { '[' };
        let kind = if self.integer { "integer in " } else { "" };
        format!("{kind}{open}{}, {}]", self.lo, self.hi)
    }

    /// Whether `v` lies in the range (NaN never does).
    pub fn contains(&self, v: f64) -> bool {
        let above_lo = if self.lo_open { v > self.lo } else { v >= self.lo };
        let whole = !self.integer || v.fract() == 0.0;
        above_lo && v <= self.hi && whole
    }

    fn check(&self, v: f64) -> Result<(), ParamRangeError> {
        if self.contains(v) {
            Ok(())
        } else {
            Err(ParamRangeError::new(self.name, &self.range_text(), v))
        }
    }
}

/// Every parameter's range, in the order of [`NAMES`].
pub const SPECS: &[ParamSpec] = &[
    ParamSpec::int("swing_l", 1.0, 500.0),
    ParamSpec::real("z_hi", 0.0, 10.0, true),
    ParamSpec::real("z_mid", 0.0, 10.0, false),
    ParamSpec::int("min_separation", 1.0, 100_000.0),
    ParamSpec::int("max_separation", 1.0, 100_000.0),
    ParamSpec::int("cooldown", 0.0, 100_000.0),
    ParamSpec::int("warmup", 0.0, 1_000_000.0),
    ParamSpec::real("weak_threshold", 0.0, 100.0, false),
    ParamSpec::real("swing_full_bps", 0.0, 10_000.0, true),
];

/// Names accepted by [`DetectorParams::get`] and [`DetectorParams::set`].
pub const NAMES: &[&str] = &[
    "swing_l",
    "z_hi",
    "z_mid",
    "min_separation",
    "max_separation",
    "cooldown",
    "warmup",
    "weak_threshold",
    "swing_full_bps",
];

/// The range of the parameter called `name`, if there is one.
pub fn spec(name: &str) -> Option<&'static ParamSpec> {
    SPECS.iter().find(|s| s.name == name)
}

impl DetectorParams {
    /// Names accepted by `get` and `set`.
    pub const NAMES: &'static [&'static str] = NAMES;

    /// The value of parameter `name` as f64 (counts converted exactly).
    pub fn get(&self, name: &str) -> Option<f64> {
        let v = match name {
            "swing_l" => self.swing_l as f64,
            "z_hi" => self.z_hi,
            "z_mid" => self.z_mid,
            "min_separation" => self.min_separation as f64,
            "max_separation" => self.max_separation as f64,
            "cooldown" => self.cooldown as f64,
            "warmup" => self.warmup as f64,
            "weak_threshold" => self.weak_threshold,
            "swing_full_bps" => self.swing_full_bps,
            _ => return None,
        };
        Some(v)
    }

    /// Sets parameter `name` after checking `value` against that parameter's own range.
    ///
    /// Cross-field rules are left to [`validate`](Self::validate), so a grid may set
    /// `z_mid` before `z_hi`. An unknown name is reported with range `one of NAMES`.
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), ParamRangeError> {
        let Some(s) = spec(name) else {
            return Err(ParamRangeError::new(name, &format!("one of {NAMES:?}"), value));
        };
        s.check(value)?;
        // Integer specs have whole values within [0, 1e6], so the cast is exact.
        let n = value as usize;
        match name {
            "swing_l" => self.swing_l = n,
            "z_hi" => self.z_hi = value,
            "z_mid" => self.z_mid = value,
            "min_separation" => self.min_separation = n,
            "max_separation" => self.max_separation = n,
            "cooldown" => self.cooldown = n,
            "warmup" => self.warmup = n,
            "weak_threshold" => self.weak_threshold = value,
            _ => self.swing_full_bps = value,
        }
        Ok(())
    }

    /// Checks every field against its range, then `z_mid <= z_hi` and
    /// `min_separation <= max_separation`. Returns the first violation.
    pub fn validate(&self) -> Result<(), ParamRangeError> {
        for s in SPECS {
            // get() covers every name in SPECS (tested), hence the unwrap is safe.
            s.check(self.get(s.name).unwrap_or(f64::NAN))?;
        }
        if self.z_mid > self.z_hi {
            let range = format!("[0, z_hi = {}]", self.z_hi);
            return Err(ParamRangeError::new("z_mid", &range, self.z_mid));
        }
        if self.min_separation > self.max_separation {
            let range = format!("[min_separation = {}, 100000]", self.min_separation);
            return Err(ParamRangeError::new("max_separation", &range, self.max_separation));
        }
        Ok(())
    }

    /// The stage-1 parameters of this set.
    pub fn pivot_key(&self) -> PivotKey {
        PivotKey { swing_l: self.swing_l }
    }

    /// The warm-up actually applied: `max(warmup, 2 * swing_l + 1)` valid bars.
    pub fn effective_warmup(&self) -> u64 {
        self.warmup.max(2 * self.swing_l + 1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_specs_list_the_same_parameters_in_the_same_order() {
        let spec_names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        assert_eq!(spec_names, NAMES);
        let p = DetectorParams::default();
        for name in NAMES {
            assert!(p.get(name).is_some(), "{name} has no getter");
        }
    }

    #[test]
    fn defaults_validate_and_match_the_documented_values() {
        let p = DetectorParams::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.swing_l, 13);
        assert_eq!(p.z_hi, 1.6);
        assert_eq!(p.z_mid, 0.6);
        assert_eq!(p.effective_warmup(), 50);
    }

    #[test]
    fn set_then_get_round_trips_every_parameter() {
        let mut p = DetectorParams::default();
        let values = [7.0, 2.5, 1.25, 3.0, 90.0, 4.0, 100.0, 55.5, 35.0];
        for (name, v) in NAMES.iter().zip(values) {
            p.set(name, v).unwrap();
            assert_eq!(p.get(name), Some(v), "{name}");
        }
        assert_eq!(p.validate(), Ok(()));
    }

    /// For each parameter: one value just outside each end of its range, plus NaN.
    fn outside_values(s: &ParamSpec) -> Vec<f64> {
        let below = if s.lo_open { s.lo } else { s.lo - 1.0 };
        let mut v = vec![below, s.hi + 1.0, f64::NAN, f64::INFINITY];
        if s.integer {
            v.push(s.lo + 0.5);
        }
        v
    }

    #[test]
    fn set_rejects_values_outside_each_parameters_range_naming_it() {
        for s in SPECS {
            for bad in outside_values(s) {
                let mut p = DetectorParams::default();
                let err = p.set(s.name, bad).unwrap_err();
                assert_eq!(err.name, s.name);
                assert_eq!(err.range, s.range_text());
                assert_eq!(p, DetectorParams::default(), "rejected set must not write");
            }
        }
    }

    #[test]
    fn validate_rejects_each_field_outside_its_range() {
        let cases: Vec<(&str, DetectorParams)> = vec![
            ("swing_l", DetectorParams { swing_l: 0, ..Default::default() }),
            ("swing_l", DetectorParams { swing_l: 501, ..Default::default() }),
            ("z_hi", DetectorParams { z_hi: 0.0, ..Default::default() }),
            ("z_hi", DetectorParams { z_hi: 10.5, ..Default::default() }),
            ("z_mid", DetectorParams { z_mid: -0.1, ..Default::default() }),
            ("z_mid", DetectorParams { z_mid: 1.7, ..Default::default() }),
            ("min_separation", DetectorParams { min_separation: 0, ..Default::default() }),
            ("max_separation", DetectorParams { max_separation: 19, ..Default::default() }),
            ("max_separation", DetectorParams { max_separation: 100_001, ..Default::default() }),
            ("cooldown", DetectorParams { cooldown: 100_001, ..Default::default() }),
            ("warmup", DetectorParams { warmup: 1_000_001, ..Default::default() }),
            ("weak_threshold", DetectorParams { weak_threshold: 100.5, ..Default::default() }),
            ("weak_threshold", DetectorParams { weak_threshold: f64::NAN, ..Default::default() }),
            ("swing_full_bps", DetectorParams { swing_full_bps: 0.0, ..Default::default() }),
        ];
        for (name, p) in cases {
            assert_eq!(p.validate().unwrap_err().name, name);
        }
    }

    #[test]
    fn cross_field_errors_name_the_bound_they_broke() {
        let p = DetectorParams { z_mid: 2.0, ..Default::default() };
        let e = p.validate().unwrap_err();
        assert_eq!(e.to_string(), "parameter `z_mid` must be in [0, z_hi = 1.6], got 2");
        let p = DetectorParams { min_separation: 30, max_separation: 29, ..Default::default() };
        let e = p.validate().unwrap_err();
        assert_eq!(e.range, "[min_separation = 30, 100000]");
    }

    #[test]
    fn unknown_names_are_rejected_by_get_and_set() {
        let mut p = DetectorParams::default();
        assert_eq!(p.get("swing"), None);
        assert_eq!(p.set("swing", 3.0).unwrap_err().name, "swing");
    }

    #[test]
    fn effective_warmup_is_raised_to_twice_swing_plus_one() {
        let p = DetectorParams { swing_l: 30, warmup: 10, ..Default::default() };
        assert_eq!(p.effective_warmup(), 61);
    }

    #[test]
    fn yaml_with_missing_fields_takes_defaults_and_unknown_fields_fail() {
        let p: DetectorParams = serde_yaml::from_str("swing_l: 5\nz_hi: 2.0\n").unwrap();
        assert_eq!(p, DetectorParams { swing_l: 5, z_hi: 2.0, ..Default::default() });
        let bad: Result<DetectorParams, _> = serde_yaml::from_str("swing: 5\n");
        assert!(bad.is_err());
    }
}
