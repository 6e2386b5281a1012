//! What the purchase models (BG/NBD, MBG/NBD, Pareto/NBD) share: their parameters as one
//! array, the maximum-likelihood fit, the two-branch likelihood weights and the prediction
//! helpers, so that each model's own file holds only its mathematics.

pub(crate) mod branches;
pub(crate) mod fit;
pub(crate) mod params;
pub(crate) mod predict;
