//! Measures into the `Score` callers see, each with its explanation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_kit::domain::{CurrencyCode, format_minor};
use rapport_proto::v1::{
    BehaviourFlag, Explanation, LifetimeValueMonth, Money, Rfm, Score, ValueScores,
};

use super::{Measures, Prediction, measures};
use crate::value::{
    histories::minor,
    tenant_state::{LoadedFit, TenantState},
};

fn money(minor_units: i64, c: CurrencyCode) -> Option<Money> {
    Some(Money {
        currency_code: c.as_str().to_owned(),
        minor_units,
    })
}

fn explain(measure: &str, text: String, inputs: &[(&str, String)]) -> Explanation {
    Explanation {
        measure: measure.to_owned(),
        text,
        inputs: inputs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<HashMap<_, _>>(),
    }
}

/// Sets RFM, value, tier, behaviour flags and explanations on a finished
/// score (replacing any it carried), the tier a rule set winning over the
/// computed one. The basis is kept: readers strip it from responses and the
/// cache keeps it. Returns the measures for callers that aggregate them.
pub fn enrich(
    score: &mut Score,
    state: &TenantState,
    c: CurrencyCode,
    now: DateTime<Utc>,
) -> Measures {
    score.rfm = None;
    score.tier.clear();
    score.behaviour_flags.clear();
    let m = measures(score, state, c, now);
    let mut value = ValueScores::default();
    let mut explanations = Vec::new();
    let fmt = |major: f64| format_minor(minor(major, c), c);

    if let Some(r) = &m.rfm {
        score.rfm = Some(Rfm {
            recency: r.scores.recency.into(),
            frequency: r.scores.frequency.into(),
            monetary: r.scores.monetary.into(),
            segment: r.segment.name().to_owned(),
        });
        let mut inputs = vec![
            ("recency_days", r.values.recency_days.to_string()),
            ("frequency", r.values.frequency.to_string()),
            ("monetary", r.values.monetary.to_string()),
        ];
        if let Some(at) = state.population_at {
            inputs.push(("breakpoints_computed_at", at.to_rfc3339()));
        }
        explanations.push(explain("rfm", r.explanation.to_string(), &inputs));
    }

    if let Some(p) = &m.profit {
        value.monthly_profit = money(minor(p.trailing_12_month_average, c), c);
        let window = p.months.len().min(12);
        let cost = p.months.first().map_or(0.0, |x| x.cost_to_serve);
        explanations.push(explain(
            "monthly_profit",
            format!(
                "margin less cost to serve {} a month, averaged over the last {window} month(s) since the first purchase in {}",
                fmt(cost),
                p.first_purchase
            ),
            &[("months", window.to_string()), ("cost_to_serve", fmt(cost))],
        ));
    }
    if let Some(v) = m.past_value {
        value.past_value = money(minor(v, c), c);
        let rate = state.settings.annual_discount_rate;
        explanations.push(explain(
            "past_value",
            format!(
                "monthly profit contributions since the first purchase, each compounded to today at {}% a year",
                rate * 100.0
            ),
            &[("annual_rate", rate.to_string())],
        ));
    }

    if let (Some(p), Some(fit)) = (&m.prediction, &state.fit) {
        let kind = fit.purchase.kind();
        value.model = kind.to_proto() as i32;
        value.model_version = fit.version.max(0) as u64;
        value.probability_alive = Some(p.probability_alive);
        value.expected_purchases_30d = Some(p.expected[0]);
        value.expected_purchases_90d = Some(p.expected[1]);
        value.expected_purchases_365d = Some(p.expected[2]);
        value.expected_order_value = money(minor(p.order_value, c), c);
        value.lifetime_value = money(minor(p.lifetime.total, c), c);
        value.lifetime_value_by_month = p
            .lifetime
            .months
            .iter()
            .map(|x| LifetimeValueMonth {
                month: x.month,
                value: money(minor(x.present_value, c), c),
                expected_purchases: x.expected_purchases,
            })
            .collect();
        let h = &p.history;
        let unit = fit.unit.as_str();
        let history = [
            ("model", kind.label().to_owned()),
            ("model_version", fit.version.to_string()),
            ("unit", unit.to_owned()),
            ("frequency", h.frequency.to_string()),
            ("recency", h.recency.to_string()),
            ("age", h.age.to_string()),
        ];
        explanations.push(explain(
            "probability_alive",
            format!(
                "{} v{}: {} repeat purchase {unit}(s), the last {} {unit}(s) after the first, observed for {} {unit}(s)",
                kind.label(), fit.version, h.frequency, h.recency, h.age
            ),
            &history,
        ));
        let (order_text, order_inputs) = order_value_explanation(fit, p, unit, &fmt);
        explanations.push(explain("expected_order_value", order_text, &order_inputs));
        let s = &state.settings;
        explanations.push(explain(
            "lifetime_value",
            format!(
                "expected purchases month by month for {} months times expected order value {}{} times margin rate {:.3}, discounted at {}% a year",
                s.lifetime_horizon_months,
                fmt(p.order_value),
                match (&fit.spend, &fit.no_spend) {
                    (None, Some(_)) => " (no spend model could be fitted: the customer's average shrunk toward the population's)",
                    (None, None) => " (no spend model: the customer's own average)",
                    (Some(_), _) => "",
                },
                p.margin_rate,
                s.annual_discount_rate * 100.0
            ),
            &[
                ("horizon_months", s.lifetime_horizon_months.to_string()),
                ("margin_rate", p.margin_rate.to_string()),
                ("annual_rate", s.annual_discount_rate.to_string()),
            ],
        ));
    }

    if let Some((spend, estimate)) = m.wallet {
        value.share_of_wallet = rapport_science::share_of_wallet(spend, Some(estimate));
        if value.share_of_wallet.is_some() {
            explanations.push(explain(
                "share_of_wallet",
                format!(
                    "spend {} over the last 12 months against an estimated yearly spend of {} in the category",
                    fmt(spend),
                    fmt(estimate)
                ),
                &[("spend", fmt(spend)), ("wallet_estimate", fmt(estimate))],
            ));
        }
    }

    if let Some(t) = &m.tier {
        score.tier = t.tier.clone();
        let basis = state.settings.tier_basis.as_str();
        explanations.push(explain(
            "tier",
            format!("{basis}: {}", t.explanation),
            &[
                ("basis", basis.to_owned()),
                ("percentile", t.percentile.to_string()),
            ],
        ));
    }

    if let Some(b) = &m.behaviour {
        for (kind, signal) in b.flags() {
            score.behaviour_flags.push(BehaviourFlag {
                kind: kind.to_owned(),
                strength: signal.strength,
                reason: signal.reason.clone(),
            });
        }
    }

    if let Some(b) = &score.basis
        && let Some(tier) = &b.tier_override
    {
        explanations.push(explain(
            "tier",
            format!(
                "set to {tier} by {} (computed: {:?})",
                b.tier_origin, score.tier
            ),
            &[
                ("override", tier.clone()),
                ("computed", score.tier.clone()),
                ("origin", b.tier_origin.clone()),
            ],
        ));
        score.tier = tier.clone();
    }

    for (measure, why) in &m.problems {
        explanations.push(explain(measure, format!("not computed: {why}"), &[]));
    }
    score.value = Some(value);
    score.explanations = explanations;
    m
}

/// The expected order value's explanation and inputs: from the spend model,
/// from the shrunk mean that replaces it, or (a fit stored before the shrunk
/// mean was kept) from the customer's own average.
fn order_value_explanation(
    fit: &LoadedFit,
    p: &Prediction,
    unit: &str,
    fmt: &dyn Fn(f64) -> String,
) -> (String, Vec<(&'static str, String)>) {
    let n = p.history.frequency;
    let mut inputs = vec![
        ("repeat_mean", fmt(p.repeat_mean)),
        ("frequency", n.to_string()),
    ];
    let text = match (&fit.spend, &fit.no_spend) {
        (Some(spend), _) => format!(
            "Gamma-Gamma: the population mean {} weighted with this customer's repeat-purchase mean {} over {n} repeat {unit}(s)",
            fmt(spend.population_mean_value()),
            fmt(p.repeat_mean),
        ),
        (None, Some(no)) => match no.shrunk {
            Some(s) => {
                inputs.extend([
                    ("population_mean", fmt(s.population_mean)),
                    ("k", s.k.to_string()),
                    ("weight", s.weight(n).to_string()),
                ]);
                format!(
                    "no spend model could be fitted ({}); expected order value is the customer's average {} over {n} repeat {unit}(s) shrunk toward the population mean {} with credibility weight k={:.3}: (n·average + k·population mean) / (n + k) = {}",
                    no.reason,
                    fmt(p.repeat_mean),
                    fmt(s.population_mean),
                    s.k,
                    fmt(p.order_value)
                )
            }
            None => format!(
                "no spend model could be fitted ({}), nor a population mean to shrink toward: the customer's own average per purchase {unit}, {}",
                no.reason,
                fmt(p.order_value)
            ),
        },
        (None, None) => format!(
            "the customer's own average per purchase {unit}, {} (no Gamma-Gamma fit: the tenant's order values did not allow one; the fit predates the shrunk mean)",
            fmt(p.order_value)
        ),
    };
    (text, inputs)
}
