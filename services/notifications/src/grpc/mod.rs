//! The gRPC handlers: take the tenant from the credentials, call the
//! operation, convert its error once ([`crate::error`]).

mod audit;
mod customer_data;
mod endpoints;
mod notifications;
mod policy;
mod templates;

use rapport_kit::TenantContext;
use rapport_proto::v1::{self as pb, notifications_service_server::NotificationsService};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{peers::Peers, repo::Repository, validate::Configured};

/// The Notifications service over its store.
#[derive(Debug, Clone)]
pub struct Notifications {
    repo: Repository,
    peers: Peers,
    configured: Configured,
    secret_overlap_ms: u64,
}

impl Notifications {
    /// Serves from `repo`, consulting profiles and scoring through `peers`;
    /// a rotated webhook secret keeps signing for `secret_overlap_ms`.
    pub fn new(
        repo: Repository,
        peers: Peers,
        configured: Configured,
        secret_overlap_ms: u64,
    ) -> Self {
        Notifications {
            repo,
            peers,
            configured,
            secret_overlap_ms,
        }
    }

    /// The call `request` makes: the tenant from its credentials.
    fn call<'a>(&'a self, ctx: &'a TenantContext) -> Call<'a> {
        Call {
            repo: &self.repo,
            peers: &self.peers,
            configured: self.configured,
            secret_overlap_ms: self.secret_overlap_ms,
            tenant: ctx.tenant_id(),
            ctx,
        }
    }
}

/// What an operation works with: the service's parts and the tenant served.
#[derive(Clone, Copy)]
struct Call<'a> {
    repo: &'a Repository,
    peers: &'a Peers,
    configured: Configured,
    secret_overlap_ms: u64,
    tenant: Uuid,
    /// The caller, whose changes are recorded in the audit trail.
    ctx: &'a TenantContext,
}

/// The service's methods as `name(Request) -> Response = operation`: each
/// takes the call and the request, and its error becomes a status once.
/// Every method's span skips its arguments; `fields(..)` adds to it.
macro_rules! methods {
    ($(
        $name:ident($req:ident) -> $resp:ident = $op:path $(, fields($($field:tt)*))?;
    )*) => {
        #[tonic::async_trait]
        impl NotificationsService for Notifications {
            $(
                #[tracing::instrument(skip_all $(, fields($($field)*))?)]
                async fn $name(
                    &self,
                    request: Request<pb::$req>,
                ) -> Result<Response<pb::$resp>, Status> {
                    let ctx = TenantContext::of(&request)?;
                    let call = self.call(&ctx);
                    let answer = $op(call, request.into_inner()).await;
                    answer.map(Response::new).map_err(Status::from)
                }
            )*
        }
    };
}

methods! {
    send_notification(SendNotificationRequest) -> SendNotificationResponse = notifications::send,
        fields(notification_id = tracing::field::Empty, created = tracing::field::Empty);
    get_notification(GetNotificationRequest) -> GetNotificationResponse = notifications::get,
        fields(notification_id = tracing::field::Empty);
    list_notifications(ListNotificationsRequest) -> ListNotificationsResponse = notifications::list,
        fields(returned = tracing::field::Empty);
    put_template(PutTemplateRequest) -> PutTemplateResponse = templates::put;
    get_template(GetTemplateRequest) -> GetTemplateResponse = templates::get;
    list_templates(ListTemplatesRequest) -> ListTemplatesResponse = templates::list;
    delete_template(DeleteTemplateRequest) -> DeleteTemplateResponse = templates::delete;
    preview_template(PreviewTemplateRequest) -> PreviewTemplateResponse = templates::preview;
    get_contact_policy(GetContactPolicyRequest) -> GetContactPolicyResponse = policy::get;
    update_contact_policy(UpdateContactPolicyRequest) -> UpdateContactPolicyResponse =
        policy::update;
    rotate_webhook_secret(RotateWebhookSecretRequest) -> RotateWebhookSecretResponse =
        policy::rotate;
    put_integration_endpoint(PutIntegrationEndpointRequest) -> PutIntegrationEndpointResponse =
        endpoints::put;
    get_integration_endpoint(GetIntegrationEndpointRequest) -> GetIntegrationEndpointResponse =
        endpoints::get;
    list_integration_endpoints(ListIntegrationEndpointsRequest)
        -> ListIntegrationEndpointsResponse = endpoints::list;
    delete_integration_endpoint(DeleteIntegrationEndpointRequest)
        -> DeleteIntegrationEndpointResponse = endpoints::delete;
    export_customer_notifications(ExportCustomerNotificationsRequest)
        -> ExportCustomerNotificationsResponse = customer_data::export;
    erase_customer_notifications(EraseCustomerNotificationsRequest)
        -> EraseCustomerNotificationsResponse = customer_data::erase;
}
