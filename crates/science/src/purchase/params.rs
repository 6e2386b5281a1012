//! A purchase model's four parameters as the array the fit works on, and the check every
//! model applies to them.

use crate::error::{ParameterError, check_positive};

/// A model's four named parameters, convertible to and from an array in a fixed order.
pub(crate) trait FourParams: Copy {
    /// The parameters' names, in array order.
    const NAMES: [&'static str; 4];

    /// The parameters from an array in [`FourParams::NAMES`] order.
    fn from_array(values: [f64; 4]) -> Self;

    /// The parameters as an array in [`FourParams::NAMES`] order.
    fn to_array(self) -> [f64; 4];
}

/// `params` if every parameter is positive and finite; otherwise the first that is not, in
/// array order.
pub(crate) fn check<P: FourParams>(params: P) -> Result<P, ParameterError> {
    for (name, value) in P::NAMES.into_iter().zip(params.to_array()) {
        check_positive(name, value)?;
    }
    Ok(params)
}

/// Implements [`FourParams`] for a struct of four `f64` fields, named after the fields, and
/// gives the model that holds them (a struct with one field, `params`) its checked
/// constructor and its accessor: `purchase_model!(BgNbd: BgNbdParams { r, alpha, a, b })`.
macro_rules! purchase_model {
    ($model:ident: $ty:ident { $a:ident, $b:ident, $c:ident, $d:ident }) => {
        impl $crate::purchase::params::FourParams for $ty {
            const NAMES: [&'static str; 4] = [
                stringify!($a),
                stringify!($b),
                stringify!($c),
                stringify!($d),
            ];

            fn from_array([$a, $b, $c, $d]: [f64; 4]) -> Self {
                Self { $a, $b, $c, $d }
            }

            fn to_array(self) -> [f64; 4] {
                [self.$a, self.$b, self.$c, self.$d]
            }
        }

        impl $model {
            /// A model from parameters; each must be positive and finite.
            pub fn new(params: $ty) -> Result<Self, $crate::error::ParameterError> {
                $crate::purchase::params::check(params).map(|params| Self { params })
            }

            /// The parameters.
            pub fn params(&self) -> $ty {
                self.params
            }
        }
    };
}

pub(crate) use purchase_model;
