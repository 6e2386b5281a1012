//! The gRPC handlers: parse, call the store, convert.

use rapport_kit::{ApiError, TenantContext};
use rapport_proto::v1::{
    self as pb, GetNotificationRequest, GetNotificationResponse, ListNotificationsRequest,
    ListNotificationsResponse, SendNotificationRequest, SendNotificationResponse,
    notifications_service_server::NotificationsService,
};
use tonic::{Request, Response, Status};

use crate::{
    accept::accept,
    peers::Peers,
    repo::{Cursor, Repository},
    settings,
    validate::{self, Configured},
};

/// The Notifications service over its store.
#[derive(Debug, Clone)]
pub struct Notifications {
    repo: Repository,
    peers: Peers,
    configured: Configured,
}

impl Notifications {
    /// Serves from `repo`, consulting profiles and scoring through `peers`.
    pub fn new(repo: Repository, peers: Peers, configured: Configured) -> Self {
        Notifications {
            repo,
            peers,
            configured,
        }
    }
}

/// Wraps a settings result as a response.
fn answer<T>(result: Result<T, ApiError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl NotificationsService for Notifications {
    #[tracing::instrument(skip_all, fields(notification_id = tracing::field::Empty, created = tracing::field::Empty))]
    async fn send_notification(
        &self,
        request: Request<SendNotificationRequest>,
    ) -> Result<Response<SendNotificationResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        let req = validate::send_request(request.into_inner(), self.configured)?;
        let (stored, created) = accept(&self.repo, &self.peers, tenant, req).await?;
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

    #[tracing::instrument(skip_all)]
    async fn put_template(
        &self,
        request: Request<pb::PutTemplateRequest>,
    ) -> Result<Response<pb::PutTemplateResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        answer(settings::put_template(&self.repo, tenant, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_template(
        &self,
        request: Request<pb::GetTemplateRequest>,
    ) -> Result<Response<pb::GetTemplateResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        answer(settings::get_template(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        answer(settings::list_templates(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn delete_template(
        &self,
        request: Request<pb::DeleteTemplateRequest>,
    ) -> Result<Response<pb::DeleteTemplateResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        answer(settings::delete_template(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn preview_template(
        &self,
        request: Request<pb::PreviewTemplateRequest>,
    ) -> Result<Response<pb::PreviewTemplateResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        let req = request.into_inner();
        answer(settings::preview_template(&self.repo, &self.peers, tenant, req).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_contact_policy(
        &self,
        request: Request<pb::GetContactPolicyRequest>,
    ) -> Result<Response<pb::GetContactPolicyResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        answer(settings::get_policy(&self.repo, tenant).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_contact_policy(
        &self,
        request: Request<pb::UpdateContactPolicyRequest>,
    ) -> Result<Response<pb::UpdateContactPolicyResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        answer(settings::update_policy(&self.repo, tenant, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_webhook_secret(
        &self,
        request: Request<pb::RotateWebhookSecretRequest>,
    ) -> Result<Response<pb::RotateWebhookSecretResponse>, Status> {
        let tenant = TenantContext::of(&request)?.tenant_id();
        answer(settings::rotate_secret(&self.repo, tenant).await)
    }
}
