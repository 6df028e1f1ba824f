//! Serving the app: the functions the binary uses, and the in-process
//! [`MockServer`] handle for tests.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use time::OffsetDateTime;

use crate::admin::faults::FaultSpec;
use crate::admin::journal::{JournalEntry, JournalFilter};
use crate::admin::state_doc::StateDoc;
use crate::admin::state_file::{self, Loaded};
use crate::app::MakeApp;
use crate::domain::record::{Record, RecordKind};
use crate::idle::IdleListener;
use crate::settings::{Settings, User};
use crate::state::AppState;
use crate::tls::{self, TlsListener, TlsSettings};

/// How long requests in flight may take to finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

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
        Some(tls) => Some(bind_https(tls, settings.idle_timeout).await?),
        None => None,
    };
    let https = https.map(|(listener, _)| listener);
    // Responses fall back to the listen address when a request's Host is
    // unusable, so it must be the bound one, not port 0.
    let settings = Settings {
        listen: listener.local_addr()?,
        ..settings
    };
    let state = prepare_state(settings)?;
    run(listener, https, state, shutdown).await
}

/// Builds the shared state: saved state when the state file contains some,
/// else the seed data. A corrupt state file is moved aside and reported,
/// never overwritten; invalid seed data stops the start.
fn prepare_state(settings: Settings) -> io::Result<AppState> {
    let mut initial = None;
    if let Some(path) = &settings.state_file {
        match state_file::load(path)? {
            Loaded::Missing => {}
            Loaded::Doc(doc) => initial = Some(doc),
            Loaded::MovedAside(aside, reason) => tracing::error!(
                file = %path.display(),
                moved_to = %aside.display(),
                reason,
                "state file is unreadable; it was moved aside and the server starts from the seed data"
            ),
        }
    }
    AppState::new(settings, initial.as_ref())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Saves the shared store to the state file, when one is configured and
/// the store changed since `saved` (its generation then).
fn save_state(state: &AppState, saved: &mut Option<u64>) {
    let Some(path) = &state.settings.state_file else {
        return;
    };
    let generation = state.stores.shared().read().generation();
    if *saved == Some(generation) {
        return;
    }
    match state_file::save(path, &state.export(true)) {
        Ok(()) => *saved = Some(generation),
        Err(error) => tracing::error!(%error, file = %path.display(), "cannot save the state file"),
    }
}

/// The HTTPS listener with the CA certificate that signed it, if generated.
async fn bind_https(
    settings: &TlsSettings,
    idle: Duration,
) -> io::Result<(TlsListener, Option<String>)> {
    let identity = tls::identity(settings)?;
    let tcp = TcpListener::bind(settings.listen).await?;
    let local = tcp.local_addr()?;
    tracing::info!("qualys-mock listening on https://{local}");
    Ok((
        TlsListener::new(tcp, identity.config, idle)?,
        identity.ca_pem,
    ))
}

async fn run(
    http: TcpListener,
    https: Option<TlsListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = MakeApp::new(state.clone());

    // Both listeners stop on the same signal.
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let wait = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };

    let saver = state.settings.state_file.is_some().then(|| {
        let state = state.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let mut saved = Some(state.stores.shared().read().generation());
            let mut timer = tokio::time::interval(state.settings.state_interval);
            loop {
                tokio::select! {
                    _ = timer.tick() => save_state(&state, &mut saved),
                    _ = stopped.wait_for(|stop| *stop) => break,
                }
            }
            saved
        })
    });

    let https_task = https.map(|listener| {
        // Requests through TLS are marked, so the URLs in responses name https.
        let https_app = app.for_https();
        let serve = axum::serve(listener, https_app).with_graceful_shutdown(wait(stopped.clone()));
        tokio::spawn(async move { serve.await })
    });
    let http = IdleListener::new(http, state.settings.idle_timeout);
    let serving = axum::serve(http, app)
        .with_graceful_shutdown(wait(stopped.clone()))
        .into_future();
    // A client that never finishes its request must not keep the server
    // alive after a stop signal: requests in flight get a short grace period.
    let deadline = async move {
        wait(stopped).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = serving => result?,
        () = deadline => tracing::warn!("requests still in flight after the shutdown grace period; stopping anyway"),
    }
    if let Some(task) = https_task {
        if !task.is_finished() {
            task.abort();
        }
        match task.await {
            Ok(result) => result?,
            Err(error) if error.is_cancelled() => {}
            Err(error) => return Err(io::Error::other(error)),
        }
    }
    if let Some(saver) = saver {
        // The last save happens after the last response has been sent.
        let mut saved = saver.await.unwrap_or(None);
        save_state(&state, &mut saved);
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
    state: AppState,
    address: SocketAddr,
    https_address: Option<SocketAddr>,
    ca_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
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

    /// Stops the server and waits until requests in flight get their responses and
    /// the state file, if any, is saved. Dropping the handle stops it too,
    /// without waiting.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Goes back to the seed data (or an empty store), as `POST
    /// /__admin/reset` does: IDs count from the start again, and the journal,
    /// sessions and limit counters are cleared.
    pub fn reset(&self) {
        self.state.reset(true);
    }

    /// Replaces every record with those of `doc`, as `POST /__admin/state`
    /// does; on error nothing changes and the message names the bad record.
    pub fn load_state(&self, doc: &StateDoc) -> Result<(), String> {
        self.state.import(doc)
    }

    /// The records as a state document, as `GET /__admin/state` returns it.
    pub fn state(&self, include_passwords: bool) -> StateDoc {
        self.state.export(include_passwords)
    }

    /// The stored records of one kind, in ID order.
    pub fn records(&self, kind: RecordKind) -> Vec<Record> {
        let store = self.state.stores.shared().read();
        store
            .records(kind)
            .map(|record| (**record).clone())
            .collect()
    }

    /// The API calls received so far, oldest first, passwords masked.
    pub fn requests(&self) -> Vec<JournalEntry> {
        self.state.journal.list(&JournalFilter::default())
    }

    /// Adds a fault rule and returns its ID, as `POST /__admin/faults` does.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<u64, String> {
        self.state.faults.add(spec)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Freezes the clock at `at`, or lets it run again with `None`.
    pub fn set_clock(&self, at: Option<OffsetDateTime>) {
        self.state.clock.set(at);
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

    /// Sets how long a connection may wait for the client's next bytes.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.settings.idle_timeout = idle;
        self
    }

    /// Caps the number of records; creates beyond them fail with 1920.
    pub fn max_records(mut self, records: usize) -> Self {
        self.settings.max_records = Some(records);
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

    /// Loads these records, accounts and networks at start and on reset.
    pub fn seed(mut self, doc: StateDoc) -> Self {
        self.settings.seed = Some(doc);
        self
    }

    /// Freezes the clock at `at` for every DATETIME and record stamp.
    pub fn clock(mut self, at: OffsetDateTime) -> Self {
        self.settings.clock = Some(at);
        self
    }

    /// Saves the records to `path` and restores them from it at start.
    pub fn state_file(mut self, path: impl Into<PathBuf>, interval: Duration) -> Self {
        self.settings.state_file = Some(path.into());
        self.settings.state_interval = interval;
        self
    }

    /// Requires this token on the `/__admin/` routes.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.settings.admin_token = Some(token.into());
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
                let (listener, ca_pem) = bind_https(tls, self.settings.idle_timeout).await?;
                (Some(listener), ca_pem)
            }
            None => (None, None),
        };
        let https_address = https
            .as_ref()
            .map(axum::serve::Listener::local_addr)
            .transpose()?;

        let state = prepare_state(Settings {
            listen: address,
            ..self.settings
        })?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server_state = state.clone();
        let task = tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.await;
            };
            if let Err(error) = run(listener, https, server_state, stop).await {
                tracing::error!(%error, "qualys-mock server stopped with an error");
            }
        });
        Ok(MockServer {
            state,
            address,
            https_address,
            ca_pem,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}
