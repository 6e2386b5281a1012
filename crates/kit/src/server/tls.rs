//! TLS on the gRPC server: rustls on the ring provider, a certificate that is
//! re-read whenever its files change (a renewed certificate needs no
//! restart), and client certificates required when a client CA is set.

use std::{
    io,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use futures::{StreamExt, stream::BoxStream};
use rustls::{
    RootCertStore, ServerConfig,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier},
    sign::CertifiedKey,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};
use tonic::transport::server::{Connected, TcpConnectInfo};
use tonic_health::{
    pb::health_server::HealthServer,
    server::{HealthReporter, HealthService},
};

use crate::{
    config::{ConfigError, Tls},
    shutdown::Shutdown,
};

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The acceptor for `tls`, or `None` when the server speaks plaintext.
pub fn acceptor(tls: &Tls) -> Result<Option<TlsAcceptor>, ConfigError> {
    let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let resolver = Reloading::new(cert, key, provider.clone())?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("tls", e))?;
    let builder = match &tls.client_ca_file {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certificates("tls.client_ca_file", ca)? {
                roots.add(c).map_err(|e| invalid("tls.client_ca_file", e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| invalid("tls.client_ca_file", e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// The connections `listener` accepts (with `TCP_NODELAY`), through a TLS
/// handshake when `tls` is set. Handshakes run side by side, so a slow or
/// silent client holds up no one; failed ones are dropped.
pub fn incoming(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
) -> BoxStream<'static, io::Result<Conn>> {
    let tcp = super::accepting(listener);
    let Some(acceptor) = tls else {
        return tcp.map(|c| c.map(Conn::Plain)).boxed();
    };
    let (tx, mut rx) = mpsc::channel::<io::Result<Conn>>(64);
    tokio::spawn(async move {
        let mut tcp = tcp;
        loop {
            // The server dropping its end stops accepting (and closes the
            // listener).
            let next = tokio::select! {
                next = tcp.next() => next,
                _ = tx.closed() => return,
            };
            let stream = match next {
                Some(Ok(stream)) => stream,
                Some(Err(e)) => {
                    let _ = tx.send(Err(e)).await;
                    continue;
                }
                None => return,
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(Conn::Tls(Box::new(tls)))).await;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "tls handshake failed"),
                    Err(_) => tracing::debug!("tls handshake timed out"),
                }
            });
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

/// Serves `grpc.health.v1` alone, in plaintext, on `listener` until
/// `shutdown`: the statuses `reporter` sets, for probes that cannot speak
/// TLS. It answers nothing else, so it opens no way around TLS.
pub async fn plain_health(
    listener: TcpListener,
    reporter: HealthReporter,
    shutdown: Shutdown,
) -> Result<(), tonic::transport::Error> {
    let health = HealthServer::new(HealthService::from_health_reporter(reporter));
    tonic::transport::Server::builder()
        .add_service(health)
        .serve_with_incoming_shutdown(
            super::accepting(listener),
            async move { shutdown.wait().await },
        )
        .await
}

/// An accepted connection, in the clear or through TLS.
#[derive(Debug)]
pub enum Conn {
    /// Plaintext.
    Plain(TcpStream),
    /// After a TLS handshake.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        match self {
            Conn::Plain(s) => s.connect_info(),
            Conn::Tls(s) => s.get_ref().0.connect_info(),
        }
    }
}

/// Runs `$call` on whichever stream `$self` (a `Pin<&mut Conn>`) holds.
macro_rules! on_stream {
    ($self:ident, $s:ident => $call:expr) => {
        match $self.get_mut() {
            Conn::Plain($s) => {
                let $s = Pin::new($s);
                $call
            }
            Conn::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $call
            }
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        on_stream!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on_stream!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        on_stream!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_stream!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_stream!(self, s => s.poll_shutdown(cx))
    }
}

/// When a file was last changed, as far as a reload needs to know.
type Stamp = [Option<(SystemTime, u64)>; 2];

/// The server certificate, re-read on a handshake after either file changed.
/// Checking costs two `stat` calls per new connection, next to nothing
/// beside the handshake itself.
#[derive(Debug)]
struct Reloading {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    loaded: Mutex<(Stamp, Arc<CertifiedKey>)>,
}

impl Reloading {
    fn new(cert: &Path, key: &Path, provider: Arc<CryptoProvider>) -> Result<Self, ConfigError> {
        let stamp = stamp(cert, key);
        let certified = load(cert, key, &provider)?;
        Ok(Reloading {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            provider,
            loaded: Mutex::new((stamp, Arc::new(certified))),
        })
    }

    fn current(&self) -> Arc<CertifiedKey> {
        let now = stamp(&self.cert, &self.key);
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if loaded.0 != now {
            // Noted before loading, so files caught half-written are
            // reported once and read again at their next change.
            loaded.0 = now;
            match load(&self.cert, &self.key, &self.provider) {
                Ok(certified) => {
                    loaded.1 = Arc::new(certified);
                    tracing::info!(cert = %self.cert.display(), "tls certificate reloaded");
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "tls certificate files changed but do not load; serving the previous certificate"
                ),
            }
        }
        loaded.1.clone()
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn stamp(cert: &Path, key: &Path) -> Stamp {
    [cert, key].map(|p| {
        let meta = std::fs::metadata(p).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    })
}

/// The certificate chain and key at `cert` and `key`, checked to match.
fn load(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, ConfigError> {
    let chain = certificates("tls.cert_file", cert)?;
    let pem = crate::config::read_file("tls.key_file", key)?;
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| invalid("tls.key_file", e))?;
    CertifiedKey::from_der(chain, der, provider).map_err(|e| invalid("tls.key_file", e))
}

/// Every certificate in the PEM file at `path`; at least one.
fn certificates(setting: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = crate::config::read_file(setting, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(setting, e))?;
    if certs.is_empty() {
        return Err(invalid(setting, "no certificate in the file"));
    }
    Ok(certs)
}

fn invalid(setting: &str, e: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid(format!("{setting}: {e}"))
}
