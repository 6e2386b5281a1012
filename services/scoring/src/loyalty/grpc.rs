//! The LoyaltyService handler: requests checked field by field, then the
//! programme, balances and ledger of [`Loyalty`].

use rapport_kit::{
    ApiError, FieldErrors, TenantContext, audit, domain,
    domain::chrono_to_timestamp,
    paging::{self, decode_token, encode_token},
};
use rapport_proto::v1::{
    AdjustPointsRequest, AdjustPointsResponse, GetPointsBalanceRequest, GetPointsBalanceResponse,
    GetPointsProgrammeRequest, GetPointsProgrammeResponse, ListPointsLedgerRequest,
    ListPointsLedgerResponse, PointsBalance, PointsEntry, PointsProgramme,
    PutPointsProgrammeRequest, PutPointsProgrammeResponse, RedeemPointsRequest,
    RedeemPointsResponse, loyalty_service_server::LoyaltyService,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Loyalty, Spend,
    ledger::Kind,
    store::{Balance, Programme, StoredEntry},
    terms::Terms,
};
use crate::error::Error;

/// Longest reason of a redemption or adjustment, in bytes.
const MAX_REASON_LEN: usize = 200;
/// The audit target of the programme.
const AUDIT_TARGET: &str = "points_programme";

/// The loyalty service.
pub struct LoyaltyApi {
    pub(crate) loyalty: Loyalty,
}

fn invalid(errors: FieldErrors) -> Status {
    ApiError::InvalidArgument(errors).into()
}

fn status(e: Error) -> Status {
    ApiError::from(e).into()
}

/// The programme in the API's form.
pub fn programme_proto(p: &Programme) -> PointsProgramme {
    PointsProgramme {
        started_at: Some(chrono_to_timestamp(p.started_at)),
        updated_at: Some(chrono_to_timestamp(p.updated_at)),
        version: u32::try_from(p.version).unwrap_or(u32::MAX),
        ..p.terms.to_proto()
    }
}

/// A balance in the API's form.
pub fn balance_proto(customer: Uuid, b: &Balance) -> PointsBalance {
    let a = &b.account;
    PointsBalance {
        customer_id: customer.to_string(),
        balance: a.balance,
        expiring_30d: b.expiring_30d,
        next_expiry_at: b.next_expiry.map(|(t, _)| chrono_to_timestamp(t)),
        next_expiry_points: b.next_expiry.map_or(0, |(_, n)| n),
        earned: a.earned,
        redeemed: a.redeemed,
        expired: a.expired,
        adjusted: a.adjusted,
        updated_at: a.updated_at.map(chrono_to_timestamp),
    }
}

/// An entry in the API's form.
pub fn entry_proto(e: &StoredEntry) -> PointsEntry {
    PointsEntry {
        entry_id: e.entry_id.clone(),
        kind: e.kind.to_proto().into(),
        points: e.points,
        balance_after: e.balance_after,
        occurred_at: Some(chrono_to_timestamp(e.occurred_at)),
        recorded_at: Some(chrono_to_timestamp(e.recorded_at)),
        expires_at: e.expires_at.map(chrono_to_timestamp),
        reason: e.reason.clone(),
    }
}

/// A redemption's or adjustment's fields checked.
fn spend(
    request_id: &str,
    customer_id: &str,
    points: i64,
    reason: &str,
    kind: Kind,
) -> Result<Spend, Status> {
    let mut errors = FieldErrors::new();
    let request_id = errors.check(
        "request_id",
        domain::parse_id(request_id).map(str::to_owned),
    );
    let customer = errors.check("customer_id", domain::parse_uuid(customer_id));
    match kind {
        Kind::Redemption if points < 1 => errors.add("points", "must be at least 1"),
        Kind::Adjustment if points == 0 => errors.add("points", "must not be 0"),
        _ => {}
    }
    if points == i64::MIN {
        errors.add("points", "is out of range");
    }
    if kind == Kind::Adjustment && reason.trim().is_empty() {
        errors.add("reason", "required: say why the points are adjusted");
    } else if let Err(e) = domain::check_text(reason, MAX_REASON_LEN) {
        errors.add("reason", e);
    }
    match (request_id, customer) {
        (Some(request_id), Some(customer)) if errors.is_empty() => Ok(Spend {
            request_id,
            customer,
            points: if kind == Kind::Redemption {
                -points
            } else {
                points
            },
            reason: reason.to_owned(),
            kind,
        }),
        _ => Err(invalid(errors)),
    }
}

/// A redemption's or adjustment's answer: its entry, the balance after it,
/// and whether it was a replay.
type Spent = (Option<PointsEntry>, Option<PointsBalance>, bool);

impl LoyaltyApi {
    /// Checks a redemption's or adjustment's fields (request id, customer,
    /// points, reason) and makes it.
    async fn spent(
        &self,
        ctx: &TenantContext,
        (request_id, customer_id, points, reason): (&str, &str, i64, &str),
        kind: Kind,
    ) -> Result<Spent, Status> {
        let asked = spend(request_id, customer_id, points, reason, kind)?;
        let customer = asked.customer;
        let spent = self
            .loyalty
            .spend(ctx.tenant_id(), asked)
            .await
            .map_err(status)?;
        Ok((
            Some(entry_proto(&spent.entry)),
            Some(balance_proto(customer, &spent.balance)),
            spent.replayed,
        ))
    }
}

#[tonic::async_trait]
impl LoyaltyService for LoyaltyApi {
    #[tracing::instrument(skip_all)]
    async fn get_points_programme(
        &self,
        request: Request<GetPointsProgrammeRequest>,
    ) -> Result<Response<GetPointsProgrammeResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let found = self.loyalty.repo.programme(ctx.tenant_id()).await;
        match found.map_err(crate::error::storage("points programme")) {
            Ok(Some(p)) => Ok(Response::new(GetPointsProgrammeResponse {
                programme: Some(programme_proto(&p)),
            })),
            Ok(None) => Err(ApiError::NotFound {
                what: "points_programme",
                id: "(none put yet: PutPointsProgramme makes it)".into(),
            }
            .into()),
            Err(e) => Err(status(e)),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn put_points_programme(
        &self,
        request: Request<PutPointsProgrammeRequest>,
    ) -> Result<Response<PutPointsProgrammeResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let Some(given) = request.get_ref().programme.as_ref() else {
            return Err(invalid(FieldErrors::one("programme", "required")));
        };
        let terms = Terms::check(given).map_err(invalid)?;
        let start = match &given.started_at {
            None => None,
            Some(t) => Some(
                domain::timestamp_to_chrono(t)
                    .map_err(|e| invalid(FieldErrors::one("programme.started_at", e)))?,
            ),
        };
        let tenant = ctx.tenant_id();
        let before = self.loyalty.repo.programme(tenant).await.ok().flatten();
        let (programme, created, changed) = self
            .loyalty
            .put(tenant, &terms, start, chrono::Utc::now())
            .await
            .map_err(status)?;
        let after = programme_proto(&programme);
        if changed {
            let name = "rapport.v1.PointsProgramme";
            let before = before.as_ref().map(programme_proto).unwrap_or_default();
            let summary = audit::diff(
                &audit::proto_json(name, &before),
                &audit::proto_json(name, &after),
                &["updatedAt", "startedAt", "version"],
            );
            audit::record(&ctx, AUDIT_TARGET, summary).await;
        }
        Ok(Response::new(PutPointsProgrammeResponse {
            programme: Some(after),
            created,
            changed,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_points_balance(
        &self,
        request: Request<GetPointsBalanceRequest>,
    ) -> Result<Response<GetPointsBalanceResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let customer = domain::parse_uuid(&request.get_ref().customer_id)
            .map_err(|e| invalid(FieldErrors::one("customer_id", e)))?;
        let balance = self
            .loyalty
            .balance(ctx.tenant_id(), customer)
            .await
            .map_err(status)?;
        Ok(Response::new(GetPointsBalanceResponse {
            balance: Some(balance_proto(customer, &balance)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn redeem_points(
        &self,
        request: Request<RedeemPointsRequest>,
    ) -> Result<Response<RedeemPointsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = request.get_ref();
        let (entry, balance, replayed) = self
            .spent(
                &ctx,
                (&r.request_id, &r.customer_id, r.points, &r.reason),
                Kind::Redemption,
            )
            .await?;
        Ok(Response::new(RedeemPointsResponse {
            entry,
            balance,
            replayed,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn adjust_points(
        &self,
        request: Request<AdjustPointsRequest>,
    ) -> Result<Response<AdjustPointsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = request.get_ref();
        let (entry, balance, replayed) = self
            .spent(
                &ctx,
                (&r.request_id, &r.customer_id, r.points, &r.reason),
                Kind::Adjustment,
            )
            .await?;
        Ok(Response::new(AdjustPointsResponse {
            entry,
            balance,
            replayed,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_points_ledger(
        &self,
        request: Request<ListPointsLedgerRequest>,
    ) -> Result<Response<ListPointsLedgerResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = request.get_ref();
        let mut errors = FieldErrors::new();
        let customer = errors.check("customer_id", domain::parse_uuid(&r.customer_id));
        let size = errors.check("page_size", paging::page_size(r.page_size));
        let before = errors.check(
            "page_token",
            decode_token(&r.page_token).and_then(|t| match t {
                None => Ok(None),
                Some(s) => s
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| "is not a page token this service issued".to_owned()),
            }),
        );
        let (Some(customer), Some(size), Some(before)) = (customer, size, before) else {
            return Err(invalid(errors));
        };
        let entries = self
            .loyalty
            .ledger(ctx.tenant_id(), customer, before, i64::from(size) + 1)
            .await
            .map_err(status)?;
        let more = entries.len() > size as usize;
        let page = &entries[..entries.len().min(size as usize)];
        Ok(Response::new(ListPointsLedgerResponse {
            entries: page.iter().map(entry_proto).collect(),
            next_page_token: match (more, page.last()) {
                (true, Some(last)) => encode_token(&last.seq.to_string()),
                _ => String::new(),
            },
        }))
    }
}
