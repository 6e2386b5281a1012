//! The gRPC handlers: take the tenant from the credentials, validate, call
//! the repository, convert.

use chrono::Utc;
use rapport_kit::{Db, TenantContext, audit, domain::chrono_to_timestamp};
use rapport_proto::v1::{self as pb, profiles_service_server::ProfilesService};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    error::Error,
    gdpr::{self, Peers},
    model::ConsentChanged,
    repo::Repo,
    requests::{self, customer_id},
    validate::truncate_micros,
};

/// The `rapport.v1.ProfilesService` implementation.
#[derive(Debug, Clone)]
pub struct ProfilesGrpc {
    repo: Repo,
    /// The services customer export and erasure reach; `None` where the
    /// process was not told where they are.
    peers: Option<Peers>,
}

impl ProfilesGrpc {
    /// Serves customers stored in `db` (opened on [`crate::SCHEMA`]),
    /// listing them from `reader` (a streaming replica, or `db`).
    pub fn new(db: Db, reader: Db) -> Self {
        ProfilesGrpc {
            repo: Repo::new(db, reader),
            peers: None,
        }
    }

    /// Exports and erases customers through `peers`.
    pub fn with_peers(self, peers: Option<Peers>) -> Self {
        ProfilesGrpc { peers, ..self }
    }

    fn peers(&self) -> Result<&Peers, Error> {
        (self.peers.as_ref()).ok_or(Error::NoPeers(
            "set RAPPORT_PEERS__INGESTION_URL, RAPPORT_PEERS__SCORING_URL and RAPPORT_PEERS__NOTIFICATIONS_URL",
        ))
    }
}

fn tenant<T>(request: &Request<T>) -> Result<Uuid, Status> {
    Ok(TenantContext::of(request)?.tenant_id())
}

fn customer(c: crate::model::Customer) -> Option<pb::Customer> {
    Some(c.into_proto())
}

#[tonic::async_trait]
impl ProfilesService for ProfilesGrpc {
    #[tracing::instrument(skip_all, fields(created))]
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::CreateCustomerResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let now = truncate_micros(Utc::now());
        let (request_id, new) = requests::create(request.get_ref(), now)?;
        let (c, created) = (self.repo)
            .create(ctx.tenant_id(), &request_id, new, now)
            .await?;
        if created {
            // A new customer's consents are consent changes too.
            let changes = (c.consents.iter())
                .map(|s| ConsentChanged::new(c.id, None, s))
                .map(|c| (c.target(), c.summary()));
            audit::record_all(&ctx, changes).await;
        }
        tracing::Span::current().record("created", created);
        Ok(Response::new(pb::CreateCustomerResponse {
            customer: customer(c),
            created,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::GetCustomerResponse>, Status> {
        let tenant = tenant(&request)?;
        let id = customer_id(&request.get_ref().customer_id, "customer_id")?;
        let c = self.repo.get(tenant, id).await?;
        Ok(Response::new(pb::GetCustomerResponse {
            customer: customer(c),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_customer(
        &self,
        request: Request<pb::UpdateCustomerRequest>,
    ) -> Result<Response<pb::UpdateCustomerResponse>, Status> {
        let tenant = tenant(&request)?;
        let patch = requests::update(request.get_ref())?;
        let now = truncate_micros(Utc::now());
        let c = self.repo.update(tenant, patch, now).await?;
        Ok(Response::new(pb::UpdateCustomerResponse {
            customer: customer(c),
        }))
    }

    #[tracing::instrument(skip_all, fields(deleted))]
    async fn delete_customer(
        &self,
        request: Request<pb::DeleteCustomerRequest>,
    ) -> Result<Response<pb::DeleteCustomerResponse>, Status> {
        let tenant = tenant(&request)?;
        let id = customer_id(&request.get_ref().customer_id, "customer_id")?;
        let deleted = self.repo.delete(tenant, id).await?;
        tracing::Span::current().record("deleted", deleted);
        Ok(Response::new(pb::DeleteCustomerResponse { deleted }))
    }

    #[tracing::instrument(skip_all, fields(served))]
    async fn list_customers(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        let tenant = tenant(&request)?;
        let query = requests::list(request.get_ref())?;
        let (page, next) = self.repo.list(tenant, query).await?;
        tracing::Span::current().record("served", page.len());
        Ok(Response::new(pb::ListCustomersResponse {
            customers: page
                .into_iter()
                .map(crate::model::Customer::into_proto)
                .collect(),
            next_page_token: next
                .map(|id| rapport_kit::paging::encode_token(&id.to_string()))
                .unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn lookup_customer(
        &self,
        request: Request<pb::LookupCustomerRequest>,
    ) -> Result<Response<pb::LookupCustomerResponse>, Status> {
        let tenant = tenant(&request)?;
        let key = requests::identity(request.get_ref().identity.as_ref())?;
        let c = self.repo.lookup(tenant, &key).await?;
        Ok(Response::new(pb::LookupCustomerResponse {
            customer: customer(c),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn add_identity(
        &self,
        request: Request<pb::AddIdentityRequest>,
    ) -> Result<Response<pb::AddIdentityResponse>, Status> {
        let tenant = tenant(&request)?;
        let (id, key) = requests::add_identity(request.get_ref())?;
        let c = self.repo.add_identity(tenant, id, &key).await?;
        Ok(Response::new(pb::AddIdentityResponse {
            customer: customer(c),
        }))
    }

    #[tracing::instrument(skip_all, fields(channel = request.get_ref().channel, granted = request.get_ref().granted))]
    async fn set_consent(
        &self,
        request: Request<pb::SetConsentRequest>,
    ) -> Result<Response<pb::SetConsentResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let (id, change) = requests::set_consent(request.get_ref(), truncate_micros(Utc::now()))?;
        let (consent, changed) = self.repo.set_consent(ctx.tenant_id(), id, change).await?;
        if let Some(c) = changed {
            audit::record(&ctx, c.target(), c.summary()).await;
        }
        Ok(Response::new(pb::SetConsentResponse {
            consent: Some(consent.into_proto()),
        }))
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().customers.len()))]
    async fn upsert_customers(
        &self,
        request: Request<pb::UpsertCustomersRequest>,
    ) -> Result<Response<pb::UpsertCustomersResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let now = truncate_micros(Utc::now());
        // Consumed record by record: the decoded request is not held beside
        // what is parsed from it, nor while the batch is written.
        let import = requests::upsert(request.into_inner(), now)?;
        let out = self.repo.upsert(ctx.tenant_id(), import, now).await?;
        let changes = out.consents.iter().map(|c| (c.target(), c.summary()));
        audit::record_all(&ctx, changes).await;
        tracing::info!(
            created = out.created,
            updated = out.updated,
            unchanged = out.unchanged,
            rejected = out.rejected.len(),
            "customers upserted"
        );
        Ok(Response::new(pb::UpsertCustomersResponse {
            created: out.created,
            updated: out.updated,
            unchanged: out.unchanged,
            rejected: out.rejected.into_iter().map(|r| r.into_proto()).collect(),
            customer_ids: out
                .ids
                .into_iter()
                .map(|id| id.map(|id| id.to_string()).unwrap_or_default())
                .collect(),
        }))
    }

    #[tracing::instrument(
        skip_all,
        fields(identities = request.get_ref().identities.len(), create_missing = request.get_ref().create_missing, created)
    )]
    async fn resolve_identities(
        &self,
        request: Request<pb::ResolveIdentitiesRequest>,
    ) -> Result<Response<pb::ResolveIdentitiesResponse>, Status> {
        let tenant = tenant(&request)?;
        let query = requests::resolve(request.get_ref())?;
        let now = truncate_micros(Utc::now());
        let (resolved, known) = self.repo.resolve(tenant, &query, now).await?;
        tracing::Span::current().record("created", resolved.iter().filter(|(_, c)| *c).count());
        Ok(Response::new(pb::ResolveIdentitiesResponse {
            results: resolved
                .into_iter()
                .map(|(id, created)| pb::ResolvedIdentity {
                    customer_id: id.map(|id| id.to_string()).unwrap_or_default(),
                    created,
                })
                .collect(),
            known_customer_ids: known.into_iter().map(|id| id.to_string()).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(truncated))]
    async fn export_customer(
        &self,
        request: Request<pb::ExportCustomerRequest>,
    ) -> Result<Response<pb::ExportCustomerResponse>, Status> {
        let tenant = tenant(&request)?;
        let id = customer_id(&request.get_ref().customer_id, "customer_id")?;
        let now = truncate_micros(Utc::now());
        let (json, truncated) = gdpr::export(&self.repo, self.peers()?, tenant, id, now).await?;
        tracing::Span::current().record("truncated", truncated);
        Ok(Response::new(pb::ExportCustomerResponse {
            json,
            truncated,
        }))
    }

    #[tracing::instrument(skip_all, fields(erased))]
    async fn erase_customer(
        &self,
        request: Request<pb::EraseCustomerRequest>,
    ) -> Result<Response<pb::EraseCustomerResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let id = customer_id(&request.get_ref().customer_id, "customer_id")?;
        let done = gdpr::erase(&self.repo, self.peers()?, &ctx, id).await?;
        tracing::Span::current().record("erased", done.erasure.is_some());
        let counts = done.counts();
        let e = done.erasure;
        Ok(Response::new(pb::EraseCustomerResponse {
            erasure_id: e.as_ref().map(|e| e.id.to_string()).unwrap_or_default(),
            erased: e.is_some(),
            counts,
            requested_at: e.as_ref().map(|e| chrono_to_timestamp(e.requested_at)),
            completed_at: e.and_then(|e| e.completed_at).map(chrono_to_timestamp),
        }))
    }
}
