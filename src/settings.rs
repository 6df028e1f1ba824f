//! Server settings shared by the CLI, the library handle and the router.

use std::net::SocketAddr;
use std::time::Duration;

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::admin::state_doc::StateDoc;
use crate::tls::TlsSettings;

/// Everything that shapes how the mock behaves, with defaults that match a
/// fresh Qualys subscription as closely as is known.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Scheme, host and port that DOCTYPE and paging URLs start with. When
    /// `None`, each response uses the `Host` header of its request.
    pub base_url: Option<String>,
    /// The ID given to the first record.
    pub id_start: u64,
    /// Maximum number of records in one list response before it ends with a WARNING.
    pub page_size: usize,
    /// Network IDs that `network_id` may name; `None` turns the networks
    /// feature off, as on a subscription without it.
    pub networks: Option<Vec<u64>>,
    /// Whether `login_type=vcenter` needs at least one vCenter record.
    pub require_vcenter_record: bool,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Maximum number of records the mock stores; `None` for no limit.
    pub max_records: Option<usize>,
    /// How long a connection may wait for the client's next bytes before
    /// it is closed.
    pub idle_timeout: Duration,
    /// The accounts that may log in. Empty means any user name and password
    /// are accepted, which suits most tests.
    pub users: Vec<User>,
    /// How long a `QualysSession` cookie stays valid after login.
    pub session_timeout: Duration,
    /// Per-user call limit per window; `None` turns rate limiting off.
    pub rate_limit: Option<u32>,
    /// Length of the rate-limit window.
    pub rate_window: Duration,
    /// Per-user limit on calls running at once; `None` turns it off.
    pub concurrency_limit: Option<u32>,
    /// Whether each login gets its own record store and ID sequence, so
    /// parallel test jobs sharing one server never see each other's records.
    pub isolate_users: bool,
    /// An HTTPS listener beside the HTTP one; `None` serves HTTP only.
    pub tls: Option<TlsSettings>,
    /// Records, accounts and networks loaded at start and on reset.
    pub seed: Option<StateDoc>,
    /// A frozen time for every DATETIME and stamp; `None` uses the system clock.
    pub clock: Option<OffsetDateTime>,
    /// Token the `/__admin/` routes require (health excepted); `None` leaves
    /// them open.
    pub admin_token: Option<String>,
    /// How many API calls the request journal keeps.
    pub journal_size: usize,
    /// File the store is saved to and restored from; `None` keeps it in memory only.
    pub state_file: Option<PathBuf>,
    /// How often the store is saved to `state_file` when it changed.
    pub state_interval: Duration,
}

/// An account that may call the API when accounts are configured.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub login: String,
    /// The password, compared exactly.
    pub password: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

impl std::str::FromStr for User {
    type Err = String;

    /// Parses `NAME:PASSWORD`; the password may itself contain colons.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.split_once(':') {
            Some((login, password)) if !login.is_empty() => Ok(User {
                login: login.to_owned(),
                password: password.to_owned(),
            }),
            _ => Err("expected NAME:PASSWORD with a non-empty name".to_owned()),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            id_start: 1,
            page_size: 1000,
            networks: None,
            require_vcenter_record: true,
            max_body_bytes: 1024 * 1024,
            max_records: None,
            idle_timeout: Duration::from_secs(60),
            users: Vec::new(),
            session_timeout: Duration::from_secs(3600),
            rate_limit: None,
            rate_window: Duration::from_secs(3600),
            concurrency_limit: None,
            isolate_users: false,
            tls: None,
            seed: None,
            clock: None,
            admin_token: None,
            journal_size: 1000,
            state_file: None,
            state_interval: Duration::from_secs(10),
        }
    }
}
