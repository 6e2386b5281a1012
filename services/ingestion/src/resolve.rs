//! Turns the customers rows name into Rapport customer ids through Profiles:
//! one `ResolveIdentities` call per batch, resolving external identities
//! (creating stubs for unknown ones) and confirming ids given directly.

use std::collections::{HashMap, HashSet};

use rapport_kit::{ApiError, internal::InternalCredentials, telemetry::TraceContext};
use rapport_proto::v1::{
    ExternalIdentity, ResolveIdentitiesRequest, RowError,
    profiles_service_client::ProfilesServiceClient,
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

use crate::validate::{CustomerRef, Row, row_error};

/// `google.rpc.Code::NotFound`, for rows naming a customer that does not exist.
const CODE_NOT_FOUND: i32 = 5;

/// Calls Profiles on behalf of a tenant.
#[derive(Clone)]
pub(crate) struct Resolver {
    profiles: ProfilesServiceClient<Channel>,
    internal: InternalCredentials,
}

/// The customers of one batch.
#[derive(Debug, Default)]
pub(crate) struct Resolution {
    ids: HashMap<CustomerRef, Uuid>,
    /// Stub customers Profiles created for this batch.
    pub created: u32,
}

impl Resolver {
    /// Resolves through `profiles`, authenticating with `internal`.
    pub(crate) fn new(
        profiles: ProfilesServiceClient<Channel>,
        internal: InternalCredentials,
    ) -> Self {
        Resolver { profiles, internal }
    }

    /// Resolves every distinct customer in `refs` for `tenant`. Fails as a
    /// whole (UNAVAILABLE when Profiles cannot be reached), so a batch is
    /// written completely resolved or not at all.
    pub(crate) async fn resolve<'a>(
        &self,
        tenant: Uuid,
        trace: Option<&TraceContext>,
        refs: impl Iterator<Item = &'a CustomerRef>,
    ) -> Result<Resolution, ApiError> {
        let mut externals: Vec<&CustomerRef> = Vec::new();
        let mut ids: HashSet<Uuid> = HashSet::new();
        let mut seen: HashSet<&CustomerRef> = HashSet::new();
        for r in refs {
            match r {
                CustomerRef::Id(id) => {
                    ids.insert(*id);
                }
                CustomerRef::External { .. } => {
                    if seen.insert(r) {
                        externals.push(r);
                    }
                }
            }
        }
        let mut resolution = Resolution::default();
        if !externals.is_empty() || !ids.is_empty() {
            let ids: Vec<Uuid> = ids.into_iter().collect();
            self.resolve_all(tenant, trace, &externals, &ids, &mut resolution)
                .await?;
        }
        Ok(resolution)
    }

    async fn resolve_all(
        &self,
        tenant: Uuid,
        trace: Option<&TraceContext>,
        externals: &[&CustomerRef],
        ids: &[Uuid],
        resolution: &mut Resolution,
    ) -> Result<(), ApiError> {
        let identities = externals
            .iter()
            .filter_map(|r| match r {
                CustomerRef::External {
                    source,
                    external_id,
                } => Some(ExternalIdentity {
                    source: source.clone(),
                    external_id: external_id.clone(),
                }),
                CustomerRef::Id(_) => None,
            })
            .collect();
        let request = ResolveIdentitiesRequest {
            identities,
            create_missing: true,
            customer_ids: ids.iter().map(Uuid::to_string).collect(),
        };
        let response = self
            .profiles
            .clone()
            .resolve_identities(self.internal.request(tenant, trace, request))
            .await
            .map_err(|s| profiles_error("ResolveIdentities", s))?
            .into_inner();
        if response.results.len() != externals.len() {
            return Err(anyhow::anyhow!(
                "profiles resolved {} of {} identities",
                response.results.len(),
                externals.len()
            )
            .into());
        }
        for (r, result) in externals.iter().zip(response.results) {
            let id = Uuid::parse_str(&result.customer_id).map_err(|_| {
                anyhow::anyhow!("profiles answered an identity without a customer id")
            })?;
            resolution.created += u32::from(result.created);
            resolution.ids.insert((*r).clone(), id);
        }
        for known in &response.known_customer_ids {
            let id = Uuid::parse_str(known)
                .map_err(|_| anyhow::anyhow!("profiles answered a malformed customer id"))?;
            resolution.ids.insert(CustomerRef::Id(id), id);
        }
        Ok(())
    }
}

/// Transient failures are the caller's to retry; anything else means the
/// two services disagree about the contract, which is ours to look into.
fn profiles_error(method: &'static str, status: tonic::Status) -> ApiError {
    match status.code() {
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::Cancelled
        | Code::ResourceExhausted
        | Code::Unknown => {
            tracing::warn!(method, code = ?status.code(), "profiles call failed");
            ApiError::Unavailable("profiles service unavailable; retry later".to_owned())
        }
        code => ApiError::Internal(anyhow::anyhow!(
            "profiles {method} failed: {code:?}: {}",
            status.message()
        )),
    }
}

impl Resolution {
    /// Gives each row its customer id; rows naming a customer id that does
    /// not exist (for this tenant) come back as errors on `customer_id`.
    pub(crate) fn attach<T>(
        &self,
        list: &str,
        rows: Vec<Row<CustomerRef, T>>,
    ) -> (Vec<Row<Uuid, T>>, Vec<RowError>) {
        let mut ready = Vec::with_capacity(rows.len());
        let mut missing = Vec::new();
        for row in rows {
            match self.ids.get(&row.customer) {
                Some(id) => {
                    let id = *id;
                    ready.push(row.with_customer(id));
                }
                None => missing.push(row_error(
                    row.index,
                    format!("{list}[{}].customer_id", row.index),
                    "no customer with this id".to_owned(),
                    CODE_NOT_FOUND,
                )),
            }
        }
        (ready, missing)
    }
}
