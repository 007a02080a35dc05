//! Named conditions of the input that shape the figures: too few events,
//! constant scores, all hits, dropped values. Each is a defined answer, not
//! an error, and is written next to the figures it affects.
//!
//! Main types: [`Note`] and [`NoteKind`].

use serde::{Deserialize, Serialize};

use super::config::{Binning, CalibrationConfig};
use super::sample::HorizonSample;

/// What a note is about; stable names for tools that read the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// No event was given to `calibrate`.
    NoEvents,
    /// Fewer than two usable events: no ranking, no cross-fit.
    TooFewEvents,
    /// Fewer usable events than `min_events`.
    BelowMinEvents,
    /// Every usable score is equal.
    ConstantScore,
    /// Every usable return is equal.
    ConstantReturn,
    /// Every usable event is a hit.
    AllHits,
    /// No usable event is a hit.
    NoHits,
    /// Events dropped for a NaN or infinite score.
    NonFiniteScore,
    /// Events dropped for a finite score outside [0, 100].
    ScoreOutOfRange,
    /// Events without an outcome (return and hit) at the horizon.
    MissingLabel,
    /// Events dropped for a NaN or infinite return.
    NonFiniteReturn,
    /// Tied scores left fewer equal-count bins than requested.
    FewerBins,
}

/// A condition and a sentence about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub kind: NoteKind,
    pub message: String,
}

impl Note {
    pub fn new(kind: NoteKind, message: impl Into<String>) -> Note {
        Note { kind, message: message.into() }
    }
}

/// The notes of one horizon: drops first, then the shape of what is left.
pub fn horizon_notes(
    horizon: usize,
    sample: &HorizonSample,
    config: &CalibrationConfig,
    n_bins: usize,
) -> Vec<Note> {
    let (n, hits, min) = (sample.len(), sample.hit_count(), config.min_events);
    let all_equal = |v: &[f64]| v.len() >= 2 && v.iter().all(|x| *x == v[0]);
    let first = |v: &[f64]| v.first().copied().unwrap_or(f64::NAN);
    let few_bins = config.binning == Binning::Deciles && n > 0 && n_bins < config.bins;
    let rules = [
        (n < 2, NoteKind::TooFewEvents, format!("{n} usable event(s): no rank test, no cross-fit")),
        (n < min, NoteKind::BelowMinEvents, format!("{n} usable events < min_events {min}")),
        (
            all_equal(&sample.scores),
            NoteKind::ConstantScore,
            format!("every score is {}: rank tests undefined, maps flat", first(&sample.scores)),
        ),
        (
            all_equal(&sample.returns),
            NoteKind::ConstantReturn,
            format!("every return is {}: rank test undefined", first(&sample.returns)),
        ),
        (n > 0 && hits == n as f64, NoteKind::AllHits, format!("all {n} events are hits")),
        (n > 0 && hits == 0.0, NoteKind::NoHits, format!("none of {n} events is a hit")),
        (
            few_bins,
            NoteKind::FewerBins,
            format!("ties or few events left {n_bins} of {} equal-count bins", config.bins),
        ),
    ];
    let shape = rules.into_iter().filter(|(applies, _, _)| *applies);
    let mut notes = drop_notes(horizon, sample);
    notes
        .extend(shape.map(|(_, kind, message)| Note::new(kind, format!("h={horizon}: {message}"))));
    notes
}

fn drop_notes(horizon: usize, sample: &HorizonSample) -> Vec<Note> {
    let c = &sample.counts;
    let rules = [
        (c.n_nonfinite_score, NoteKind::NonFiniteScore, "NaN or infinite score"),
        (c.n_score_out_of_range, NoteKind::ScoreOutOfRange, "score outside [0, 100]"),
        (c.n_missing_label, NoteKind::MissingLabel, "no return or hit at this horizon"),
        (c.n_nonfinite_return, NoteKind::NonFiniteReturn, "NaN or infinite return"),
    ];
    rules
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, kind, why)| {
            Note::new(kind, format!("h={horizon}: {count} of {} events dropped: {why}", c.n_input))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(notes: &[Note]) -> Vec<NoteKind> {
        notes.iter().map(|n| n.kind).collect()
    }

    fn sample(scores: &[f64], returns: &[f64], hits: &[f64]) -> HorizonSample {
        let mut s = HorizonSample {
            scores: scores.to_vec(),
            returns: returns.to_vec(),
            hits: hits.to_vec(),
            counts: Default::default(),
        };
        s.counts.n_input = scores.len();
        s.counts.n_used = scores.len();
        s
    }

    #[test]
    fn a_healthy_sample_has_no_notes() {
        let s = sample(&[10.0, 20.0, 30.0], &[0.1, -0.1, 0.2], &[1.0, 0.0, 1.0]);
        let c = CalibrationConfig { min_events: 3, bins: 3, ..Default::default() };
        assert!(horizon_notes(10, &s, &c, 3).is_empty());
    }

    #[test]
    fn degenerate_shapes_are_each_named() {
        let s = sample(&[50.0; 3], &[0.1; 3], &[1.0; 3]);
        let c = CalibrationConfig::default();
        let k = kinds(&horizon_notes(10, &s, &c, 1));
        use NoteKind::*;
        assert_eq!(k, vec![BelowMinEvents, ConstantScore, ConstantReturn, AllHits, FewerBins]);
        let s = sample(&[50.0], &[0.1], &[0.0]);
        assert_eq!(
            kinds(&horizon_notes(10, &s, &c, 1)),
            vec![TooFewEvents, BelowMinEvents, NoHits, FewerBins]
        );
    }

    #[test]
    fn drops_are_reported_with_counts() {
        let mut s = sample(&[10.0, 20.0, 30.0], &[0.1, -0.1, 0.2], &[1.0, 0.0, 1.0]);
        s.counts.n_input = 5;
        s.counts.n_nonfinite_score = 1;
        s.counts.n_nonfinite_return = 1;
        let c = CalibrationConfig { min_events: 3, bins: 3, ..Default::default() };
        let notes = horizon_notes(20, &s, &c, 3);
        assert_eq!(kinds(&notes), vec![NoteKind::NonFiniteScore, NoteKind::NonFiniteReturn]);
        assert_eq!(notes[0].message, "h=20: 1 of 5 events dropped: NaN or infinite score");
    }
}
