//! Serving the app: the functions the binary uses, and the in-process
//! [`MockServer`] handle for tests.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use crate::app;
use crate::settings::{Settings, User};
use crate::state::AppState;
use crate::tls::{self, TlsListener, TlsSettings};

/// Binds `settings.listen` (and the HTTPS address, when set) and serves until
/// `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = TcpListener::bind(settings.listen).await?;
    serve_on(listener, settings, shutdown).await
}

/// Serves on a listener the caller bound, so it can learn the port first.
/// The HTTPS listener, when configured, is bound here.
pub async fn serve_on(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let https = match &settings.tls {
        Some(tls) => Some(bind_https(tls).await?),
        None => None,
    };
    let https = https.map(|(listener, _)| listener);
    run(listener, https, settings, shutdown).await
}

/// The HTTPS listener with the CA certificate that signed it, if generated.
async fn bind_https(settings: &TlsSettings) -> io::Result<(TlsListener, Option<String>)> {
    let identity = tls::identity(settings)?;
    let tcp = TcpListener::bind(settings.listen).await?;
    let local = tcp.local_addr()?;
    tracing::info!("qualys-mock listening on https://{local}");
    Ok((TlsListener::new(tcp, identity.config)?, identity.ca_pem))
}

async fn run(
    http: TcpListener,
    https: Option<TlsListener>,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = app::router(AppState::new(settings));

    // Both listeners stop on the same signal.
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let wait = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };

    let https_task = https.map(|listener| {
        let serve =
            axum::serve(listener, router.clone()).with_graceful_shutdown(wait(stopped.clone()));
        tokio::spawn(async move { serve.await })
    });
    axum::serve(http, router)
        .with_graceful_shutdown(wait(stopped))
        .await?;
    if let Some(task) = https_task {
        task.await.map_err(io::Error::other)??;
    }
    Ok(())
}

/// A mock Qualys server running inside the current tokio runtime. It stops
/// when the handle is dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = qualys_mock::MockServer::start().await;
/// assert!(server.uri().starts_with("http://127.0.0.1:"));
/// # }
/// ```
pub struct MockServer {
    address: SocketAddr,
    https_address: Option<SocketAddr>,
    ca_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl MockServer {
    /// Starts a server with default settings on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no port can be bound, which leaves a test nothing to do.
    pub async fn start() -> MockServer {
        MockServer::builder().start().await
    }

    /// Returns a builder for a server with non-default settings.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder {
            settings: Settings {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                ..Settings::default()
            },
        }
    }

    /// The base URI, such as `http://127.0.0.1:38121`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The full URL of `path`, which starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.uri())
    }

    /// The HTTPS base URI with the host name the certificate covers, such as
    /// `https://localhost:38122`, when TLS is on.
    pub fn https_uri(&self) -> Option<String> {
        self.https_address
            .map(|address| format!("https://localhost:{}", address.port()))
    }

    /// The PEM certificate of the CA that signed the generated server
    /// certificate, for the client under test to trust.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server task may already be gone with its runtime; then
            // there is nothing left to stop.
            let _ = shutdown.send(());
        }
    }
}

/// Settings for a [`MockServer`] before it starts.
pub struct MockServerBuilder {
    settings: Settings,
}

impl MockServerBuilder {
    /// Replaces every setting at once.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Sets the listen address; the default is `127.0.0.1:0`, a free port.
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.settings.listen = address;
        self
    }

    /// Sets the ID of the first record.
    pub fn id_start(mut self, id: u64) -> Self {
        self.settings.id_start = id;
        self
    }

    /// Sets how many records one list response holds.
    pub fn page_size(mut self, records: usize) -> Self {
        self.settings.page_size = records;
        self
    }

    /// Turns the networks feature on with these network IDs.
    pub fn networks(mut self, ids: impl IntoIterator<Item = u64>) -> Self {
        self.settings.networks = Some(ids.into_iter().collect());
        self
    }

    /// Sets whether `login_type=vcenter` needs an existing vCenter record.
    pub fn require_vcenter_record(mut self, required: bool) -> Self {
        self.settings.require_vcenter_record = required;
        self
    }

    /// Adds an account; once any is added, only configured accounts may call.
    pub fn user(mut self, login: impl Into<String>, password: impl Into<String>) -> Self {
        self.settings.users.push(User {
            login: login.into(),
            password: password.into(),
        });
        self
    }

    /// Sets how long a session cookie stays valid.
    pub fn session_timeout(mut self, lifetime: Duration) -> Self {
        self.settings.session_timeout = lifetime;
        self
    }

    /// Limits each user to `calls` per `window`.
    pub fn rate_limit(mut self, calls: u32, window: Duration) -> Self {
        self.settings.rate_limit = Some(calls);
        self.settings.rate_window = window;
        self
    }

    /// Limits each user to `calls` running at once.
    pub fn concurrency_limit(mut self, calls: u32) -> Self {
        self.settings.concurrency_limit = Some(calls);
        self
    }

    /// Gives each login its own record store and ID sequence.
    pub fn isolate_users(mut self, isolate: bool) -> Self {
        self.settings.isolate_users = isolate;
        self
    }

    /// Sets the base URL that DOCTYPE and paging URLs start with.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.settings.base_url = Some(url.into());
        self
    }

    /// Adds an HTTPS listener on a free port of 127.0.0.1 with a generated
    /// certificate; see [`MockServer::https_uri`] and
    /// [`MockServer::ca_certificate_pem`].
    pub fn https(mut self) -> Self {
        self.settings.tls = Some(TlsSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            cert: None,
            key: None,
            names: Vec::new(),
            ca_out: None::<PathBuf>,
        });
        self
    }

    /// Starts the server and returns once it accepts connections.
    ///
    /// # Panics
    /// When the listen address cannot be bound; see [`Self::try_start`].
    pub async fn start(self) -> MockServer {
        match self.try_start().await {
            Ok(server) => server,
            Err(error) => panic!("qualys-mock failed to start: {error}"),
        }
    }

    /// Starts the server, returning the bind or certificate error instead of
    /// panicking.
    pub async fn try_start(self) -> io::Result<MockServer> {
        let listener = TcpListener::bind(self.settings.listen).await?;
        let address = listener.local_addr()?;
        let (https, ca_pem) = match &self.settings.tls {
            Some(tls) => {
                let (listener, ca_pem) = bind_https(tls).await?;
                (Some(listener), ca_pem)
            }
            None => (None, None),
        };
        let https_address = https
            .as_ref()
            .map(axum::serve::Listener::local_addr)
            .transpose()?;

        let (shutdown, stopped) = oneshot::channel::<()>();
        let settings = self.settings;
        tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.await;
            };
            if let Err(error) = run(listener, https, settings, stop).await {
                tracing::error!(%error, "qualys-mock server stopped with an error");
            }
        });
        Ok(MockServer {
            address,
            https_address,
            ca_pem,
            shutdown: Some(shutdown),
        })
    }
}
