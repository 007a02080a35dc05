//! The whole analysis of one horizon: bins, rank tests, isotonic maps,
//! probability scores, verdict and notes, from one [`HorizonSample`].

use super::bins::score_bins;
use super::config::CalibrationConfig;
use super::notes::horizon_notes;
use super::probability::probability_scores;
use super::report::{HorizonCalibration, HorizonDetails, HorizonMonotonicity};
use super::sample::HorizonSample;
use super::verdict::{horizon_verdict, map_rise};
use crate::core::ParamRangeError;
use crate::stats::{isotonic_fit, spearman};

/// Calibrates one horizon. Errors only come from invalid parameters, which
/// `calibrate` has already checked.
pub fn analyse_horizon(
    horizon: usize,
    sample: &HorizonSample,
    config: &CalibrationConfig,
) -> Result<HorizonMonotonicity, ParamRangeError> {
    // Ranks and monotone maps on all usable events.
    let spearman_return = spearman(&sample.scores, &sample.returns)?;
    let spearman_hit = spearman(&sample.scores, &sample.hits)?;
    let hit_fit = isotonic_fit(&sample.scores, &sample.hits, None)?;
    let return_fit = isotonic_fit(&sample.scores, &sample.returns, None)?;

    // Bins, probability scores, verdict.
    let bins = score_bins(sample, config, horizon)?;
    let (probability, cross_fit) = probability_scores(sample, &hit_fit, config.bins)?;
    let hit_map_rise = map_rise(&hit_fit.breakpoints);
    let (verdict, reasons) =
        horizon_verdict(sample.len(), config.min_events, &spearman_return, hit_map_rise);
    let notes = horizon_notes(horizon, sample, config, bins.len());

    let summary = HorizonCalibration {
        horizon,
        verdict,
        reasons,
        n_used: sample.len(),
        bins,
        hit_map: hit_fit.breakpoints.clone(),
        return_map: return_fit.breakpoints.clone(),
        hit_map_rise,
        spearman_return,
        spearman_hit,
        probability,
    };
    let details =
        HorizonDetails { horizon, counts: sample.counts, hit_fit, return_fit, cross_fit, notes };
    Ok(HorizonMonotonicity { summary, details })
}
