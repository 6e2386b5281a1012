//! Model checking: fit on a calibration period, predict the holdout period
//! after it, compare with what happened, and remember the better model.

use chrono::Utc;
use rapport_kit::domain::CurrencyCode;
use rapport_proto::v1::{EvaluateModelsResponse, FrequencyGroup, ModelEvaluation, ModelParameter};
use rapport_science::{FitOptions, evaluate::PurchaseModel};
use uuid::Uuid;

use super::{
    blocking,
    fits::Fitter,
    fitting::fit_purchase,
    histories::FitData,
    models::{Purchase, PurchaseKind},
};
use crate::{
    calendar::day_start,
    error::{Error, storage},
};

fn groups(e: &rapport_science::Evaluation) -> Vec<FrequencyGroup> {
    e.groups
        .iter()
        .map(|g| FrequencyGroup {
            frequency: g.calibration_frequency,
            customers: g.customers as u64,
            actual_purchases: g.actual.round() as u64,
            predicted_purchases: g.predicted,
        })
        .collect()
}

/// Fits and evaluates every purchase model; the chosen model's kind and the
/// reason, or the first fit error when none fitted.
fn run(
    data: &FitData,
    length: f64,
) -> Result<(Vec<ModelEvaluation>, PurchaseKind, String), String> {
    let options = FitOptions::default();
    let mut fitted: Vec<(PurchaseKind, Purchase)> = Vec::new();
    let mut out = Vec::new();
    let mut first_error = None;
    for kind in PurchaseKind::ALL {
        let mut eval = ModelEvaluation {
            kind: kind.to_proto() as i32,
            ..Default::default()
        };
        match fit_purchase(kind, &data.histories, &options) {
            Ok(row) => {
                eval.parameters = row
                    .parameters
                    .iter()
                    .map(|p| ModelParameter {
                        name: p.name.clone(),
                        value: p.value,
                        standard_error: None,
                    })
                    .collect();
                eval.log_likelihood = row.log_likelihood;
                match Purchase::from_parameters(kind, &row.parameters) {
                    Some(m) => fitted.push((kind, m)),
                    None => eval.error = "the fitted parameters are unusable".into(),
                }
            }
            Err(e) => {
                first_error.get_or_insert(format!("{} cannot be fitted: {e}", kind.label()));
                eval.error = e.to_string();
            }
        }
        out.push(eval);
    }
    if fitted.is_empty() {
        return Err(first_error.unwrap_or_default());
    }
    let candidates: Vec<(&str, &dyn PurchaseModel)> = fitted
        .iter()
        .map(|(k, m)| (k.as_str(), m.as_dyn()))
        .collect();
    let choice = rapport_science::choose_model(&candidates, &data.holdout, length)
        .map_err(|e| e.to_string())?;
    for (name, e) in &choice.evaluations {
        if let Some(eval) = out
            .iter_mut()
            .find(|x| PurchaseKind::parse(name).is_some_and(|k| k.to_proto() as i32 == x.kind))
        {
            eval.predicted_purchases = e.overall.predicted;
            eval.mean_absolute_error = e.mean_absolute_error;
            eval.chi_square = e.chi_square;
            eval.groups = groups(e);
        }
    }
    let chosen = PurchaseKind::parse(choice.name).unwrap_or(PurchaseKind::BgNbd);
    Ok((out, chosen, choice.reason))
}

impl Fitter {
    /// Evaluates every purchase model on the split at `calibration_end` (a
    /// day number) with the holdout up to `holdout_end`, and makes the chosen
    /// model the one later fits select.
    pub async fn check_models(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        calibration_end: i64,
        holdout_end: i64,
    ) -> Result<EvaluateModelsResponse, Error> {
        let unit = self.time_unit(tenant).await?;
        let length = (unit.period_of_day(holdout_end) - unit.period_of_day(calibration_end)) as f64;
        if length <= 0.0 {
            return Err(Error::invalid(
                "holdout_end",
                format!(
                    "must fall in a later {} than calibration_end",
                    unit.as_str()
                ),
            ));
        }
        let data = self
            .fit_data(tenant, unit, calibration_end, Some(holdout_end), currency)
            .await?;
        let customers = data.holdout.len() as u64;
        let actual: u64 = data
            .holdout
            .iter()
            .map(|h| u64::from(h.holdout_purchases))
            .sum();
        let (models, chosen, reason) = blocking(move || run(&data, length))
            .await?
            .map_err(Error::Unfittable)?;
        self.models
            .note(tenant, Some(chosen.as_str()), None, Utc::now())
            .await
            .map_err(storage("model"))?;
        tracing::info!(
            chosen = chosen.as_str(),
            customers,
            "purchase models evaluated"
        );
        Ok(EvaluateModelsResponse {
            calibration_end: Some(rapport_kit::domain::chrono_to_timestamp(day_start(
                calibration_end,
            ))),
            holdout_end: Some(rapport_kit::domain::chrono_to_timestamp(day_start(
                holdout_end,
            ))),
            time_unit: unit.to_proto() as i32,
            customers,
            actual_purchases: actual,
            models,
            chosen: chosen.to_proto() as i32,
            reason,
        })
    }
}
