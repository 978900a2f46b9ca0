//! The outcome of a run: the serializable result ([`RunReport`], report.json verbatim), the
//! statistics its figures are reduced with, and the judging of SLO thresholds and verdicts.
//!
//! A leaf below the recorder (which fills it), the runner (which judges it) and the reports
//! (which render it), so none of them has to import another to share it. Pure.

pub mod judge;
mod model;
pub mod stats;

pub use judge::Samples;
pub use model::*;
