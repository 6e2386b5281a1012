//! Turns the customers rows name into Rapport customer ids through Profiles:
//! a `ResolveIdentities` call per batch resolving external identities and
//! confirming ids given directly, and, when some identities are unknown, a
//! second one creating stubs for those the caller still needs.

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

    /// Resolves every distinct customer in `refs` for `tenant`, creating
    /// stubs for unknown identities if `create_missing` (otherwise they stay
    /// unresolved). Fails as a whole (UNAVAILABLE when Profiles cannot be
    /// reached), so a batch is written completely resolved or not at all.
    pub(crate) async fn resolve<'a>(
        &self,
        tenant: Uuid,
        trace: Option<&TraceContext>,
        refs: impl Iterator<Item = &'a CustomerRef>,
        create_missing: bool,
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
            let asked = Asked {
                externals: &externals,
                ids: &ids,
                create_missing,
            };
            self.resolve_all(tenant, trace, asked, &mut resolution)
                .await?;
        }
        Ok(resolution)
    }

    async fn resolve_all(
        &self,
        tenant: Uuid,
        trace: Option<&TraceContext>,
        asked: Asked<'_>,
        resolution: &mut Resolution,
    ) -> Result<(), ApiError> {
        let Asked {
            externals,
            ids,
            create_missing,
        } = asked;
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
            create_missing,
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
            if result.customer_id.is_empty() && !create_missing {
                // Unknown, and not created: the caller decides.
                continue;
            }
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

/// What one `ResolveIdentities` call asks.
struct Asked<'a> {
    /// Distinct external identities.
    externals: &'a [&'a CustomerRef],
    /// Distinct customer ids to confirm.
    ids: &'a [Uuid],
    create_missing: bool,
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
    /// Whether `customer` resolved to a Rapport customer.
    pub(crate) fn knows(&self, customer: &CustomerRef) -> bool {
        self.ids.contains_key(customer)
    }

    /// Takes in what a later call for the same batch resolved.
    pub(crate) fn extend(&mut self, later: Resolution) {
        self.ids.extend(later.ids);
        self.created += later.created;
    }

    /// Sets aside the rows naming a customer id that does not exist (for
    /// this tenant), as errors on `customer_id`; ids are never created, so
    /// no later call can resolve them.
    pub(crate) fn refuse_unknown_ids<T>(
        &self,
        list: &str,
        rows: Vec<Row<CustomerRef, T>>,
    ) -> (Vec<Row<CustomerRef, T>>, Vec<RowError>) {
        let (known, unknown): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| {
            matches!(r.customer, CustomerRef::External { .. }) || self.knows(&r.customer)
        });
        (
            known,
            unknown.iter().map(|r| not_found(list, r.index)).collect(),
        )
    }

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
                None => missing.push(not_found(list, row.index)),
            }
        }
        (ready, missing)
    }
}

fn not_found(list: &str, index: u32) -> RowError {
    row_error(
        index,
        format!("{list}[{index}].customer_id"),
        "no customer with this id".to_owned(),
        CODE_NOT_FOUND,
    )
}
