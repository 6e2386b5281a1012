//! ScoringService requests unpacked into domain values, each bad field
//! named in a field violation.

use chrono::{DateTime, Utc};
use rapport_kit::{FieldErrors, domain, paging};
use rapport_proto::v1::{
    EvaluateModelsRequest, FitModelsRequest, ListModelFitsRequest, ListScoresRequest, ScoreOrder,
    ScoringSettings, UpdateScoringSettingsRequest,
};
use uuid::Uuid;

use super::page_tokens;
use crate::{
    calendar::day_number,
    error::{Error, valid},
    repo::{Cursor, Order},
};

/// Most ids one BatchGetScores call may ask for.
pub const MAX_BATCH: usize = 1_000;

/// The customer a GetScore asks for.
pub fn customer_id(raw: &str) -> Result<Uuid, Error> {
    domain::parse_uuid(raw).map_err(|r| Error::invalid("customer_id", r))
}

/// The customers a BatchGetScores asks for, at most [`MAX_BATCH`].
pub fn customer_ids(ids: &[String]) -> Result<Vec<Uuid>, Error> {
    if ids.len() > MAX_BATCH {
        return Err(Error::invalid(
            "customer_ids",
            format!("{} ids sent; at most {MAX_BATCH} per call", ids.len()),
        ));
    }
    let mut errors = FieldErrors::new();
    let parsed: Vec<Uuid> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| errors.check(&format!("customer_ids[{i}]"), domain::parse_uuid(id)))
        .collect();
    valid(errors)?;
    Ok(parsed)
}

fn order(raw: i32) -> Result<Order, Error> {
    match ScoreOrder::try_from(raw) {
        Ok(ScoreOrder::Unspecified | ScoreOrder::NetSpend) => Ok(Order::NetSpend),
        Ok(ScoreOrder::PurchaseCount) => Ok(Order::PurchaseCount),
        Ok(ScoreOrder::LastPurchase) => Ok(Order::LastPurchase),
        Err(_) => Err(Error::invalid(
            "order_by",
            format!("{raw} is not a ScoreOrder"),
        )),
    }
}

/// A ListScores page: the order, the page size and where the page starts.
pub fn list_scores(req: &ListScoresRequest) -> Result<(Order, u32, Option<Cursor>), Error> {
    let order = order(req.order_by)?;
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check("page_token", page_tokens::decode(order, &req.page_token));
    valid(errors)?;
    Ok((order, size.unwrap_or_default(), after.flatten()))
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

/// The last day a FitModels fits on (`None`: today).
pub fn observation_end(req: &FitModelsRequest, now: DateTime<Utc>) -> Result<Option<i64>, Error> {
    let mut errors = FieldErrors::new();
    let end = match &req.observation_end {
        None => None,
        Some(ts) => day_of("observation_end", Some(ts), now, &mut errors),
    };
    valid(errors)?;
    Ok(end)
}

/// The fit a GetModelFit asks for (`None`: the latest).
pub fn fit_version(version: u64) -> Result<Option<i64>, Error> {
    match version {
        0 => Ok(None),
        v => Ok(Some(
            i64::try_from(v).map_err(|_| Error::invalid("version", "is too large"))?,
        )),
    }
}

/// A ListModelFits page: its size and the version it starts below.
pub fn list_model_fits(req: &ListModelFitsRequest) -> Result<(u32, Option<i64>), Error> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let before = errors.check("page_token", page_tokens::decode_version(&req.page_token));
    valid(errors)?;
    Ok((size.unwrap_or_default(), before.flatten()))
}

/// The calibration and holdout ends (day numbers) of an EvaluateModels; the
/// holdout ends today unless given.
pub fn evaluate_models(
    req: &EvaluateModelsRequest,
    now: DateTime<Utc>,
) -> Result<(i64, i64), Error> {
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
    valid(errors)?;
    match (calibration, holdout) {
        (Some(calibration), Some(holdout)) => Ok((calibration, holdout)),
        _ => Err(Error::invalid("calibration_end", "required")),
    }
}

/// The settings an UpdateScoringSettings carries and the fields to take
/// from them (every field for an empty mask).
pub fn settings_update(
    req: &UpdateScoringSettingsRequest,
) -> Result<(&ScoringSettings, Vec<String>), Error> {
    let update = req
        .settings
        .as_ref()
        .ok_or_else(|| Error::invalid("settings", "required"))?;
    let mask = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    Ok((update, mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_bounded_and_named() {
        let too_many = vec![Uuid::new_v4().to_string(); MAX_BATCH + 1];
        let Err(Error::Invalid(e)) = customer_ids(&too_many) else {
            panic!("accepted")
        };
        assert_eq!(e.violations()[0].0, "customer_ids");
        let mixed = vec![Uuid::new_v4().to_string(), "x".into()];
        let Err(Error::Invalid(e)) = customer_ids(&mixed) else {
            panic!("accepted")
        };
        assert_eq!(e.violations()[0].0, "customer_ids[1]");
    }

    #[test]
    fn unknown_orders_are_refused() {
        assert_eq!(order(0).unwrap(), Order::NetSpend);
        assert_eq!(order(3).unwrap(), Order::LastPurchase);
        assert!(order(9).is_err());
    }
}
