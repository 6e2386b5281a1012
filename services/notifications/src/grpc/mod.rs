//! The gRPC handlers: take the tenant from the credentials, call the
//! operation, convert its error once ([`crate::error`]).

mod notifications;
mod policy;
mod templates;

use rapport_kit::TenantContext;
use rapport_proto::v1::{self as pb, notifications_service_server::NotificationsService};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{error::Error, peers::Peers, repo::Repository, validate::Configured};

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

fn tenant<T>(request: &Request<T>) -> Result<Uuid, Status> {
    Ok(TenantContext::of(request)?.tenant_id())
}

/// Wraps an operation's result as a response.
fn answer<T>(result: Result<T, Error>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl NotificationsService for Notifications {
    #[tracing::instrument(skip_all, fields(notification_id = tracing::field::Empty, created = tracing::field::Empty))]
    async fn send_notification(
        &self,
        request: Request<pb::SendNotificationRequest>,
    ) -> Result<Response<pb::SendNotificationResponse>, Status> {
        let tenant = tenant(&request)?;
        let (repo, peers) = (&self.repo, &self.peers);
        let req = request.into_inner();
        answer(notifications::send(repo, peers, self.configured, tenant, req).await)
    }

    #[tracing::instrument(skip_all, fields(notification_id = tracing::field::Empty))]
    async fn get_notification(
        &self,
        request: Request<pb::GetNotificationRequest>,
    ) -> Result<Response<pb::GetNotificationResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(notifications::get(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all, fields(returned = tracing::field::Empty))]
    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(notifications::list(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn put_template(
        &self,
        request: Request<pb::PutTemplateRequest>,
    ) -> Result<Response<pb::PutTemplateResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(templates::put(&self.repo, tenant, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_template(
        &self,
        request: Request<pb::GetTemplateRequest>,
    ) -> Result<Response<pb::GetTemplateResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(templates::get(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(templates::list(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn delete_template(
        &self,
        request: Request<pb::DeleteTemplateRequest>,
    ) -> Result<Response<pb::DeleteTemplateResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(templates::delete(&self.repo, tenant, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn preview_template(
        &self,
        request: Request<pb::PreviewTemplateRequest>,
    ) -> Result<Response<pb::PreviewTemplateResponse>, Status> {
        let tenant = tenant(&request)?;
        let req = request.get_ref();
        answer(templates::preview(&self.repo, &self.peers, tenant, req).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_contact_policy(
        &self,
        request: Request<pb::GetContactPolicyRequest>,
    ) -> Result<Response<pb::GetContactPolicyResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(policy::get(&self.repo, tenant).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_contact_policy(
        &self,
        request: Request<pb::UpdateContactPolicyRequest>,
    ) -> Result<Response<pb::UpdateContactPolicyResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(policy::update(&self.repo, tenant, request.into_inner()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_webhook_secret(
        &self,
        request: Request<pb::RotateWebhookSecretRequest>,
    ) -> Result<Response<pb::RotateWebhookSecretResponse>, Status> {
        let tenant = tenant(&request)?;
        answer(policy::rotate_secret(&self.repo, tenant).await)
    }
}
