//! Errors: why a model could not be fitted, a prediction made, or a value computed.

/// Which end of its range a parameter ran towards while fitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// The parameter shrank towards zero.
    Zero,
    /// The parameter grew without bound.
    Infinity,
}

impl std::fmt::Display for Toward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Toward::Zero => "zero",
            Toward::Infinity => "infinity",
        })
    }
}

/// Why a model could not be fitted to a dataset. Every message says what in the data is the
/// problem, so it can be shown to the person who owns the data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// The fit options are unusable: zero iterations, or a tolerance that is not positive.
    #[error("fit options need at least one iteration and a positive, finite gradient tolerance")]
    InvalidOptions,
    /// The dataset is empty.
    #[error("no customers to fit")]
    NoCustomers,
    /// Too few customers to tell one customer's behaviour from the population's spread.
    #[error(
        "only {count} customer(s): the model needs at least {minimum} to estimate how customers differ"
    )]
    TooFewCustomers {
        /// Customers supplied.
        count: usize,
        /// Customers required.
        minimum: usize,
    },
    /// An input value is NaN or infinite.
    #[error("customer {index}: {field} is {value}, which is not a finite number")]
    NonFinite {
        /// Position of the customer in the input.
        index: usize,
        /// Name of the offending field.
        field: &'static str,
        /// The value supplied.
        value: f64,
    },
    /// An input value that must not be negative is.
    #[error("customer {index}: {field} is {value}; it cannot be negative")]
    Negative {
        /// Position of the customer in the input.
        index: usize,
        /// Name of the offending field.
        field: &'static str,
        /// The value supplied.
        value: f64,
    },
    /// The last purchase falls after the end of the observation period.
    #[error(
        "customer {index}: recency {recency} exceeds age {age}; the last purchase must fall inside the observation period"
    )]
    RecencyAfterAge {
        /// Position of the customer in the input.
        index: usize,
        /// Time of the last purchase after the first.
        recency: f64,
        /// Time from the first purchase to the end of observation.
        age: f64,
    },
    /// A customer has repeat purchases but they all sit at the time of the first purchase.
    #[error(
        "customer {index}: {frequency} repeat purchase(s) but recency 0; repeat purchases must come after the first one (were several purchases given the same timestamp?)"
    )]
    RepeatWithoutRecency {
        /// Position of the customer in the input.
        index: usize,
        /// Repeat purchases reported.
        frequency: u32,
    },
    /// Every customer's first purchase is at the end of observation.
    #[error(
        "every customer has age 0 (all timestamps identical?): there is no observation time to learn purchase rates from"
    )]
    NoObservationTime,
    /// Nobody bought twice, so the purchase rate and dropout cannot be told apart.
    #[error(
        "no customer made a repeat purchase (every frequency and recency is 0), so purchase rates and dropout cannot be estimated"
    )]
    NoRepeatBuyers,
    /// The spend model was given a customer without repeat purchases.
    #[error(
        "customer {index} has no repeat purchases; the Gamma-Gamma model is fitted on repeat customers only"
    )]
    NotRepeatCustomer {
        /// Position of the customer in the input.
        index: usize,
    },
    /// An average order value is zero or negative.
    #[error("customer {index}: average order value {value} must be positive")]
    NonPositiveSpend {
        /// Position of the customer in the input.
        index: usize,
        /// The value supplied.
        value: f64,
    },
    /// The likelihood runs off to a boundary: the data do not pin this parameter down.
    #[error("parameter {parameter} ran off towards {toward}: {hint}")]
    Unidentifiable {
        /// The model's name for the parameter.
        parameter: &'static str,
        /// Which end it ran towards.
        toward: Toward,
        /// What in the data typically causes it.
        hint: &'static str,
    },
    /// The likelihood is not a finite number at the starting point (extreme inputs).
    #[error(
        "the likelihood is not finite for these data even at the starting point; check for extreme values"
    )]
    NonFiniteLikelihood,
    /// The fitted spend distribution has an infinite mean, so order values cannot be predicted.
    #[error(
        "the fitted spend model has q = {q} <= 1, so the population's mean order value is infinite; a few extreme order values usually cause this"
    )]
    InfiniteMeanSpend {
        /// The fitted shape parameter.
        q: f64,
    },
}

/// Why a prediction could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    /// An argument is NaN, infinite, negative or otherwise outside what the model accepts.
    #[error("{field} is {value}: {reason}")]
    InvalidInput {
        /// Name of the offending argument.
        field: &'static str,
        /// The value supplied.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
    /// The hypergeometric series behind the expectation could not be evaluated in bounded
    /// time (horizons many thousands of times longer than the scale parameter).
    #[error(
        "expected purchases could not be computed for horizon {t}: the series did not converge"
    )]
    NotConverged {
        /// The horizon asked for.
        t: f64,
    },
}

/// Why a parameter set was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parameter {name} is {value}; it must be a positive finite number")]
pub struct ParameterError {
    /// The parameter's name.
    pub name: &'static str,
    /// The value supplied.
    pub value: f64,
}

/// Why a monetary value (lifetime or past value) could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// An argument is NaN, infinite or outside its range.
    #[error("{field} is {value}: {reason}")]
    InvalidInput {
        /// Name of the offending argument.
        field: &'static str,
        /// The value supplied.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
    /// The purchase model could not predict.
    #[error(transparent)]
    Prediction(#[from] PredictError),
}

pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<f64, ParameterError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ParameterError { name, value })
    }
}
