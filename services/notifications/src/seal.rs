//! Webhook signing secrets sealed at rest with XChaCha20-Poly1305 under a
//! 32-byte key (`notify.secret_key`). A sealed value reads
//! `sealed1:<key id>:<base64 of nonce and ciphertext>`: the key id (a hash
//! of the key, not the key) tells which key opens it, so values sealed under
//! an earlier key are recognised and sealed again under the current one. The
//! tenant's id is bound in as associated data, so a value copied to another
//! tenant's row does not open. Nonces are random: 24 bytes never repeat in
//! practice, whatever the number of values.

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use rand::Rng;
use rapport_kit::config::Secret;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What starts every sealed value.
const PREFIX: &str = "sealed1:";
/// Bytes of a key.
const KEY_BYTES: usize = 32;
/// Bytes of a nonce.
const NONCE_BYTES: usize = 24;

/// Why a key or a sealed value is unusable. Never carries the key or the
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The configured key is not 32 bytes in base64.
    #[error("notify.secret_key must be 32 bytes in base64 (e.g. from `openssl rand -base64 32`)")]
    BadKey,
    /// The value was sealed under a key this process does not have.
    #[error("a webhook signing secret is sealed under key {0}, which is not configured")]
    UnknownKey(String),
    /// The value does not open: damaged, or moved from another row.
    #[error("a webhook signing secret does not open under key {0}")]
    Damaged(String),
}

/// A key that seals and opens secrets.
#[derive(Clone)]
pub struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// The key in `secret` (base64 of 32 bytes, surrounding blanks ignored).
    pub fn parse(secret: &Secret) -> Result<Key, SealError> {
        let bytes = STANDARD
            .decode(secret.expose().trim())
            .map_err(|_| SealError::BadKey)?;
        Key::from_bytes(&bytes)
    }

    /// A new random key and its base64 form.
    pub fn generate() -> (Key, Secret) {
        let bytes: [u8; KEY_BYTES] = rand::rng().random();
        let key = Key::from_bytes(&bytes).expect("a key of the right length");
        (key, Secret::new(STANDARD.encode(bytes)))
    }

    fn from_bytes(bytes: &[u8]) -> Result<Key, SealError> {
        if bytes.len() != KEY_BYTES {
            return Err(SealError::BadKey);
        }
        let digest = Sha256::new()
            .chain_update(b"rapport notify secret key\0")
            .chain_update(bytes)
            .finalize();
        let cipher = XChaCha20Poly1305::new_from_slice(bytes).map_err(|_| SealError::BadKey)?;
        Ok(Key {
            id: hex::encode(&digest[..4]),
            cipher,
        })
    }

    /// Which key this is, as sealed values name it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `secret` of `tenant` sealed under this key.
    pub fn seal(&self, tenant: Uuid, secret: &str) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::rng().random();
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: tenant.as_bytes(),
        };
        // Encryption fails only for messages past what the cipher can count.
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("a secret is far below the cipher's limit");
        let mut data = nonce.to_vec();
        data.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.id, STANDARD.encode(data))
    }

    /// The secret in `data` (the part after the key id) sealed for `tenant`.
    fn open(&self, tenant: Uuid, data: &str) -> Result<String, SealError> {
        let damaged = || SealError::Damaged(self.id.clone());
        let bytes = STANDARD.decode(data).map_err(|_| damaged())?;
        if bytes.len() < NONCE_BYTES {
            return Err(damaged());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: sealed,
            aad: tenant.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| damaged())?;
        String::from_utf8(plain).map_err(|_| damaged())
    }
}

/// A stored value: sealed, or plaintext from before secrets were sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// Written before sealing existed; sealed on its next read.
    Plain(&'a str),
    /// Sealed under the key with this id.
    Sealed {
        /// Which key.
        key_id: &'a str,
        /// Nonce and ciphertext, in base64.
        data: &'a str,
    },
}

impl<'a> Stored<'a> {
    /// What `value`, as stored, is.
    pub fn of(value: &'a str) -> Stored<'a> {
        value
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .map_or(Stored::Plain(value), |(key_id, data)| Stored::Sealed {
                key_id,
                data,
            })
    }

    /// The key id it is sealed under, if sealed.
    pub fn key_id(&self) -> Option<&'a str> {
        match self {
            Stored::Plain(_) => None,
            Stored::Sealed { key_id, .. } => Some(key_id),
        }
    }

    /// The secret, opened with whichever of `keys` sealed it.
    pub fn open(&self, tenant: Uuid, keys: &[&Key]) -> Result<String, SealError> {
        match *self {
            Stored::Plain(secret) => Ok(secret.to_owned()),
            Stored::Sealed { key_id, data } => keys
                .iter()
                .find(|k| k.id == key_id)
                .ok_or_else(|| SealError::UnknownKey(key_id.to_owned()))?
                .open(tenant, data),
        }
    }
}

#[cfg(test)]
mod tests;
