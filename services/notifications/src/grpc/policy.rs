//! The tenant-wide settings RPCs: the contact policy and the webhook signing
//! secret.

use chrono::Utc;
use rand::Rng;
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{error::Error, model::to_micros_precision, repo::Repository, validate};

/// The tenant's contact policy (defaults until one is saved).
pub async fn get(repo: &Repository, tenant: Uuid) -> Result<pb::GetContactPolicyResponse, Error> {
    Ok(pb::GetContactPolicyResponse {
        policy: Some(repo.policy(tenant).await?.into_proto()),
    })
}

/// Replaces the tenant's contact policy.
pub async fn update(
    repo: &Repository,
    tenant: Uuid,
    req: pb::UpdateContactPolicyRequest,
) -> Result<pb::UpdateContactPolicyResponse, Error> {
    let policy = validate::contact_policy(req.policy)?;
    repo.put_policy(tenant, &policy).await?;
    Ok(pb::UpdateContactPolicyResponse {
        policy: Some(policy.into_proto()),
    })
}

/// A new 32-byte random secret, stored and returned once.
pub async fn rotate_secret(
    repo: &Repository,
    tenant: Uuid,
) -> Result<pb::RotateWebhookSecretResponse, Error> {
    let bytes: [u8; 32] = rand::rng().random();
    let secret = format!("whsec_{}", hex::encode(bytes));
    let at = to_micros_precision(Utc::now());
    repo.set_webhook_secret(tenant, &secret, at).await?;
    Ok(pb::RotateWebhookSecretResponse {
        secret,
        created_at: Some(chrono_to_timestamp(at)),
    })
}
