//! Customer-value science: RFM scoring, the BG/NBD purchase model, the Gamma-Gamma spend
//! model, lifetime value and past customer value.
//!
//! Pure functions and plain data: no I/O, no clocks, no async. Times are plain numbers in
//! whatever unit the caller chose (days, weeks); money is `f64` in one currency's units,
//! converted from minor units by the caller. Every fit validates its data and returns a
//! [`FitError`] with a readable reason instead of NaN, and every loop is bounded.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bgnbd;
mod error;
mod fit;
pub mod gamma_gamma;
mod history;
mod optimize;
pub mod rfm;
mod special;
pub mod value;

pub use bgnbd::{BgNbd, BgNbdFit, BgNbdParams, fit_bg_nbd};
pub use error::{FitError, ParameterError, PredictError, Toward, ValueError};
pub use fit::FitOptions;
pub use gamma_gamma::{GammaGamma, GammaGammaFit, GammaGammaParams, SpendHistory, fit_gamma_gamma};
pub use history::CustomerHistory;
pub use rfm::{Breakpoints, RfmResult, RfmValues, Segment, assess};
pub use value::{
    LifetimeValue, PastContribution, ValueAssumptions, customer_equity, lifetime_value,
    monthly_rate, past_customer_value,
};
