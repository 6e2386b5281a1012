//! The gRPC handlers: parse, call the store, convert.

use rapport_kit::{ApiError, TenantContext};
use rapport_proto::v1::{
    self as pb, GetNotificationRequest, GetNotificationResponse, ListNotificationsRequest,
    ListNotificationsResponse, SendNotificationRequest, SendNotificationResponse,
    notifications_service_server::NotificationsService,
};
use tonic::{Request, Response, Status};

use crate::{
    repo::{Cursor, Repository},
    validate,
};

/// The Notifications service over its store.
#[derive(Debug, Clone)]
pub struct Notifications {
    repo: Repository,
}

impl Notifications {
    /// Serves from `repo`.
    pub fn new(repo: Repository) -> Self {
        Notifications { repo }
    }
}

#[tonic::async_trait]
impl NotificationsService for Notifications {
    #[tracing::instrument(skip_all, fields(notification_id = tracing::field::Empty, created = tracing::field::Empty))]
    async fn send_notification(
        &self,
        request: Request<SendNotificationRequest>,
    ) -> Result<Response<SendNotificationResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        let new = validate::send_request(request.into_inner())?;
        let (stored, created) = self
            .repo
            .insert(tenant, &new)
            .await
            .map_err(ApiError::from)?;
        let span = tracing::Span::current();
        span.record("notification_id", tracing::field::display(stored.id));
        span.record("created", created);
        if created {
            tracing::debug!("notification queued");
        }
        Ok(Response::new(SendNotificationResponse {
            notification: Some(stored.into_proto(Vec::new())),
            created,
        }))
    }

    #[tracing::instrument(skip_all, fields(notification_id = tracing::field::Empty))]
    async fn get_notification(
        &self,
        request: Request<GetNotificationRequest>,
    ) -> Result<Response<GetNotificationResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        let id = validate::notification_id(&request.get_ref().notification_id)?;
        tracing::Span::current().record("notification_id", tracing::field::display(id));
        let (notification, attempts) = self
            .repo
            .get(tenant, id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound {
                what: "notification",
                id: id.to_string(),
            })?;
        Ok(Response::new(GetNotificationResponse {
            notification: Some(notification.into_proto(attempts)),
        }))
    }

    #[tracing::instrument(skip_all, fields(returned = tracing::field::Empty))]
    async fn list_notifications(
        &self,
        request: Request<ListNotificationsRequest>,
    ) -> Result<Response<ListNotificationsResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        let query = validate::list_request(request.get_ref())?;
        // One row more than the page tells whether another page follows.
        let mut rows = self
            .repo
            .list(tenant, query.customer, query.after, query.page_size + 1)
            .await
            .map_err(ApiError::from)?;
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
        let notifications: Vec<pb::Notification> =
            rows.into_iter().map(|n| n.into_proto(Vec::new())).collect();
        Ok(Response::new(ListNotificationsResponse {
            notifications,
            next_page_token,
        }))
    }
}
