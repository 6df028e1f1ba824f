//! HTTPS: the server certificate (loaded from files, or generated at start
//! with a local CA for clients to trust) and a listener that
//! completes TLS handshakes off the accept loop.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::idle::{with_idle_timeout, IdleStream};

/// How long a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTPS settings.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    /// Address of the HTTPS listener, beside the HTTP one.
    pub listen: SocketAddr,
    /// PEM certificate chain; with `key`, used instead of a generated certificate.
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// Extra DNS names or IP addresses for the generated certificate, which
    /// always covers `localhost`, `127.0.0.1` and `::1`.
    pub names: Vec<String>,
    /// File for the generated CA certificate, which clients then trust.
    pub ca_out: Option<PathBuf>,
}

/// A ready TLS configuration and, when it was generated, the CA that signed it.
pub(crate) struct TlsIdentity {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) ca_pem: Option<String>,
}

/// Loads or generates the server certificate, and writes the CA certificate
/// when asked to.
pub(crate) fn identity(settings: &TlsSettings) -> io::Result<TlsIdentity> {
    let (chain, key, ca_pem) = match (&settings.cert, &settings.key) {
        (Some(cert), Some(key)) => {
            let (chain, key) = load(cert, key)?;
            (chain, key, None)
        }
        (None, None) => {
            let (chain, key, ca_pem) = generate(&settings.names).map_err(io::Error::other)?;
            (chain, key, Some(ca_pem))
        }
        _ => return Err(invalid("--tls-cert and --tls-key must be given together")),
    };
    if let (Some(path), Some(pem)) = (&settings.ca_out, &ca_pem) {
        std::fs::write(path, pem).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
        })?;
    }

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(&format!("unusable TLS certificate or key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        config: Arc::new(config),
        ca_pem,
    })
}

fn load(
    cert: &PathBuf,
    key: &PathBuf,
) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let named =
        |path: &PathBuf, e: &dyn std::fmt::Display| invalid(&format!("{}: {e}", path.display()));
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| named(cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named(cert, &e))?;
    if chain.is_empty() {
        return Err(named(cert, &"no certificate found"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| named(key, &e))?;
    Ok((chain, key))
}

/// Generates a CA and a server certificate it signs, for `localhost`, the
/// loopback addresses and `names`.
fn generate(
    names: &[String],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String), rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "qualys-mock local CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut sans = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    sans.extend(names.iter().cloned());
    let mut params = CertificateParams::new(sans)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "qualys-mock");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca)?;

    let key_der = PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|_| rcgen::Error::CouldNotParseKeyPair)?;
    Ok((
        vec![cert.der().clone(), ca.der().clone()],
        key_der,
        ca.pem(),
    ))
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.to_owned())
}

/// A listener that yields connections whose TLS handshake is complete. Each
/// handshake runs in its own task, so a slow client cannot stall others.
pub(crate) struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<IdleStream>, SocketAddr)>,
}

impl TlsListener {
    pub(crate) fn new(
        tcp: TcpListener,
        config: Arc<ServerConfig>,
        idle: Duration,
    ) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (sender, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(accept_loop(tcp, acceptor, sender, idle));
        Ok(TlsListener { local, ready })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<IdleStream>, SocketAddr)>,
    idle: Duration,
) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Errors such as running out of file descriptors pass; wait a
                // little rather than spin.
                tracing::warn!(%error, "TLS accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if ready.is_closed() {
            return;
        }
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let stream = with_idle_timeout(stream, idle);
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<IdleStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop ends only when this listener is dropped, so
            // no connection will come; park like an idle listener.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
