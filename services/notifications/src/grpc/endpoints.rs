//! The integration endpoint RPCs: put (create or change by name), get, list
//! and delete.

use chrono::Utc;
use rapport_proto::v1 as pb;

use super::{Call, audit};
use crate::{
    error::Error,
    model::to_micros_precision,
    repo::PutOutcome,
    validate::{self, endpoint_name},
};

/// Creates or changes an endpoint; the same values again change nothing.
pub(super) async fn put(
    c: Call<'_>,
    req: pb::PutIntegrationEndpointRequest,
) -> Result<pb::PutIntegrationEndpointResponse, Error> {
    let put = validate::endpoint_put(req, c.configured.private_destinations)?;
    let now = to_micros_precision(Utc::now());
    // Read for the audit trail only.
    let before = c.repo.endpoint(c.tenant, &put.name).await?;
    let (endpoint, outcome) = c.repo.put_endpoint(c.tenant, &put, now).await?;
    if outcome != PutOutcome::Unchanged {
        tracing::info!(endpoint = %endpoint.name, ?outcome, "integration endpoint saved");
        let before = before.filter(|_| outcome != PutOutcome::Created);
        let summary = audit::endpoint_saved(before.as_ref(), &endpoint);
        let target = audit::endpoint_target(&endpoint.name);
        rapport_kit::audit::record(c.ctx, target, summary).await;
    }
    Ok(pb::PutIntegrationEndpointResponse {
        endpoint: Some(endpoint.into_proto()),
        created: outcome == PutOutcome::Created,
        changed: outcome == PutOutcome::Changed,
    })
}

/// One endpoint, without its secret.
pub(super) async fn get(
    c: Call<'_>,
    req: pb::GetIntegrationEndpointRequest,
) -> Result<pb::GetIntegrationEndpointResponse, Error> {
    let name = endpoint_name(&req.name)?;
    let endpoint = c
        .repo
        .endpoint(c.tenant, &name)
        .await?
        .ok_or(Error::NotFound {
            what: "integration endpoint",
            id: name,
        })?;
    Ok(pb::GetIntegrationEndpointResponse {
        endpoint: Some(endpoint.into_proto()),
    })
}

/// Every endpoint of the tenant, by name.
pub(super) async fn list(
    c: Call<'_>,
    _: pb::ListIntegrationEndpointsRequest,
) -> Result<pb::ListIntegrationEndpointsResponse, Error> {
    let endpoints = c.repo.endpoints(c.tenant).await?;
    Ok(pb::ListIntegrationEndpointsResponse {
        endpoints: endpoints.into_iter().map(|e| e.into_proto()).collect(),
    })
}

/// Removes an endpoint; a missing one is not an error.
pub(super) async fn delete(
    c: Call<'_>,
    req: pb::DeleteIntegrationEndpointRequest,
) -> Result<pb::DeleteIntegrationEndpointResponse, Error> {
    let name = endpoint_name(&req.name)?;
    let deleted = c.repo.delete_endpoint(c.tenant, &name).await?;
    if deleted {
        tracing::info!(endpoint = %name, "integration endpoint deleted");
        let target = audit::endpoint_target(&name);
        rapport_kit::audit::record(c.ctx, target, audit::endpoint_deleted()).await;
    }
    Ok(pb::DeleteIntegrationEndpointResponse { deleted })
}
