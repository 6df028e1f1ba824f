//! The request journal: the last API calls received, for tests that check
//! what their client actually sent. Passwords are masked before they get here.

use std::collections::VecDeque;

use parking_lot::Mutex;
use serde::Serialize;

/// One received API call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// Sequence number, counting from 1 since the server started.
    pub seq: u64,
    /// When the call arrived, as `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// URL path without the query.
    pub path: String,
    /// The `action` parameter, if any.
    pub action: Option<String>,
    /// Parameters in the order sent, secrets masked.
    pub params: Vec<(String, String)>,
    /// The caller's login, once identified.
    pub user: Option<String>,
    /// HTTP status of the response.
    pub status: u16,
    /// Qualys error code of the response, if any.
    pub code: Option<u32>,
    /// Time to respond, in microseconds.
    pub duration_us: u64,
}

/// A bounded list of the latest calls; the oldest drop off first.
pub(crate) struct Journal {
    capacity: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    next_seq: u64,
    entries: VecDeque<JournalEntry>,
}

/// Which entries a listing returns.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalFilter {
    /// Only calls with this `action`.
    pub action: Option<String>,
    /// Only calls answered with this HTTP status.
    pub status: Option<u16>,
    /// Only calls by this login.
    pub user: Option<String>,
    /// Only calls numbered after this one, for polling.
    pub since: Option<u64>,
    /// At most this many, the newest.
    pub limit: Option<usize>,
}

impl Journal {
    pub(crate) fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            inner: Mutex::new(Inner {
                next_seq: 1,
                entries: VecDeque::new(),
            }),
        }
    }

    /// Appends an entry, numbering it.
    pub(crate) fn record(&self, mut entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.inner.lock();
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// The entries that match `filter`, oldest first.
    pub(crate) fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        let inner = self.inner.lock();
        let mut matching: Vec<JournalEntry> = inner
            .entries
            .iter()
            .filter(|e| filter.since.is_none_or(|since| e.seq > since))
            .filter(|e| {
                filter
                    .action
                    .as_ref()
                    .is_none_or(|a| e.action.as_ref() == Some(a))
            })
            .filter(|e| filter.status.is_none_or(|s| e.status == s))
            .filter(|e| {
                filter
                    .user
                    .as_ref()
                    .is_none_or(|u| e.user.as_ref() == Some(u))
            })
            .cloned()
            .collect();
        if let Some(limit) = filter.limit {
            let skip = matching.len().saturating_sub(limit);
            matching.drain(..skip);
        }
        matching
    }

    /// Forgets every entry; numbering goes on.
    pub(crate) fn clear(&self) {
        self.inner.lock().entries.clear();
    }
}
