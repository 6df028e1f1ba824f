//! The request journal: the last API calls received, for tests that check
//! what their client actually sent. Passwords are masked before they get here.

use std::collections::VecDeque;

use axum::http::Method;
use compact_str::CompactString;
use parking_lot::Mutex;
use serde::Serialize;

use crate::api::params::Params;

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
    entries: VecDeque<(u64, Recorded)>,
}

/// A call as the journal keeps it: in the form the access log already has,
/// turned into a [`JournalEntry`] only when listed.
pub(crate) struct Recorded {
    pub(crate) time: CompactString,
    pub(crate) method: Method,
    pub(crate) path: CompactString,
    pub(crate) action: Option<CompactString>,
    /// Secrets already masked.
    pub(crate) params: Params,
    pub(crate) user: Option<CompactString>,
    pub(crate) status: u16,
    pub(crate) code: Option<u32>,
    pub(crate) duration_us: u64,
}

impl Recorded {
    fn to_entry(&self, seq: u64) -> JournalEntry {
        JournalEntry {
            seq,
            time: self.time.to_string(),
            method: self.method.to_string(),
            path: self.path.to_string(),
            action: self.action.as_ref().map(CompactString::to_string),
            params: self.params.to_pairs(),
            user: self.user.as_ref().map(CompactString::to_string),
            status: self.status,
            code: self.code,
            duration_us: self.duration_us,
        }
    }
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

    /// Appends a call, numbering it.
    pub(crate) fn record(&self, call: Recorded) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.inner.lock();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        // The oldest entry is dropped after the lock is released.
        let dropped = if inner.entries.len() == self.capacity {
            inner.entries.pop_front()
        } else {
            None
        };
        inner.entries.push_back((seq, call));
        drop(inner);
        drop(dropped);
    }

    /// The entries that match `filter`, oldest first.
    pub(crate) fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        let inner = self.inner.lock();
        let mut matching: Vec<JournalEntry> = inner
            .entries
            .iter()
            .filter(|(seq, _)| filter.since.is_none_or(|since| *seq > since))
            .filter(|(_, e)| {
                filter
                    .action
                    .as_deref()
                    .is_none_or(|a| e.action.as_deref() == Some(a))
            })
            .filter(|(_, e)| filter.status.is_none_or(|s| e.status == s))
            .filter(|(_, e)| {
                filter
                    .user
                    .as_deref()
                    .is_none_or(|u| e.user.as_deref() == Some(u))
            })
            .map(|(seq, e)| e.to_entry(*seq))
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
