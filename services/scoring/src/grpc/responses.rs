//! Domain values in the contract's form: summaries, fits, refresh status
//! and settings.

use rapport_kit::{TenantContext, domain};
use rapport_proto::v1::{
    FittedModel, ModelFit, ModelParameter, Money, RefreshStatus, ScoringSettings, SegmentCount,
    SpendBucket, SpendFallback, SummarizeScoresResponse,
};

use crate::{
    aggregates::{figures::Segment, summary::Summary},
    repo::models::{RefreshStatusRow, StoredFit, StoredSettings},
    value::models::proto_kind,
};

/// SummarizeScores' figures, amounts in the tenant's `currency`; when they
/// were read, and whether stored, are the caller's to say.
pub fn summary(s: Summary, currency: &str) -> SummarizeScoresResponse {
    let money = |minor_units| {
        Some(Money {
            currency_code: currency.to_owned(),
            minor_units,
        })
    };
    SummarizeScoresResponse {
        customers: s.customers,
        net_spend: money(s.net_spend),
        segments: Segment::ALL
            .iter()
            .map(|seg| {
                let (customers, net) = s.segments[seg.index()];
                SegmentCount {
                    segment: seg.as_str().to_owned(),
                    customers,
                    net_spend: money(net),
                }
            })
            .collect(),
        spend_percentiles: s
            .percentiles
            .iter()
            .map(|v| money(*v).unwrap_or_default())
            .collect(),
        spend_histogram: s
            .histogram
            .iter()
            .map(|(from, customers)| SpendBucket {
                from: money(*from),
                customers: *customers,
            })
            .collect(),
        as_of: None,
        stored: false,
    }
}

/// The contract's form of a stored fit.
pub fn fit(f: &StoredFit) -> ModelFit {
    ModelFit {
        version: f.version.max(0) as u64,
        fitted_at: Some(domain::chrono_to_timestamp(f.fitted_at)),
        observation_end: Some(domain::chrono_to_timestamp(f.observation_end)),
        time_unit: f.time_unit.to_proto() as i32,
        models: f
            .models
            .iter()
            .map(|m| FittedModel {
                kind: proto_kind(&m.model) as i32,
                parameters: m
                    .parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| ModelParameter {
                        name: p.name.clone(),
                        value: p.value,
                        standard_error: m.standard_errors.as_ref().and_then(|e| e.get(i)).copied(),
                    })
                    .collect(),
                log_likelihood: m.log_likelihood,
                iterations: m.iterations.clamp(0, u32::MAX as i64) as u32,
                converged: m.converged,
                customers: m.customers.max(0) as u64,
                selected: m.selected,
            })
            .collect(),
        spend_model_unfitted_reason: f
            .spend_unfitted
            .as_ref()
            .map(|u| u.reason.clone())
            .unwrap_or_default(),
        spend_fallback: f
            .spend_unfitted
            .as_ref()
            .and_then(|u| u.fallback.as_ref())
            .map(|b| SpendFallback {
                population_mean: b.population_mean,
                credibility_weight: b.k,
                customers: b.customers.max(0) as u64,
                credibility_weight_note: b.k_note.clone().unwrap_or_default(),
            }),
    }
}

/// The contract's form of a tenant's refresh status.
pub fn refresh(r: &RefreshStatusRow) -> RefreshStatus {
    RefreshStatus {
        last_attempt_at: r.last_attempt_at.map(domain::chrono_to_timestamp),
        last_success_at: r.last_success_at.map(domain::chrono_to_timestamp),
        last_outcome: r.last_outcome.clone().unwrap_or_default(),
        last_error: r.last_error.clone().unwrap_or_default(),
        next_due_at: Some(domain::chrono_to_timestamp(r.next_due_at)),
    }
}

/// The tenant's settings as the contract shows them.
pub fn settings(ctx: &TenantContext, s: &StoredSettings) -> ScoringSettings {
    let mut p = s
        .settings
        .to_proto(ctx.tenant.currency, s.version.max(0) as u64);
    p.updated_at = s.updated_at.map(domain::chrono_to_timestamp);
    p
}
