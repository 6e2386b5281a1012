//! What a fit without a spend model stores instead: why the spend model was
//! not fitted, and the population mean and credibility weight expected order
//! values are shrunk with. It is kept as one more row of the fit in
//! `model_fits` (model `spend_fallback`), its `parameters` a JSON object
//! where the models' rows hold an array, so both stores keep it without a
//! schema change and fits stored before it read back without one.

use serde::{Deserialize, Serialize};

use super::fits::{FitRow, Parameter};

/// Stored name of the fallback's row.
pub const SPEND_FALLBACK: &str = "spend_fallback";

/// Why a fit has no spend model, and what replaces it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendUnfitted {
    /// Why the spend model was not fitted.
    pub reason: String,
    /// The shrunk mean's figures; `None` when there was no repeat customer
    /// to estimate them from.
    pub fallback: Option<SpendFallback>,
}

/// The figures of the credibility-shrunk mean order value.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendFallback {
    /// `m̄`: mean value of the repeat purchase periods, major units.
    pub population_mean: f64,
    /// `k`: the credibility weight, in purchase periods.
    pub k: f64,
    /// Repeat customers they were estimated from.
    pub customers: i64,
    /// Why `k` is not the estimate itself (clamped, or fixed); `None` when it is.
    pub k_note: Option<String>,
}

/// A fit row's `parameters` column: the model's parameters, or the fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredParameters {
    /// A model's parameters, as every row stored them before the fallback.
    Model(Vec<Parameter>),
    /// The fallback's row.
    Fallback(FallbackJson),
}

/// The fallback's row's `parameters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FallbackJson {
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k_note: Option<String>,
    /// `population_mean` and `k`; empty without a fallback.
    #[serde(default)]
    parameters: Vec<Parameter>,
}

impl SpendUnfitted {
    /// The row it is stored as, its `parameters` column apart.
    pub(super) fn to_row(&self) -> (FitRow, StoredParameters) {
        let f = self.fallback.as_ref();
        let parameters = f.map_or_else(Vec::new, |f| {
            vec![
                Parameter {
                    name: "population_mean".into(),
                    value: f.population_mean,
                },
                Parameter {
                    name: "k".into(),
                    value: f.k,
                },
            ]
        });
        let row = FitRow {
            model: SPEND_FALLBACK.to_owned(),
            parameters: Vec::new(),
            standard_errors: None,
            log_likelihood: 0.0,
            iterations: 0,
            converged: f.is_some(),
            customers: f.map_or(0, |f| f.customers),
            selected: false,
        };
        let json = FallbackJson {
            reason: self.reason.clone(),
            k_note: f.and_then(|f| f.k_note.clone()),
            parameters,
        };
        (row, StoredParameters::Fallback(json))
    }

    /// Read back from the row's `parameters` and `customers`.
    pub(super) fn from_row(json: FallbackJson, customers: i64) -> SpendUnfitted {
        let get = |name: &str| json.parameters.iter().find(|p| p.name == name);
        let fallback = match (get("population_mean"), get("k")) {
            (Some(m), Some(k)) => Some(SpendFallback {
                population_mean: m.value,
                k: k.value,
                customers,
                k_note: json.k_note.clone(),
            }),
            _ => None,
        };
        SpendUnfitted {
            reason: json.reason,
            fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_rows_read_as_parameters_and_the_fallback_round_trips() {
        let old: StoredParameters =
            serde_json::from_str(r#"[{"name":"p","value":"2.5"},{"name":"q","value":3}]"#).unwrap();
        assert!(matches!(old, StoredParameters::Model(ref p) if p.len() == 2 && p[1].value == 3.0));
        let unfitted = SpendUnfitted {
            reason: "parameter q ran off towards infinity".into(),
            fallback: Some(SpendFallback {
                population_mean: 0.1 + 0.2,
                k: 186.0 / 257.0,
                customers: 8,
                k_note: None,
            }),
        };
        let (row, json) = unfitted.to_row();
        let text = serde_json::to_string(&json).unwrap();
        let StoredParameters::Fallback(back) = serde_json::from_str(&text).unwrap() else {
            panic!("{text}");
        };
        assert_eq!(SpendUnfitted::from_row(back, row.customers), unfitted);
        let none = SpendUnfitted {
            reason: "no repeat customers".into(),
            fallback: None,
        };
        let (row, json) = none.to_row();
        let text = serde_json::to_string(&json).unwrap();
        let StoredParameters::Fallback(back) = serde_json::from_str(&text).unwrap() else {
            panic!("{text}");
        };
        assert_eq!(SpendUnfitted::from_row(back, row.customers), none);
    }
}
