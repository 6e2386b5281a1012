//! The SQLite side of [`super::ModelRepo`]. The pool has one connection, so
//! every write here is serialised already; nothing acquires a second
//! connection while holding the first.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rapport_kit::domain::{from_micros, to_micros};
use sqlx::{Row as _, SqlitePool, sqlite::SqliteRow, types::Json};
use uuid::Uuid;

use super::{
    DayRow, FitRow, Parameter, PopulationRow, RefreshOutcome, RefreshStatusRow, StoredBreakpoints,
    StoredFit, StoredSettings, StoredTiers,
};
use crate::{exact::Exact, periods::TimeUnit, repo::sqlite::parse_uuid, settings::Settings};

pub(super) async fn settings(
    pool: &SqlitePool,
    tenant: Uuid,
) -> Result<StoredSettings, sqlx::Error> {
    let row: Option<(Json<Settings>, i64, i64)> =
        sqlx::query_as(include_str!("../../../sql/sqlite/select_settings.sql"))
            .bind(tenant.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some((s, version, at)) => StoredSettings {
            settings: s.0,
            version,
            updated_at: Some(from_micros(at)),
        },
        None => StoredSettings {
            settings: Settings::default(),
            version: 0,
            updated_at: None,
        },
    })
}

pub(super) async fn put_settings(
    pool: &SqlitePool,
    tenant: Uuid,
    next: &Settings,
    now: DateTime<Utc>,
) -> Result<(StoredSettings, bool), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<(Json<Settings>, i64, i64)> =
        sqlx::query_as(include_str!("../../../sql/sqlite/select_settings.sql"))
            .bind(tenant.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let updated_at = row.as_ref().map(|r| from_micros(r.2));
    let (current, version) = match row {
        Some((s, v, _)) => (s.0, v),
        None => (Settings::default(), 0),
    };
    if current == *next {
        tx.commit().await?;
        let stored = StoredSettings {
            settings: current,
            version,
            updated_at,
        };
        return Ok((stored, false));
    }
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO settings (tenant_id, version, settings, updated_at) VALUES ($1, 1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET version = settings.version + 1, \
         settings = excluded.settings, updated_at = excluded.updated_at \
         RETURNING version",
    )
    .bind(tenant.to_string())
    .bind(Json(next))
    .bind(to_micros(now))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let stored = StoredSettings {
        settings: next.clone(),
        version,
        updated_at: Some(now),
    };
    Ok((stored, true))
}

fn to_fit_rows(rows: Vec<SqliteRow>) -> Result<Vec<StoredFit>, sqlx::Error> {
    let mut fits: Vec<StoredFit> = Vec::new();
    for r in rows {
        let version: i64 = r.try_get("version")?;
        let unit: String = r.try_get("time_unit")?;
        let model = FitRow {
            model: r.try_get("model")?,
            parameters: r.try_get::<Json<Vec<Parameter>>, _>("parameters")?.0,
            standard_errors: r
                .try_get::<Option<Json<Vec<Exact>>>, _>("standard_errors")?
                .map(|j| j.0.into_iter().map(|e| e.0).collect()),
            log_likelihood: r.try_get("log_likelihood")?,
            iterations: r.try_get("iterations")?,
            converged: r.try_get("converged")?,
            customers: r.try_get("customers")?,
            selected: r.try_get("selected")?,
        };
        match fits.last_mut() {
            Some(f) if f.version == version => {
                f.models.push(model);
                f.models.sort_by_key(|m| super::model_order(&m.model));
            }
            _ => fits.push(StoredFit {
                version,
                fitted_at: from_micros(r.try_get("fitted_at")?),
                observation_end: from_micros(r.try_get("observation_end")?),
                time_unit: TimeUnit::parse(&unit).unwrap_or_default(),
                fingerprint: r.try_get("fingerprint")?,
                models: vec![model],
            }),
        }
    }
    Ok(fits)
}

async fn fits_of<'c, E: sqlx::SqliteExecutor<'c>>(
    ex: E,
    tenant: Uuid,
    versions: &[i64],
) -> Result<Vec<StoredFit>, sqlx::Error> {
    let rows = sqlx::query(include_str!("../../../sql/sqlite/select_fits.sql"))
        .bind(tenant.to_string())
        .bind(serde_json::to_string(versions).unwrap_or_else(|_| "[]".into()))
        .fetch_all(ex)
        .await?;
    to_fit_rows(rows)
}

pub(super) async fn fit(
    pool: &SqlitePool,
    tenant: Uuid,
    version: Option<i64>,
) -> Result<Option<StoredFit>, sqlx::Error> {
    let version = match version {
        Some(v) => v,
        None => {
            let latest: Option<i64> =
                sqlx::query_scalar("SELECT max(version) FROM model_fits WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .fetch_one(pool)
                    .await?;
            match latest {
                Some(v) => v,
                None => return Ok(None),
            }
        }
    };
    Ok(fits_of(pool, tenant, &[version]).await?.pop())
}

pub(super) async fn fits(
    pool: &SqlitePool,
    tenant: Uuid,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<StoredFit>, sqlx::Error> {
    let versions: Vec<i64> =
        sqlx::query_scalar(include_str!("../../../sql/sqlite/fit_versions.sql"))
            .bind(tenant.to_string())
            .bind(before)
            .bind(limit as i64)
            .fetch_all(pool)
            .await?;
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    fits_of(pool, tenant, &versions).await
}

pub(super) async fn insert_fit(
    pool: &SqlitePool,
    tenant: Uuid,
    fit: &StoredFit,
) -> Result<(StoredFit, bool), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let latest: Option<(i64, String)> = sqlx::query_as(
        "SELECT version, fingerprint FROM model_fits WHERE tenant_id = $1 \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(tenant.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((version, fp)) = &latest
        && *fp == fit.fingerprint
    {
        let stored = fits_of(&mut *tx, tenant, &[*version]).await?.pop();
        tx.commit().await?;
        return stored.map(|s| (s, false)).ok_or(sqlx::Error::RowNotFound);
    }
    let version = latest.map_or(1, |(v, _)| v + 1);
    for m in &fit.models {
        sqlx::query(include_str!("../../../sql/sqlite/insert_fit.sql"))
            .bind(tenant.to_string())
            .bind(version)
            .bind(&m.model)
            .bind(to_micros(fit.fitted_at))
            .bind(to_micros(fit.observation_end))
            .bind(fit.time_unit.as_str())
            .bind(Json(&m.parameters))
            .bind(
                m.standard_errors
                    .as_ref()
                    .map(|e| Json(e.iter().map(|v| Exact(*v)).collect::<Vec<_>>())),
            )
            .bind(m.log_likelihood)
            .bind(m.iterations)
            .bind(m.converged)
            .bind(m.customers)
            .bind(m.selected)
            .bind(&fit.fingerprint)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((
        StoredFit {
            version,
            ..fit.clone()
        },
        true,
    ))
}

pub(super) async fn population(
    pool: &SqlitePool,
    tenant: Uuid,
) -> Result<PopulationRow, sqlx::Error> {
    type Row = (
        i64,
        i64,
        Option<Json<StoredBreakpoints>>,
        Json<StoredTiers>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> =
        sqlx::query_as(include_str!("../../../sql/sqlite/select_population.sql"))
            .bind(tenant.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(row.map_or_else(PopulationRow::default, |r| PopulationRow {
        computed_at: Some(from_micros(r.0)),
        customers: r.1,
        breakpoints: r.2.map(|j| j.0),
        tiers: r.3.0,
        preferred_model: r.4,
        last_error: r.5,
    }))
}

pub(super) async fn put_population(
    pool: &SqlitePool,
    tenant: Uuid,
    row: &PopulationRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("../../../sql/sqlite/put_population.sql"))
        .bind(tenant.to_string())
        .bind(to_micros(row.computed_at.unwrap_or_else(Utc::now)))
        .bind(row.customers)
        .bind(row.breakpoints.map(Json))
        .bind(Json(&row.tiers))
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn note(
    pool: &SqlitePool,
    tenant: Uuid,
    preferred_model: Option<&str>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("../../../sql/sqlite/note_population.sql"))
        .bind(tenant.to_string())
        .bind(preferred_model)
        .bind(error)
        .bind(to_micros(now))
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn scan_days(
    pool: &SqlitePool,
    tenant: Uuid,
    last_day: i64,
    each: &mut (dyn FnMut(DayRow) + Send),
) -> Result<(), sqlx::Error> {
    let mut rows = sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT customer_id, day, purchase_minor FROM customer_days \
         WHERE tenant_id = $1 AND day <= $2 ORDER BY customer_id, day",
    )
    .bind(tenant.to_string())
    .bind(last_day)
    .fetch(pool);
    while let Some((customer, day, amount)) = rows.try_next().await? {
        each(DayRow {
            customer_id: parse_uuid(&customer)?,
            day,
            amount,
        });
    }
    Ok(())
}

pub(super) async fn discover_tenants(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("../../../sql/sqlite/discover_tenants.sql"))
        .bind(to_micros(now))
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn claim_due(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar(include_str!("../../../sql/sqlite/claim_due.sql"))
        .bind(to_micros(now))
        .bind(to_micros(until))
        .fetch_optional(pool)
        .await?;
    id.map(|s| parse_uuid(&s)).transpose()
}

pub(super) async fn reschedule(
    pool: &SqlitePool,
    tenant: Uuid,
    due_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_leases (tenant_id, due_at) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET due_at = excluded.due_at, leased_until = NULL",
    )
    .bind(tenant.to_string())
    .bind(to_micros(due_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn record_refresh(
    pool: &SqlitePool,
    tenant: Uuid,
    outcome: RefreshOutcome,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(include_str!("../../../sql/sqlite/record_refresh.sql"))
        .bind(tenant.to_string())
        .bind(to_micros(at))
        .bind(outcome.succeeded())
        .bind(error)
        .bind(outcome.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn refresh_status(
    pool: &SqlitePool,
    tenant: Uuid,
) -> Result<Option<RefreshStatusRow>, sqlx::Error> {
    type Row = (
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
        i64,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT last_attempt_at, last_success_at, last_outcome, last_error, due_at \
         FROM refresh_leases WHERE tenant_id = $1",
    )
    .bind(tenant.to_string())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| RefreshStatusRow {
        last_attempt_at: r.0.map(from_micros),
        last_success_at: r.1.map(from_micros),
        last_outcome: r.2,
        last_error: r.3,
        next_due_at: from_micros(r.4),
    }))
}
