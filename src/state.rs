//! The state every handler shares: the record stores, sessions, limit
//! counters and settings.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{header, HeaderMap};
use parking_lot::{Mutex, RwLock};
use time::OffsetDateTime;

use crate::api::limits::Limits;
use crate::api::session::Sessions;
use crate::domain::store::{Store, StoreSettings};
use crate::settings::Settings;
use crate::xml::record_list::format_datetime;
use crate::xml::{DocContext, RequestEcho};

/// A store behind its lock. Records and indexes share the lock so they never
/// disagree; handlers hold it only for the store call itself, never across
/// `.await` and never while writing XML.
pub(crate) type SharedStore = Arc<RwLock<Store>>;

/// Cheap to clone: every field is an `Arc`.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) stores: Arc<Stores>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) limits: Arc<Limits>,
    pub(crate) settings: Arc<Settings>,
}

/// One store for everyone, or one per login when users are isolated.
pub(crate) struct Stores {
    settings: StoreSettings,
    shared: SharedStore,
    per_login: Option<Mutex<HashMap<String, SharedStore>>>,
}

impl Stores {
    fn new(settings: StoreSettings, isolate: bool) -> Stores {
        Stores {
            shared: Arc::new(RwLock::new(Store::new(settings.clone()))),
            per_login: isolate.then(|| Mutex::new(HashMap::new())),
            settings,
        }
    }

    /// The store that `login` reads and writes.
    pub(crate) fn for_login(&self, login: &str) -> SharedStore {
        let Some(per_login) = &self.per_login else {
            return Arc::clone(&self.shared);
        };
        let mut stores = per_login.lock();
        let store = stores
            .entry(login.to_owned())
            .or_insert_with(|| Arc::new(RwLock::new(Store::new(self.settings.clone()))));
        Arc::clone(store)
    }
}

impl AppState {
    pub(crate) fn new(settings: Settings) -> AppState {
        let store_settings = StoreSettings {
            id_start: settings.id_start,
            require_vcenter_record: settings.require_vcenter_record,
        };
        AppState {
            stores: Arc::new(Stores::new(store_settings, settings.isolate_users)),
            sessions: Arc::new(Sessions::new(settings.session_timeout)),
            limits: Arc::new(Limits::new(&settings)),
            settings: Arc::new(settings),
        }
    }

    /// The current time, truncated to whole seconds as Qualys shows it.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// The context for an XML answer to a request with these headers.
    pub(crate) fn doc_context(&self, headers: &HeaderMap, echo: Option<RequestEcho>) -> DocContext {
        DocContext {
            base_url: self.base_url(headers),
            datetime: format_datetime(self.now()),
            echo,
        }
    }

    /// The base URL for DOCTYPEs and paging links: the configured one, else
    /// the `Host` the client used, else the listen address.
    pub(crate) fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.settings.base_url {
            return url.clone();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .filter(|host| is_plain_host(host));
        match host {
            Some(host) => format!("http://{host}"),
            None => format!("http://{}", self.settings.listen),
        }
    }
}

/// Whether a `Host` header value is safe to put inside a quoted URL: a name
/// or address with an optional port, and nothing else.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}
