//! SummarizeScores' figures for a large tenant, read a page at a time: the
//! count first (by customer id), the net-spend bounds (an index entry each),
//! then every score in ascending (net spend, customer) order. Each page is
//! its own short query on the reader, so a customer whose net spend changes
//! between pages may be counted twice or missed, and the count may be off
//! by the customers added or erased meanwhile; [`Summary`] takes that
//! without failing.

use chrono::{DateTime, Utc};
use rapport_kit::{domain::chrono_to_timestamp, tenants::Tenant};
use rapport_proto::v1::SummarizeScoresResponse;

use uuid::Uuid;

use super::{Figures, FiguresRepo};
use crate::{
    aggregates::{figures::segment, summary::Summary},
    error::{Error, storage},
};

/// Ids counted per query.
const COUNT_PAGE: i64 = 10_000;
/// Scores read per page.
const PAGE: i64 = 2_000;

/// SummarizeScores' answer for `summary`, read at `as_of` (not yet known as
/// stored).
pub(super) fn response(
    summary: Summary,
    tenant: &Tenant,
    as_of: DateTime<Utc>,
) -> SummarizeScoresResponse {
    let mut answer = crate::grpc::responses::summary(summary, tenant.currency.as_str());
    answer.as_of = Some(chrono_to_timestamp(as_of));
    answer
}

impl Figures {
    /// The tenant's summary as of `now`, read page by page.
    pub(super) async fn paged_summary(
        &self,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> Result<SummarizeScoresResponse, Error> {
        let summary = paged(&self.repo, tenant.id, now, COUNT_PAGE, PAGE).await;
        Ok(response(summary.map_err(storage("score"))?, tenant, now))
    }
}

/// The summary of `tenant`'s scores as of `now`, counting `count_page` ids
/// and reading `page` scores per query.
pub(super) async fn paged(
    repo: &FiguresRepo,
    tenant: Uuid,
    now: DateTime<Utc>,
    count_page: i64,
    page: i64,
) -> sqlx::Result<Summary> {
    let mut expected = 0;
    let mut after = None;
    while let Some((n, last)) = repo.count_page(tenant, after, count_page).await? {
        expected += n;
        after = Some(last);
        if n < count_page {
            break;
        }
    }
    let (min, max) = repo.net_bounds(tenant).await?.unwrap_or_default();
    let mut summary = Summary::new(expected.max(0) as u64, min, max);
    let mut after = None;
    loop {
        let rows = repo.summary_page(tenant, after, page).await?;
        for (_, first, last, net) in &rows {
            summary.add(*net, segment(first.map(|t| t.0), last.map(|t| t.0), now));
        }
        match rows.last() {
            Some((customer, _, _, net)) if rows.len() as i64 == page => {
                after = Some((*net, customer.0));
            }
            _ => break,
        }
    }
    Ok(summary.finish())
}
