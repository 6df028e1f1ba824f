//! The state every handler shares: the store behind its lock, and the settings.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use parking_lot::RwLock;
use time::OffsetDateTime;

use crate::domain::store::{Store, StoreSettings};
use crate::settings::Settings;

/// Cheap to clone: every field is an `Arc`.
#[derive(Clone)]
pub(crate) struct AppState {
    /// All records and their indexes under one lock, so they never disagree.
    /// Handlers hold it only for the store call itself, never across `.await`
    /// and never while writing XML.
    pub(crate) store: Arc<RwLock<Store>>,
    /// Read-only settings.
    pub(crate) settings: Arc<Settings>,
}

impl AppState {
    pub(crate) fn new(settings: Settings) -> AppState {
        let store = Store::new(StoreSettings {
            id_start: settings.id_start,
            require_vcenter_record: settings.require_vcenter_record,
        });
        AppState {
            store: Arc::new(RwLock::new(store)),
            settings: Arc::new(settings),
        }
    }

    /// The current time, truncated to whole seconds as Qualys shows it.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
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
