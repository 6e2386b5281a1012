//! TLS settings: the certificate the gRPC server presents, the client
//! certificates it requires, and what this process trusts and presents when
//! it calls peers (`https://`) and Redis (`rediss://`). All PEM files.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// TLS for the gRPC server and for calls to peers and Redis. Postgres takes
/// its own settings in `database_url` (`sslmode`, `sslrootcert`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tls {
    /// Certificate chain the gRPC server presents (PEM). With `key_file` the
    /// server speaks TLS only; both are re-read when they change.
    pub cert_file: Option<PathBuf>,
    /// Private key of `cert_file` (PEM).
    pub key_file: Option<PathBuf>,
    /// CA that client certificates must chain to. When set, the server
    /// refuses every client without such a certificate (mutual TLS).
    pub client_ca_file: Option<PathBuf>,
    /// CA this process trusts for `https://` peers and `rediss://` Redis.
    pub ca_file: Option<PathBuf>,
    /// Certificate this process presents to peers and Redis that require
    /// client certificates (PEM).
    pub client_cert_file: Option<PathBuf>,
    /// Private key of `client_cert_file` (PEM).
    pub client_key_file: Option<PathBuf>,
    /// Where `grpc.health.v1` alone is also served in plaintext while the
    /// server speaks TLS, for probes that cannot (the kubelet's gRPC probe).
    pub health_listen: Option<SocketAddr>,
}

/// A certificate and its key, as PEM bytes.
#[derive(Clone)]
pub struct PemPair {
    /// The certificate chain.
    pub cert: Vec<u8>,
    /// The private key.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for PemPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PemPair(***)")
    }
}

impl Tls {
    /// Whether the gRPC server speaks TLS.
    pub fn serves(&self) -> bool {
        self.cert_file.is_some()
    }

    /// The configured CA for peers and Redis, read.
    pub fn ca_pem(&self) -> Result<Option<Vec<u8>>, ConfigError> {
        self.ca_file
            .as_deref()
            .map(|p| read_file("tls.ca_file", p))
            .transpose()
    }

    /// The configured client certificate and key, read.
    pub fn client_pem(&self) -> Result<Option<PemPair>, ConfigError> {
        match (&self.client_cert_file, &self.client_key_file) {
            (Some(cert), Some(key)) => Ok(Some(PemPair {
                cert: read_file("tls.client_cert_file", cert)?,
                key: read_file("tls.client_key_file", key)?,
            })),
            _ => Ok(None),
        }
    }

    /// Checks that files come in the pairs they are used in.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.cert_file.is_some() != self.key_file.is_some() {
            return bad("tls.cert_file and tls.key_file must be set together");
        }
        if self.client_ca_file.is_some() && !self.serves() {
            return bad("tls.client_ca_file needs tls.cert_file and tls.key_file");
        }
        if self.health_listen.is_some() && !self.serves() {
            return bad("tls.health_listen needs tls.cert_file and tls.key_file");
        }
        if self.client_cert_file.is_some() != self.client_key_file.is_some() {
            return bad("tls.client_cert_file and tls.client_key_file must be set together");
        }
        Ok(())
    }
}

/// The file at `path`, or an error naming `setting` and the file.
pub(crate) fn read_file(setting: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        message: format!("{setting}: {e}"),
    })
}
