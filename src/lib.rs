//! divtune replays historical ticks through the divergence detector that a
//! live service runs, measures how well its events predict forward returns
//! on held-out data, and writes the parameters and score calibration that
//! the service loads.
//!
//! The pipeline, one module per stage:
//! [`data`] (Parquet in, validation, segments) -> [`features`] (OFI, CVD,
//! z-scores, fusion, bars) -> [`detector`] (pivots, divergences, score) ->
//! [`labels`] (forward returns). [`series`] joins the first two;
//! [`stats`] holds the statistics every later stage uses; [`artifacts`]
//! writes every file atomically. [`features`] and [`detector`] are pure
//! streaming code that a live service can embed.

pub mod artifacts;
pub mod calibrate;
pub mod cli;
pub mod config;
pub mod core;
pub mod data;
pub mod deploy;
pub mod detector;
pub mod events;
pub mod features;
pub mod gate;
pub mod inspect;
pub mod labels;
pub mod monitor;
pub mod pipeline;
pub mod plots;
pub mod report;
pub mod run;
pub mod series;
pub mod shard;
pub mod stats;
pub mod synth;
pub mod tune;
pub mod ui;
