//! The tenant-wide settings RPCs: the contact policy and the webhook signing
//! secret.

use chrono::Utc;
use rand::Rng;
use rapport_kit::domain::{chrono_to_timestamp, later};
use rapport_proto::v1 as pb;

use super::{Call, audit};
use crate::{error::Error, model::to_micros_precision, validate};

/// The tenant's contact policy (defaults until one is saved).
pub(super) async fn get(
    c: Call<'_>,
    _: pb::GetContactPolicyRequest,
) -> Result<pb::GetContactPolicyResponse, Error> {
    Ok(pb::GetContactPolicyResponse {
        policy: Some(c.repo.policy(c.tenant).await?.into_proto()),
    })
}

/// Replaces the tenant's contact policy.
pub(super) async fn update(
    c: Call<'_>,
    req: pb::UpdateContactPolicyRequest,
) -> Result<pb::UpdateContactPolicyResponse, Error> {
    let policy = validate::contact_policy(req.policy)?;
    // Read for the audit trail only: a put equal to what is stored records
    // nothing.
    let before = c.repo.policy(c.tenant).await?.into_proto();
    c.repo.put_policy(c.tenant, &policy).await?;
    let after = policy.into_proto();
    if before != after {
        let summary = audit::policy(&before, &after);
        rapport_kit::audit::record(c.ctx, audit::POLICY, summary).await;
    }
    Ok(pb::UpdateContactPolicyResponse {
        policy: Some(after),
    })
}

/// A new 32-byte random secret, stored (sealed) and returned once; the one
/// it replaces keeps signing, beside it, for the configured overlap.
pub(super) async fn rotate(
    c: Call<'_>,
    _: pb::RotateWebhookSecretRequest,
) -> Result<pb::RotateWebhookSecretResponse, Error> {
    let bytes: [u8; 32] = rand::rng().random();
    let secret = format!("whsec_{}", hex::encode(bytes));
    let at = to_micros_precision(Utc::now());
    let until = later(at, std::time::Duration::from_millis(c.secret_overlap_ms));
    c.repo
        .set_webhook_secret(c.tenant, &secret, at, until)
        .await?;
    rapport_kit::audit::record(c.ctx, audit::WEBHOOK_SECRET, audit::rotated()).await;
    Ok(pb::RotateWebhookSecretResponse {
        secret,
        created_at: Some(chrono_to_timestamp(at)),
    })
}
