//! The notification RPCs: send (accept and queue), get, and newest-first
//! pages.

use rapport_proto::v1 as pb;

use super::Call;
use crate::{accept::accept, error::Error, repo::Cursor, validate};

/// Accepts a notification, or returns the one stored under its dedupe key.
pub(super) async fn send(
    c: Call<'_>,
    req: pb::SendNotificationRequest,
) -> Result<pb::SendNotificationResponse, Error> {
    let req = validate::send_request(req, c.configured)?;
    let (stored, created) = accept(c.repo, c.peers, c.tenant, req).await?;
    let span = tracing::Span::current();
    span.record("notification_id", tracing::field::display(stored.id));
    span.record("created", created);
    if created {
        tracing::debug!("notification queued");
    }
    Ok(pb::SendNotificationResponse {
        notification: Some(stored.into_proto(Vec::new())),
        created,
    })
}

/// One notification with its attempts.
pub(super) async fn get(
    c: Call<'_>,
    req: pb::GetNotificationRequest,
) -> Result<pb::GetNotificationResponse, Error> {
    let id = validate::notification_id(&req.notification_id)?;
    tracing::Span::current().record("notification_id", tracing::field::display(id));
    let (notification, attempts) =
        c.repo
            .get(c.tenant, id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "notification",
                id: id.to_string(),
            })?;
    Ok(pb::GetNotificationResponse {
        notification: Some(notification.into_proto(attempts)),
    })
}

/// A page of notifications, newest first, without their attempts.
pub(super) async fn list(
    c: Call<'_>,
    req: pb::ListNotificationsRequest,
) -> Result<pb::ListNotificationsResponse, Error> {
    let query = validate::list_request(&req)?;
    // One row more than the page tells whether another page follows.
    let mut rows = (c.repo)
        .list(c.tenant, query.customer, query.after, query.page_size + 1)
        .await?;
    let more = rows.len() > query.page_size as usize;
    rows.truncate(query.page_size as usize);
    let next_page_token = match rows.last() {
        Some(last) if more => validate::next_page_token(Cursor {
            created_at: last.created_at,
            id: last.id,
        }),
        _ => String::new(),
    };
    tracing::Span::current().record("returned", rows.len());
    // Attempts are served by GetNotification only, to keep pages cheap.
    Ok(pb::ListNotificationsResponse {
        notifications: rows.into_iter().map(|n| n.into_proto(Vec::new())).collect(),
        next_page_token,
    })
}
