//! The `consents` table: consent per customer and channel, and the
//! `SetConsent` operation.

use uuid::Uuid;

use rapport_kit::db::{Id, Time};

use super::Conn;
use crate::{
    error::Error,
    model::{ConsentChange, ConsentChanged, ConsentState, apply_consent},
};

impl Conn<'_> {
    /// Writes consent states (at most one per customer and channel).
    pub async fn write_consents(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, ConsentState)],
    ) -> Result<(), sqlx::Error> {
        match &mut self.0 {
            _ if items.is_empty() => {}
            // One statement over column arrays: a batch is one round trip.
            rapport_kit::db::Conn::Postgres(c) => {
                sqlx::query(include_str!("../../sql/postgres/write_consents.sql"))
                    .bind(tenant)
                    .bind(items.iter().map(|(id, _)| *id).collect::<Vec<_>>())
                    .bind(items.iter().map(|(_, c)| c.channel).collect::<Vec<_>>())
                    .bind(items.iter().map(|(_, c)| c.granted).collect::<Vec<_>>())
                    .bind(items.iter().map(|(_, c)| c.granted_at).collect::<Vec<_>>())
                    .bind(items.iter().map(|(_, c)| c.revoked_at).collect::<Vec<_>>())
                    .execute(&mut **c)
                    .await?;
            }
            // No round trips to save on the embedded file: a statement a row.
            rapport_kit::db::Conn::Sqlite(c) => {
                for (id, consent) in items {
                    sqlx::query(include_str!("../../sql/sqlite/write_consents.sql"))
                        .bind(Id(tenant))
                        .bind(Id(*id))
                        .bind(consent.channel)
                        .bind(consent.granted)
                        .bind(consent.granted_at.map(Time))
                        .bind(consent.revoked_at.map(Time))
                        .execute(&mut **c)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Grants or revokes consent on a channel; returns the consent as
    /// stored and, if it changed, how.
    pub async fn set_consent(
        &mut self,
        tenant: Uuid,
        id: Uuid,
        change: ConsentChange,
    ) -> Result<(ConsentState, Option<ConsentChanged>), Error> {
        self.lock_rows(tenant, &[id]).await?;
        let current = self.get(tenant, id).await?;
        let existing = current.consent(change.channel).copied();
        match apply_consent(existing.as_ref(), change) {
            Some(next) => {
                self.write_consents(tenant, &[(id, next)]).await?;
                let changed = ConsentChanged::new(id, existing.as_ref(), &next);
                Ok((next, Some(changed)))
            }
            // Already as asked; only a stored consent can be unchanged.
            None => existing
                .map(|c| (c, None))
                .ok_or(Error::Conflict("consent")),
        }
    }
}
