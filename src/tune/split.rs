//! Training and test periods: walk-forward folds with an embargo.
//!
//! The data's time range is cut at boundaries B_0 < B_1 < ... < B_K. Fold
//! j trains on everything before B_j and tests on [B_j, B_{j+1}); with one
//! fold (the default) the last `test_fraction` of the time is the test.
//! Labels look ahead, so a training event at bar i counts only when its
//! longest forward window ends before the test starts (bar i + H_max is
//! still before B_j); this purge leaves an embargo of at least H_max bars
//! between the last training label and the first test event.

use crate::core::TsNs;
use serde::{Deserialize, Serialize};

/// The `tune.split` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitConfig {
    /// Walk-forward folds; each tests on the next slice of the test time.
    pub folds: usize,
    /// Share of the time range used for testing, split across the folds.
    pub test_fraction: f64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig { folds: 1, test_fraction: 0.4 }
    }
}

/// Which side of a fold a bar falls on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Train,
    Test,
}

impl Period {
    pub const ALL: [Period; 2] = [Period::Train, Period::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Train => "train",
            Period::Test => "test",
        }
    }
}

/// One fold's boundaries.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fold {
    pub index: usize,
    /// Training is strictly before this instant; testing starts at it.
    pub test_start: TsNs,
    /// Testing is strictly before this instant.
    pub test_end: TsNs,
}

impl SplitConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=20).contains(&self.folds) {
            return Err(format!("tune.split.folds must be in [1, 20], got {}", self.folds));
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(format!(
                "tune.split.test_fraction must be in (0, 1), got {}",
                self.test_fraction
            ));
        }
        Ok(())
    }

    /// The folds over the time range [start, end].
    pub fn folds(&self, start: TsNs, end: TsNs) -> Vec<Fold> {
        let span = (end.0 - start.0) as f64;
        let first = start.0 as f64 + (1.0 - self.test_fraction) * span;
        let step = self.test_fraction * span / self.folds as f64;
        let boundary = |j: usize| TsNs((first + j as f64 * step).round() as i64);
        (0..self.folds)
            .map(|j| Fold {
                index: j,
                test_start: boundary(j),
                test_end: if j + 1 == self.folds { TsNs(i64::MAX) } else { boundary(j + 1) },
            })
            .collect()
    }
}

impl Fold {
    /// The period of bar `i` of a series whose bar times are `ts`, or None
    /// when the bar is in neither (purged, or after this fold's test).
    /// `first_test` is the index of the series' first bar at or after the
    /// test start, from [`Fold::first_test_bar`].
    pub fn period(
        &self,
        i: usize,
        ts: &[TsNs],
        first_test: usize,
        max_horizon: usize,
    ) -> Option<Period> {
        if i + max_horizon < first_test {
            Some(Period::Train)
        } else if i >= first_test && ts[i] < self.test_end {
            Some(Period::Test)
        } else {
            None
        }
    }

    pub fn first_test_bar(&self, ts: &[TsNs]) -> usize {
        ts.partition_point(|t| *t < self.test_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_fold_tests_on_the_last_share_of_time() {
        let folds = SplitConfig::default().folds(TsNs(0), TsNs(1000));
        assert_eq!(folds.len(), 1);
        assert_eq!(folds[0].test_start, TsNs(600));
        assert_eq!(folds[0].test_end, TsNs(i64::MAX));
    }

    #[test]
    fn walk_forward_folds_tile_the_test_time() {
        let split = SplitConfig { folds: 2, test_fraction: 0.5 };
        let folds = split.folds(TsNs(0), TsNs(1000));
        assert_eq!((folds[0].test_start, folds[0].test_end), (TsNs(500), TsNs(750)));
        assert_eq!(folds[1].test_start, TsNs(750));
    }

    #[test]
    fn training_labels_end_before_the_test_starts() {
        let ts: Vec<TsNs> = (0..10).map(TsNs).collect();
        let fold = Fold { index: 0, test_start: TsNs(6), test_end: TsNs(i64::MAX) };
        let k = fold.first_test_bar(&ts);
        assert_eq!(k, 6);
        let periods: Vec<_> = (0..10).map(|i| fold.period(i, &ts, k, 2)).collect();
        use Period::*;
        assert_eq!(
            periods,
            vec![
                Some(Train),
                Some(Train),
                Some(Train),
                Some(Train),
                None,
                None,
                Some(Test),
                Some(Test),
                Some(Test),
                Some(Test)
            ]
        );
    }
}
