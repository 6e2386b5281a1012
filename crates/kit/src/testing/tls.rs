//! Throwaway TLS material for the SMTP and HTTPS tests: a certificate made
//! with the `openssl` command, and a rustls acceptor serving it.

use std::{path::PathBuf, process::Stdio, sync::Arc};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::TlsAcceptor;

/// A self-signed certificate for `localhost` and 127.0.0.1, made with the
/// `openssl` command: (certificate, key) PEM files.
pub fn self_signed() -> (PathBuf, PathBuf) {
    let dir = super::fresh_dir();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        // An end-entity certificate, trusted directly as the private "CA".
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the TLS tests need the openssl command");
    assert!(status.success(), "openssl could not make a certificate");
    (cert, key)
}

/// A TLS acceptor serving the certificate and key (PEM files) of
/// [`self_signed`], on the ring provider as the client uses.
pub fn acceptor(cert: &PathBuf, key: &PathBuf) -> TlsAcceptor {
    let certs = CertificateDer::pem_file_iter(cert)
        .expect("read certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate pem");
    let key = PrivateKeyDer::from_pem_file(key).expect("key pem");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
    TlsAcceptor::from(Arc::new(config))
}
