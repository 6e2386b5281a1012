//! Customer-value science: RFM scoring, the BG/NBD purchase model, the Gamma-Gamma spend
//! model, lifetime value and past customer value; margin and monthly profit contribution,
//! share of wallet, service tiers, behaviour change, credibility-shrunk order values, and
//! calibration/holdout checks of purchase models.
//!
//! Pure functions and plain data: no I/O, no clocks, no async. Times are plain numbers in
//! whatever unit the caller chose (days, weeks); money is `f64` in one currency's units,
//! converted from minor units by the caller. Every fit validates its data and returns a
//! [`FitError`] with a readable reason instead of NaN, and every loop is bounded.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod behaviour;
pub mod bgnbd;
mod calendar;
pub mod credibility;
mod error;
pub mod evaluate;
mod fit;
pub mod gamma_gamma;
mod grouped;
mod history;
pub mod mbgnbd;
mod optimize;
mod parallel;
pub mod pareto_nbd;
mod percentile;
pub mod pipeline;
pub mod profit;
mod purchase;
pub mod rfm;
mod special;
#[cfg(test)]
mod testing;
mod text;
pub mod tier;
pub mod value;
pub mod wallet;

pub use behaviour::{
    BehaviourChange, BehaviourError, BehaviourSettings, MonthlyActivity, Signal, assess_monthly,
    assess_purchases,
};
pub use calendar::Month;
pub use credibility::{Credibility, RepeatSpend, ShrunkMean, estimate_credibility};
pub use evaluate::{
    EvaluateError, Evaluation, GroupComparison, HoldoutCustomer, ModelChoice, PurchaseModel,
    choose_model, evaluate,
};
pub use profit::{
    MarginRates, MonthlyProfit, ProfitContribution, ProfitError, Transaction, TransactionKind,
    profit_contribution, transaction_margin,
};
pub use tier::{Quantile, Tier, TierAssignment, TierError, TierThresholds};
pub use wallet::{GroupShare, WalletEntry, group_share_of_wallet, share_of_wallet};

pub use bgnbd::{BgNbd, BgNbdFit, BgNbdParams, fit_bg_nbd};
pub use error::{FitError, ParameterError, PredictError, Toward, ValueError};
pub use fit::{FitOptions, ModelFit};
pub use gamma_gamma::{GammaGamma, GammaGammaFit, GammaGammaParams, SpendHistory, fit_gamma_gamma};
pub use history::CustomerHistory;
pub use mbgnbd::{MbgNbd, MbgNbdFit, MbgNbdParams, fit_mbg_nbd};
pub use pareto_nbd::{ParetoNbd, ParetoNbdFit, ParetoNbdParams, fit_pareto_nbd};
pub use rfm::{Breakpoints, RfmResult, RfmValues, Segment, assess};
pub use value::{
    LifetimeValue, PastContribution, ValueAssumptions, customer_equity, lifetime_value,
    monthly_rate, past_customer_value,
};
