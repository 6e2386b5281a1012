//! The keys webhook signing secrets are sealed with: `notify.secret_key`, or,
//! when it is unset, a development key generated once and kept in the
//! database (so every replica and restart agrees on it, and so it protects
//! nothing). A value sealed under the development key still opens once a key
//! is configured, and is sealed again under that key when next read.

use std::sync::Once;

use chrono::Utc;
use rapport_kit::{config::Secret, db::Time, on_pool};
use tokio::sync::OnceCell;

use super::Repository;
use crate::{
    config::NotifyConfig,
    error::Error,
    seal::{Key, SealError},
};

/// The configured key and, once read, the development key.
#[derive(Debug)]
pub struct Keys {
    configured: Configured,
    development: OnceCell<Key>,
}

#[derive(Debug)]
enum Configured {
    Key(Key),
    Unset,
    /// Refused by the settings' validation already; kept so that sealing
    /// fails rather than falls back to the development key.
    Unusable,
}

impl Keys {
    /// The keys `config` names, warning (once per process) when none is set.
    pub fn from_config(config: &NotifyConfig) -> Keys {
        let configured = match config.secret_key.as_ref().map(Key::parse) {
            Some(Ok(key)) => Configured::Key(key),
            Some(Err(e)) => {
                tracing::error!(error = %e, "webhook signing secrets cannot be sealed");
                Configured::Unusable
            }
            None => {
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    tracing::warn!(
                        "notify.secret_key is not set: webhook signing secrets are sealed with a \
                         development key kept in the database beside them, which protects \
                         nothing; set RAPPORT_NOTIFY__SECRET_KEY from the deployment's Secret"
                    )
                });
                Configured::Unset
            }
        };
        Keys {
            configured,
            development: OnceCell::new(),
        }
    }

    /// Whether a key was configured but cannot be used.
    pub fn unusable(&self) -> bool {
        matches!(self.configured, Configured::Unusable)
    }
}

impl Repository {
    /// The key new values are sealed under.
    pub(super) async fn sealing_key(&self) -> Result<&Key, Error> {
        match &self.keys.configured {
            Configured::Key(key) => Ok(key),
            Configured::Unusable => Err(SealError::BadKey.into()),
            Configured::Unset => self
                .development_key(true)
                .await?
                .ok_or_else(|| Error::Corrupt("the development key was not kept".to_owned())),
        }
    }

    /// Every key that may open a stored value: the configured one and the
    /// development key, when there is one.
    pub(super) async fn opening_keys(&self) -> Result<Vec<&Key>, Error> {
        let mut keys = Vec::with_capacity(2);
        if let Configured::Key(key) = &self.keys.configured {
            keys.push(key);
        }
        if let Some(key) = self.development_key(false).await? {
            keys.push(key);
        }
        Ok(keys)
    }

    /// The development key, generated first when `create` and none exists.
    async fn development_key(&self, create: bool) -> Result<Option<&Key>, Error> {
        if let Some(key) = self.keys.development.get() {
            return Ok(Some(key));
        }
        let stored: Option<String> = on_pool!(&self.db, pool => {
            if create {
                // Racing replicas each offer a key; the first one kept wins.
                sqlx::query(
                    "INSERT INTO development_key (id, key, created_at) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(Key::generate().1.expose())
                .bind(Time(Utc::now()))
                .execute(pool)
                .await?;
            }
            sqlx::query_scalar("SELECT key FROM development_key WHERE id = 1")
                .fetch_optional(pool)
                .await?
        });
        let Some(text) = stored else {
            return Ok(None);
        };
        let key = Key::parse(&Secret::new(text))?;
        Ok(Some(
            self.keys.development.get_or_init(|| async { key }).await,
        ))
    }
}
