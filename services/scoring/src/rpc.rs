//! The customer-value RPCs behind the handlers: request fields validated into
//! domain values, the engine or repositories called, results converted.

use chrono::{DateTime, Utc};
use rapport_kit::{ApiError, FieldErrors, TenantContext, domain, paging};
use rapport_proto::v1::{
    EvaluateModelsRequest, EvaluateModelsResponse, FitModelsRequest, FitModelsResponse,
    FittedModel, GetModelFitRequest, GetModelFitResponse, GetScoringSettingsResponse,
    ListModelFitsRequest, ListModelFitsResponse, ModelFit, ModelParameter, RefreshStatus,
    UpdateScoringSettingsRequest, UpdateScoringSettingsResponse,
};

use crate::{
    engine::{Engine, db_error},
    models::proto_kind,
    periods::{day_number, to_stored_precision},
    repo::models::{RefreshStatusRow, StoredFit, StoredSettings},
};

/// The contract's form of a stored fit.
pub fn fit_to_proto(f: &StoredFit) -> ModelFit {
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
    }
}

/// The contract's form of a tenant's refresh status.
pub fn refresh_to_proto(r: &RefreshStatusRow) -> RefreshStatus {
    RefreshStatus {
        last_attempt_at: r.last_attempt_at.map(domain::chrono_to_timestamp),
        last_success_at: r.last_success_at.map(domain::chrono_to_timestamp),
        last_outcome: r.last_outcome.clone().unwrap_or_default(),
        last_error: r.last_error.clone().unwrap_or_default(),
        next_due_at: Some(domain::chrono_to_timestamp(r.next_due_at)),
    }
}

/// A day given as a timestamp (its UTC date), not in the future.
fn day_of(
    field: &str,
    ts: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Option<i64> {
    let t = errors.check(field, domain::parse_event_time(ts, now))?;
    Some(day_number(t))
}

/// FitModels.
pub async fn fit_models(
    engine: &Engine,
    ctx: &TenantContext,
    req: &FitModelsRequest,
) -> Result<FitModelsResponse, ApiError> {
    let now = Utc::now();
    let mut errors = FieldErrors::new();
    let end = match &req.observation_end {
        None => None,
        Some(ts) => day_of("observation_end", Some(ts), now, &mut errors),
    };
    errors.into_result()?;
    let (fit, created) = engine
        .fit_and_refresh(ctx.tenant_id(), ctx.tenant.currency, end, now)
        .await?;
    Ok(FitModelsResponse {
        fit: Some(fit_to_proto(&fit)),
        created,
    })
}

/// GetModelFit.
pub async fn get_model_fit(
    engine: &Engine,
    ctx: &TenantContext,
    req: &GetModelFitRequest,
) -> Result<GetModelFitResponse, ApiError> {
    let version = match req.version {
        0 => None,
        v => Some(i64::try_from(v).map_err(|_| ApiError::invalid("version", "is too large"))?),
    };
    let fit = engine
        .models
        .fit(ctx.tenant_id(), version)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ApiError::NotFound {
            what: "model fit",
            id: if req.version == 0 {
                "latest".into()
            } else {
                req.version.to_string()
            },
        })?;
    Ok(GetModelFitResponse {
        fit: Some(fit_to_proto(&fit)),
    })
}

/// ListModelFits: newest first; the page token is the last version served.
pub async fn list_model_fits(
    engine: &Engine,
    ctx: &TenantContext,
    req: &ListModelFitsRequest,
) -> Result<ListModelFitsResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let before = errors.check(
        "page_token",
        paging::decode_token(&req.page_token).and_then(|t| {
            t.map(|v| {
                v.parse::<i64>()
                    .map_err(|_| "is not a page token this service issued".to_owned())
            })
            .transpose()
        }),
    );
    errors.into_result()?;
    let size = size.unwrap_or_default();
    let mut fits = engine
        .models
        .fits(ctx.tenant_id(), before.flatten(), size + 1)
        .await
        .map_err(db_error)?;
    let next_page_token = if fits.len() > size as usize {
        fits.truncate(size as usize);
        fits.last()
            .map(|f| paging::encode_token(&f.version.to_string()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let refresh = engine
        .models
        .refresh_status(ctx.tenant_id())
        .await
        .map_err(db_error)?;
    Ok(ListModelFitsResponse {
        fits: fits.iter().map(fit_to_proto).collect(),
        next_page_token,
        refresh: refresh.as_ref().map(refresh_to_proto),
    })
}

/// EvaluateModels.
pub async fn evaluate_models(
    engine: &Engine,
    ctx: &TenantContext,
    req: &EvaluateModelsRequest,
) -> Result<EvaluateModelsResponse, ApiError> {
    let now = Utc::now();
    let mut errors = FieldErrors::new();
    let calibration = day_of(
        "calibration_end",
        req.calibration_end.as_ref(),
        now,
        &mut errors,
    );
    let holdout = match &req.holdout_end {
        None => Some(day_number(now)),
        Some(ts) => day_of("holdout_end", Some(ts), now, &mut errors),
    };
    errors.into_result()?;
    let (Some(calibration), Some(holdout)) = (calibration, holdout) else {
        return Err(ApiError::invalid("calibration_end", "required"));
    };
    engine
        .evaluate(ctx.tenant_id(), ctx.tenant.currency, calibration, holdout)
        .await
}

fn settings_response(
    ctx: &TenantContext,
    s: &StoredSettings,
) -> rapport_proto::v1::ScoringSettings {
    let mut p = s
        .settings
        .to_proto(ctx.tenant.currency, s.version.max(0) as u64);
    p.updated_at = s.updated_at.map(domain::chrono_to_timestamp);
    p
}

/// GetScoringSettings.
pub async fn get_settings(
    engine: &Engine,
    ctx: &TenantContext,
) -> Result<GetScoringSettingsResponse, ApiError> {
    let s = engine
        .models
        .settings(ctx.tenant_id())
        .await
        .map_err(db_error)?;
    Ok(GetScoringSettingsResponse {
        settings: Some(settings_response(ctx, &s)),
    })
}

/// UpdateScoringSettings: the masked fields validated onto the current
/// settings and stored unless nothing changes.
pub async fn update_settings(
    engine: &Engine,
    ctx: &TenantContext,
    req: &UpdateScoringSettingsRequest,
) -> Result<UpdateScoringSettingsResponse, ApiError> {
    let tenant = ctx.tenant_id();
    let update = req
        .settings
        .as_ref()
        .ok_or_else(|| ApiError::invalid("settings", "required"))?;
    let mask = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    let current = engine.models.settings(tenant).await.map_err(db_error)?;
    let next = current
        .settings
        .updated(update, &mask, ctx.tenant.currency)
        .map_err(ApiError::InvalidArgument)?;
    let (stored, changed) = engine
        .models
        .put_settings(tenant, &next, to_stored_precision(Utc::now()))
        .await
        .map_err(db_error)?;
    if changed {
        engine.states.reload(tenant).await.map_err(db_error)?;
        tracing::info!(version = stored.version, "scoring settings changed");
    }
    Ok(UpdateScoringSettingsResponse {
        settings: Some(settings_response(ctx, &stored)),
        changed,
    })
}
