//! Score bins of one horizon: count, score range, hit rate with a Wilson
//! interval and mean forward return with a moving-block bootstrap interval.
//!
//! Main type: [`ScoreBin`]. [`score_bins`] assigns events to bins
//! ([`Binning::Deciles`]: between quantiles of the observed scores;
//! [`Binning::EqualWidth`]: fixed edges over 0-100) and summarises each.

use serde::{Deserialize, Serialize};

use super::config::{Binning, CalibrationConfig};
use super::sample::{HorizonSample, SCORE_MAX};
use crate::core::ParamRangeError;
use crate::stats::{
    block_bootstrap_mean_ci, default_block_len, mean, quantile_sorted, wilson_interval,
    BootstrapCi, WilsonInterval,
};

/// One score bin. An empty bin (equal-width binning only) has n = 0, NaN
/// score statistics, hit rate point NaN with interval (0, 1), and a NaN
/// return interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreBin {
    /// Lower edge: a fixed edge (equal width) or the previous quantile edge,
    /// the lowest observed score for the first bin (deciles).
    pub lo: f64,
    /// Upper edge, likewise; the highest observed score for the last decile.
    pub hi: f64,
    /// Events in the bin.
    pub n: usize,
    #[serde(with = "crate::stats::json_float")]
    pub score_min: f64,
    #[serde(with = "crate::stats::json_float")]
    pub score_max: f64,
    #[serde(with = "crate::stats::json_float")]
    pub score_mean: f64,
    /// Hits out of n with a Wilson interval at the configured confidence.
    pub hit_rate: WilsonInterval,
    /// Mean forward return with a moving-block bootstrap percentile interval
    /// over the bin's returns in event time order.
    pub mean_return: BootstrapCi,
}

/// The score bins of one horizon, in increasing score order. Deciles leave
/// out empty bins, so they can be fewer than `config.bins`.
pub fn score_bins(
    sample: &HorizonSample,
    config: &CalibrationConfig,
    horizon: usize,
) -> Result<Vec<ScoreBin>, ParamRangeError> {
    let edges = match config.binning {
        Binning::Deciles => quantile_edges(&sample.scores, config.bins),
        Binning::EqualWidth => width_edges(config.bins),
    };

    // Members of each bin, keeping event time order inside a bin.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); edges.len() - 1];
    for (i, &s) in sample.scores.iter().enumerate() {
        members[bin_index(&edges, s, config.binning)].push(i);
    }

    let mut bins = Vec::with_capacity(members.len());
    for (b, idx) in members.iter().enumerate() {
        if idx.is_empty() && config.binning == Binning::Deciles {
            continue;
        }
        let seed = derive_seed(config.seed, horizon, b);
        bins.push(summarise(sample, idx, (edges[b], edges[b + 1]), config, seed)?);
    }
    Ok(bins)
}

/// Deciles: min, the deduplicated type 7 quantiles at k / B (k = 1..B-1),
/// max. Empty input gives the one edge [0], that is, no bins.
fn quantile_edges(scores: &[f64], bins: usize) -> Vec<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return vec![0.0];
    };
    let (mut edges, mut last) = (vec![min], min);
    for k in 1..bins {
        let e = quantile_sorted(&sorted, k as f64 / bins as f64);
        // Tied quantiles would give zero-width bins: keep each edge once.
        if e > last {
            edges.push(e);
            last = e;
        }
    }
    // Close the last bin at max; a constant sample gets the bin [min, min].
    if max > last || edges.len() == 1 {
        edges.push(max);
    }
    edges
}

/// Equal width: 0, 100 / B, ..., 100.
fn width_edges(bins: usize) -> Vec<f64> {
    (0..=bins).map(|k| SCORE_MAX * k as f64 / bins as f64).collect()
}

/// Bin of score `s` given edges e_0 < ... < e_B.
///
/// Deciles: bin b is (e_b, e_{b+1}], the first closed at e_0, so a score
/// equal to an edge goes to the lower bin and tied scores never split.
/// Equal width: bin b is [e_b, e_{b+1}), the last closed at 100.
fn bin_index(edges: &[f64], s: f64, binning: Binning) -> usize {
    let last = edges.len() - 2;
    let inner = &edges[1..edges.len() - 1];
    let b = match binning {
        Binning::Deciles => inner.partition_point(|&e| e < s),
        Binning::EqualWidth => inner.partition_point(|&e| e <= s),
    };
    b.min(last)
}

/// Summary statistics of the events at positions `idx`.
fn summarise(
    sample: &HorizonSample,
    idx: &[usize],
    (lo, hi): (f64, f64),
    config: &CalibrationConfig,
    seed: u64,
) -> Result<ScoreBin, ParamRangeError> {
    let scores: Vec<f64> = idx.iter().map(|&i| sample.scores[i]).collect();
    let returns: Vec<f64> = idx.iter().map(|&i| sample.returns[i]).collect();
    let hits: f64 = idx.iter().map(|&i| sample.hits[i]).sum();
    let n = idx.len();

    let (score_min, score_max) = if n == 0 {
        (f64::NAN, f64::NAN)
    } else {
        (
            scores.iter().copied().fold(f64::INFINITY, f64::min),
            scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let hit_rate = wilson_interval(hits, n as f64, config.confidence)?;
    // The bootstrap needs l >= 1; an empty bin asks for 1 and gets NaN.
    let block = default_block_len(n);
    let mean_return = block_bootstrap_mean_ci(
        &returns,
        block,
        config.bootstrap_resamples,
        config.confidence,
        seed,
    )?;
    Ok(ScoreBin {
        lo,
        hi,
        n,
        score_min,
        score_max,
        score_mean: mean(&scores),
        hit_rate,
        mean_return,
    })
}

/// A per-(horizon, bin) seed from the configured one, so that bins do not
/// share their resampling pattern: SplitMix64's finaliser (Steele, Lea and
/// Flood 2014) applied to seed + golden-ratio multiples of the pair, cut to
/// 53 bits so that every JSON reader holds the recorded seed exactly.
pub fn derive_seed(seed: u64, horizon: usize, bin: usize) -> u64 {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut z = seed
        .wrapping_add(GOLDEN.wrapping_mul(horizon as u64 + 1))
        .wrapping_add(GOLDEN.wrapping_mul(GOLDEN).wrapping_mul(bin as u64 + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 11
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(scores: &[f64], returns: &[f64], hits: &[f64]) -> HorizonSample {
        HorizonSample {
            scores: scores.to_vec(),
            returns: returns.to_vec(),
            hits: hits.to_vec(),
            counts: Default::default(),
        }
    }

    fn config(bins: usize, binning: Binning) -> CalibrationConfig {
        CalibrationConfig { bins, binning, bootstrap_resamples: 200, ..Default::default() }
    }

    #[test]
    fn deciles_split_at_type7_quantiles_with_edge_scores_in_lower_bin() {
        // Sorted 10, 20, 20, 40, 50, 60: the median is 30; at 3 bins the
        // edges are 20 + 2/3 * 0 = 20 (h = 5/3) and 40 + 1/3 * 10 (h = 10/3).
        let s = sample(&[10.0, 20.0, 20.0, 40.0, 50.0, 60.0], &[0.0; 6], &[0.0; 6]);
        let two = score_bins(&s, &config(2, Binning::Deciles), 10).unwrap();
        assert_eq!(two.iter().map(|b| b.n).collect::<Vec<_>>(), vec![3, 3]);
        assert_eq!((two[0].lo, two[0].hi, two[1].hi), (10.0, 30.0, 60.0));
        let three = score_bins(&s, &config(3, Binning::Deciles), 10).unwrap();
        assert_eq!(three.iter().map(|b| b.n).collect::<Vec<_>>(), vec![3, 1, 2]);
        assert_eq!(three[0].hi, 20.0);
        assert!((three[1].hi - (40.0 + 10.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn deciles_never_split_tied_scores_and_drop_empty_bins() {
        // Quantiles of 1, 1, 1, 1, 10 at k / 10: 1 up to k = 7, then 2.8 and
        // 6.4. Bins [1, 2.8], (2.8, 6.4], (6.4, 10]; the middle one is empty.
        let s = sample(&[1.0, 1.0, 10.0, 1.0, 1.0], &[0.0; 5], &[0.0; 5]);
        let bins = score_bins(&s, &config(10, Binning::Deciles), 10).unwrap();
        assert_eq!(bins.iter().map(|b| b.n).collect::<Vec<_>>(), vec![4, 1]);
        assert!((bins[0].hi - 2.8).abs() < 1e-12 && (bins[1].lo - 6.4).abs() < 1e-12);
        assert_eq!((bins[0].lo, bins[1].hi), (1.0, 10.0));
    }

    #[test]
    fn equal_width_bins_keep_empty_bins_and_put_100_in_the_last() {
        let s = sample(&[0.0, 49.9, 50.0, 100.0], &[0.01, 0.02, 0.03, 0.04], &[1.0, 0.0, 1.0, 1.0]);
        let bins = score_bins(&s, &config(4, Binning::EqualWidth), 10).unwrap();
        assert_eq!(bins.iter().map(|b| b.n).collect::<Vec<_>>(), vec![1, 1, 1, 1]);
        let bins = score_bins(&s, &config(3, Binning::EqualWidth), 10).unwrap();
        assert_eq!(bins.iter().map(|b| b.n).collect::<Vec<_>>(), vec![1, 2, 1]);
        let bins =
            score_bins(&sample(&[99.0], &[0.0], &[0.0]), &config(5, Binning::EqualWidth), 10);
        let bins = bins.unwrap();
        assert_eq!(bins.len(), 5);
        assert!(bins[0].score_mean.is_nan() && bins[0].hit_rate.point.is_nan());
        assert!(bins[0].mean_return.mean.is_nan());
        assert_eq!((bins[0].hit_rate.lo, bins[0].hit_rate.hi), (0.0, 1.0));
    }

    #[test]
    fn bin_statistics_match_hand_values() {
        let s = sample(&[10.0, 20.0, 30.0], &[0.03, -0.01, 0.01], &[1.0, 0.0, 1.0]);
        let bins = score_bins(&s, &config(1, Binning::Deciles), 10).unwrap();
        let b = &bins[0];
        assert_eq!((b.n, b.score_min, b.score_max, b.score_mean), (3, 10.0, 30.0, 20.0));
        assert_eq!((b.hit_rate.hits, b.hit_rate.n), (2.0, 3.0));
        assert!((b.mean_return.mean - 0.01).abs() < 1e-15);
        // default_block_len(3) = 2 (2^3 = 8 >= 3).
        assert_eq!((b.mean_return.block_len, b.mean_return.n_resamples), (2, 200));
    }

    #[test]
    fn empty_sample_gives_no_deciles() {
        let bins = score_bins(&HorizonSample::default(), &config(10, Binning::Deciles), 10);
        assert!(bins.unwrap().is_empty());
    }

    #[test]
    fn constant_scores_give_one_decile() {
        let s = sample(&[40.0; 4], &[0.01, 0.02, 0.0, -0.01], &[1.0, 1.0, 0.0, 0.0]);
        let bins = score_bins(&s, &config(10, Binning::Deciles), 10).unwrap();
        assert_eq!(bins.len(), 1);
        assert_eq!((bins[0].n, bins[0].lo, bins[0].hi), (4, 40.0, 40.0));
    }

    #[test]
    fn derived_seeds_differ_by_horizon_and_bin_and_are_stable() {
        let a = derive_seed(1904, 10, 0);
        assert_eq!(a, derive_seed(1904, 10, 0));
        assert_ne!(a, derive_seed(1904, 10, 1));
        assert_ne!(a, derive_seed(1904, 20, 0));
        assert_ne!(a, derive_seed(1905, 10, 0));
        assert!(a < 1 << 53);
    }
}
