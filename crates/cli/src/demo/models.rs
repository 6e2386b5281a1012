//! The purchase models in the report: how well each predicted a holdout
//! period, which one was chosen, and the parameters fitted on all data.

use chrono::Utc;
use rapport_proto::v1::{EvaluateModelsRequest, FitModelsRequest, ModelKind};

use super::format::model_name;
use crate::client::Clients;

/// Prints the model check, then fits on all data and prints the fit.
pub(super) async fn show(clients: &mut Clients) -> anyhow::Result<()> {
    let now = Utc::now();
    let calibration_end = rapport_kit::domain::chrono_to_timestamp(rapport_kit::domain::earlier(
        now,
        std::time::Duration::from_secs(120 * 86_400),
    ));
    let eval = clients
        .scoring
        .evaluate_models(EvaluateModelsRequest {
            calibration_end: Some(calibration_end),
            holdout_end: None,
        })
        .await?
        .into_inner();
    println!(
        "\nModel check: fitted on purchases up to 120 days ago, {} customers, {} repeat purchases in the holdout",
        eval.customers, eval.actual_purchases
    );
    for m in &eval.models {
        if m.error.is_empty() {
            println!(
                "  {:<11} predicted {:>8.1}  mean abs error {:>6.3}  chi-square {:>9.2}",
                model_name(m.kind),
                m.predicted_purchases,
                m.mean_absolute_error,
                m.chi_square
            );
        } else {
            println!("  {:<11} not fitted: {}", model_name(m.kind), m.error);
        }
    }
    println!("  chosen: {} ({})", model_name(eval.chosen), eval.reason);

    let fit = clients
        .scoring
        .fit_models(FitModelsRequest {
            observation_end: None,
        })
        .await?
        .into_inner();
    if let Some(fit) = fit.fit {
        println!("\nFitted on all data (version {}):", fit.version);
        for m in fit
            .models
            .iter()
            .filter(|m| m.selected || m.kind == ModelKind::GammaGamma as i32)
        {
            // Each parameter with its standard error, where the fit has one.
            let params: Vec<String> = m
                .parameters
                .iter()
                .map(|p| match p.standard_error {
                    Some(se) => format!("{}={:.4} (±{:.4})", p.name, p.value, se),
                    None => format!("{}={:.4}", p.name, p.value),
                })
                .collect();
            println!(
                "  {:<11} {}  log-likelihood {:.1}, {} iterations{}",
                model_name(m.kind),
                params.join(" "),
                m.log_likelihood,
                m.iterations,
                if m.converged { "" } else { ", NOT converged" }
            );
        }
        if !fit
            .models
            .iter()
            .any(|m| m.kind == ModelKind::GammaGamma as i32)
        {
            let why = match fit.spend_model_unfitted_reason.as_str() {
                "" => "no reason kept".to_owned(),
                reason => reason.to_owned(),
            };
            let instead = match &fit.spend_fallback {
                Some(f) => format!(
                    "each customer's average shrunk toward the population mean {:.2} with credibility weight k={:.3}",
                    f.population_mean, f.credibility_weight
                ),
                None => "each customer's own average".to_owned(),
            };
            println!(
                "  {:<11} not fitted ({why}): expected order values are {instead}",
                model_name(ModelKind::GammaGamma as i32)
            );
        }
    }
    Ok(())
}
