//! The state every handler shares: the record stores, accounts and networks,
//! sessions, limit counters, journal, fault rules, clock and settings, and
//! the test-double operations (reset, export, import) over them.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use parking_lot::{Mutex, RwLock};
use time::OffsetDateTime;

use crate::admin::faults::Faults;
use crate::admin::journal::Journal;
use crate::admin::state_doc::{LoadContext, StateDoc};
use crate::api::limits::Limits;
use crate::api::session::Sessions;
use crate::clock::Clock;
use crate::domain::record::Stamp;
use crate::domain::store::{Store, StoreSettings};
use crate::settings::{Settings, User};
use crate::xml::{DocContext, RequestEcho};

/// A store behind its lock. Records and indexes share the lock, so they never
/// disagree. Handlers hold it only for the store call itself, never across
/// `.await` and never while writing XML.
pub(crate) type SharedStore = Arc<RwLock<Store>>;

/// The handle every handler and middleware gets. Cloning it, which axum does
/// for each extractor of every request, costs one reference count.
#[derive(Clone)]
pub(crate) struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The state an [`AppState`] points to.
pub(crate) struct SharedState {
    pub(crate) stores: Arc<Stores>,
    /// Read on every call, replaced whole on reset and import. Readers load
    /// it without a lock.
    pub(crate) directory: ArcSwap<Directory>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) limits: Arc<Limits>,
    pub(crate) journal: Arc<Journal>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) settings: Arc<Settings>,
}

/// Accounts and networks: the configured ones plus those of loaded state.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    pub(crate) users: Vec<User>,
    pub(crate) networks: Option<Vec<u64>>,
    /// The last `Authorization` header these accounts accepted. A new
    /// directory starts with none, so a memo never outlives the accounts
    /// that accepted it.
    pub(crate) accepted: AcceptedCredentials,
}

/// One `Authorization` header value and the login it was accepted for, so a
/// client that sends the same header on every call is not decoded and
/// checked again each time. It is read without a lock, so calls on
/// different threads do not contend for it.
#[derive(Default)]
pub(crate) struct AcceptedCredentials(ArcSwapOption<(HeaderValue, String)>);

impl AcceptedCredentials {
    /// Returns the login accepted for exactly this header value, if it is
    /// the last one.
    pub(crate) fn login_for(&self, value: &HeaderValue) -> Option<String> {
        let memo = self.0.load();
        let (header, login) = memo.as_deref()?;
        (header.as_bytes() == value.as_bytes()).then(|| login.clone())
    }

    /// Remembers that `value` was accepted for `login`.
    pub(crate) fn remember(&self, value: &HeaderValue, login: &str) {
        // A copy, so the memo does not keep the request's read buffer alive.
        if let Ok(header) = HeaderValue::from_bytes(value.as_bytes()) {
            self.0.store(Some(Arc::new((header, login.to_owned()))));
        }
    }
}

impl std::fmt::Debug for AcceptedCredentials {
    /// Shows nothing of the header, which carries a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AcceptedCredentials")
    }
}

/// The store one call works on. The shared store is borrowed rather than
/// counted, so calls on different threads do not all write to its
/// reference count.
pub(crate) enum StoreRef<'a> {
    /// The store every login shares.
    Shared(&'a RwLock<Store>),
    /// The store of one login, when users are isolated.
    Login(SharedStore),
}

impl std::ops::Deref for StoreRef<'_> {
    type Target = RwLock<Store>;

    fn deref(&self) -> &RwLock<Store> {
        match self {
            StoreRef::Shared(store) => store,
            StoreRef::Login(store) => store,
        }
    }
}

/// One store for everyone, or one per login when users are isolated. Each
/// new store starts as a copy of the seed.
pub(crate) struct Stores {
    seed: Store,
    shared: SharedStore,
    per_login: Option<Mutex<HashMap<String, SharedStore>>>,
}

impl Stores {
    /// The store that `login` reads and writes.
    pub(crate) fn for_login(&self, login: &str) -> StoreRef<'_> {
        let Some(per_login) = &self.per_login else {
            return StoreRef::Shared(&self.shared);
        };
        let mut stores = per_login.lock();
        let store = stores
            .entry(login.to_owned())
            .or_insert_with(|| Arc::new(RwLock::new(self.seed.clone())));
        StoreRef::Login(Arc::clone(store))
    }

    /// The store shared by every login, which state export and import use.
    pub(crate) fn shared(&self) -> &SharedStore {
        &self.shared
    }

    /// Replaces the shared store's contents and drops every login's store.
    fn replace(&self, store: Store) {
        *self.shared.write() = store;
        if let Some(per_login) = &self.per_login {
            per_login.lock().clear();
        }
    }
}

impl AppState {
    /// Builds the state, loading `settings.seed` (or `initial`, saved state
    /// that takes its place). Fails, loading nothing, when a record is invalid.
    pub(crate) fn new(settings: Settings, initial: Option<&StateDoc>) -> Result<AppState, String> {
        let clock = Clock::new(settings.clock);
        let now = Stamp {
            at: clock.now(),
            by: "seed".to_owned().into(),
        };
        let store_settings = StoreSettings {
            id_start: settings.id_start,
            require_vcenter_record: settings.require_vcenter_record,
            max_records: settings.max_records,
        };
        let load = |doc: &StateDoc| {
            let ctx = LoadContext {
                store_settings: store_settings.clone(),
                networks: settings.networks.as_deref(),
                now: now.clone(),
            };
            doc.build_store(&ctx)
        };
        let seed = match &settings.seed {
            Some(doc) => load(doc).map_err(|e| format!("seed data: {e}"))?,
            None => Store::new(store_settings.clone()),
        };
        let current = match initial {
            Some(doc) => load(doc).map_err(|e| format!("saved state: {e}"))?,
            None => seed.clone(),
        };
        let directory = base_directory(&settings, initial.or(settings.seed.as_ref()));

        Ok(AppState(Arc::new(SharedState {
            stores: Arc::new(Stores {
                seed,
                shared: Arc::new(RwLock::new(current)),
                per_login: settings.isolate_users.then(|| Mutex::new(HashMap::new())),
            }),
            directory: ArcSwap::from_pointee(directory),
            sessions: Arc::new(Sessions::new(settings.session_timeout)),
            limits: Arc::new(Limits::new(&settings)),
            journal: Arc::new(Journal::new(settings.journal_size)),
            faults: Arc::new(Faults::default()),
            clock: Arc::new(clock),
            settings: Arc::new(settings),
        })))
    }

    /// The current time, truncated to whole seconds as Qualys shows it.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Whether seed data was configured.
    pub(crate) fn has_seed(&self) -> bool {
        self.settings.seed.is_some()
    }

    /// Goes back to the seed data (or an empty store), with IDs counting
    /// from the start again, an empty journal, no sessions and fresh limits.
    /// Fault rules and the clock stay as they are.
    pub(crate) fn reset(&self, reload_seed: bool) {
        let store = if reload_seed {
            self.stores.seed.clone()
        } else {
            Store::new(StoreSettings {
                id_start: self.settings.id_start,
                require_vcenter_record: self.settings.require_vcenter_record,
                max_records: self.settings.max_records,
            })
        };
        self.stores.replace(store);
        let seed = reload_seed.then_some(self.settings.seed.as_ref()).flatten();
        self.directory
            .store(Arc::new(base_directory(&self.settings, seed)));
        self.journal.clear();
        self.sessions.clear();
        self.limits.clear();
    }

    /// The shared store as a state document.
    pub(crate) fn export(&self, include_passwords: bool) -> StateDoc {
        let mut doc = StateDoc::from_store(&self.stores.shared().read(), include_passwords);
        doc.networks = self.directory.load().networks.clone();
        doc
    }

    /// Replaces every record with the document's, checked first in full.
    pub(crate) fn import(&self, doc: &StateDoc) -> Result<(), String> {
        let ctx = LoadContext {
            store_settings: StoreSettings {
                id_start: self.settings.id_start,
                require_vcenter_record: self.settings.require_vcenter_record,
                max_records: self.settings.max_records,
            },
            networks: self.settings.networks.as_deref(),
            now: Stamp {
                at: self.now(),
                by: "seed".to_owned().into(),
            },
        };
        let store = doc.build_store(&ctx)?;
        self.stores.replace(store);
        self.directory
            .store(Arc::new(base_directory(&self.settings, Some(doc))));
        Ok(())
    }

    /// Builds the context for an XML response to a request with these headers.
    pub(crate) fn doc_context(&self, headers: &HeaderMap, echo: Option<RequestEcho>) -> DocContext {
        DocContext {
            base_url: self.base_url(headers),
            datetime: self.clock.now_text(),
            echo,
        }
    }

    /// The base URL for DOCTYPEs and paging links: the configured one, else
    /// the `Host` the client used, else the listen address. The scheme is
    /// `https` on the HTTPS listener or behind a proxy that sends
    /// `X-Forwarded-Proto: https`, and `http` otherwise.
    pub(crate) fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.settings.base_url {
            return url.clone();
        }
        let scheme = match headers.get(FORWARDED_PROTO).and_then(|v| v.to_str().ok()) {
            Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .filter(|host| is_plain_host(host));
        match host {
            Some(host) => [scheme, "://", host].concat(),
            None => format!("{scheme}://{}", self.settings.listen),
        }
    }
}

/// The header that carries the scheme the client used. The HTTPS listener
/// sets it on every request it passes on.
pub(crate) const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The configured accounts and networks plus those of `doc`.
fn base_directory(settings: &Settings, doc: Option<&StateDoc>) -> Directory {
    let mut users = settings.users.clone();
    let mut networks = settings.networks.clone();
    if let Some(doc) = doc {
        for user in &doc.users {
            users.push(User {
                login: user.login.clone(),
                password: user.password.clone().unwrap_or_default(),
            });
        }
        networks = doc.merged_networks(settings.networks.as_deref());
    }
    Directory {
        users,
        networks,
        accepted: AcceptedCredentials::default(),
    }
}

/// Whether a `Host` header value is a plain host with an optional port, safe
/// to put inside a quoted URL: a DNS name, an IPv4 address or a bracketed
/// IPv6 address, then optionally `:` and a port from 1 to 65535.
fn is_plain_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let Some((inside, after)) = rest.split_once(']') else {
                return false;
            };
            if inside.parse::<std::net::Ipv6Addr>().is_err() {
                return false;
            }
            match after {
                "" => ("v6", None),
                _ => match after.strip_prefix(':') {
                    Some(port) => ("v6", Some(port)),
                    None => return false,
                },
            }
        }
        None => match memchr::memchr(b':', host.as_bytes()) {
            Some(at) => (&host[..at], Some(&host[at + 1..])),
            None => (host, None),
        },
    };
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    port_ok && is_dotted_name(name)
}

/// Returns whether `name` is non-empty dot-separated labels of letters,
/// digits and hyphens, at most 63 bytes each and 253 in all. It reads the
/// bytes once.
fn is_dotted_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let mut label = 0;
    for byte in name.bytes() {
        match byte {
            b'.' if label == 0 => return false,
            b'.' => label = 0,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' if label < 63 => label += 1,
            _ => return false,
        }
    }
    label > 0
}

#[cfg(test)]
mod tests {
    use super::{is_dotted_name, is_plain_host};

    #[test]
    fn host_header_must_be_a_plain_host() {
        for good in [
            "localhost",
            "127.0.0.1:8080",
            "qualys-mock:8080",
            "[::1]:8443",
            "[::1]",
        ] {
            assert!(is_plain_host(good), "{good}");
        }
        for bad in [
            "h:abc",
            "h:99999",
            ":80",
            "[zz]",
            "h]",
            "1.2.3.4:80:80",
            "a b",
            "h\"x",
            "h:0",
            "",
        ] {
            assert!(!is_plain_host(bad), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn dotted_names_are_checked_label_by_label(
            name in "([a-zA-Z0-9\\-_ ]{0,3}|a{60,66})(\\.{1,2}([a-z0-9\\-]{0,3}|b{60,66})){0,4}"
        ) {
            let by_labels = !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            proptest::prop_assert_eq!(is_dotted_name(&name), by_labels, "{}", name);
        }
    }
}
