//! The feature stage: time-ordered trades and quotes in, a uniformly sampled
//! [`Bar`](crate::core::Bar) stream per symbol-day out.
//!
//! Pure streaming code: no I/O, no clock, no randomness, and no allocation
//! per tick or bar once a [`FeatureStream`] is built, so a live service can
//! embed it as it is. One file per piece:
//!
//! - [`ofi`]: order-flow imbalance of successive book snapshots;
//! - [`cvd`]: cumulative signed traded volume, with its reset and mode;
//! - [`zscore`]: rolling z-score against a trailing baseline;
//! - [`fusion`]: the weighted blend of the two scores and their agreement;
//! - [`bars`]: bar specification and time-bar alignment;
//! - [`params`]: [`FeatureParams`] with defaults and validation;
//! - [`stream`]: [`FeatureStream`], which ties them together, and
//!   [`bars_from_ticks`] for whole slices.
//!
//! Formulas, references and edge cases are written up in docs/features.md.

pub mod bars;
pub mod cvd;
pub mod fusion;
pub mod ofi;
pub mod params;
pub mod stream;
pub mod zscore;

pub use bars::BarSpec;
pub use cvd::{CvdMode, CvdReset};
pub use fusion::{consistency, fuse};
pub use params::FeatureParams;
pub use stream::{bars_from_ticks, FeatureStream};
