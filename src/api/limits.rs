//! Per-user rate and concurrency limits as Qualys applies them, and the
//! headers that report them on every API response.
//!
//! Both limits are off by default. When one is off, its headers still appear,
//! showing a limit no test reaches, because some clients pause whenever
//! `X-RateLimit-Remaining` reads 0.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use parking_lot::Mutex;

use crate::settings::Settings;

/// The rate limit the headers show when rate limiting is off.
const UNLIMITED_CALLS: u32 = 1_000_000;
/// The concurrency limit the headers show when that limit is off.
const UNLIMITED_RUNNING: u32 = 1_000;

/// Usage counters for every user.
pub(crate) struct Limits {
    rate_limit: Option<u32>,
    window: Duration,
    concurrency_limit: Option<u32>,
    users: Mutex<HashMap<Arc<str>, Usage>>,
}

struct Usage {
    /// The map's key again, shared with the permits of running calls.
    login: Arc<str>,
    window_start: Instant,
    calls: u32,
    running: u32,
}

/// What the limit headers report for one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LimitReport {
    pub(crate) limit: u32,
    pub(crate) window_secs: u64,
    pub(crate) remaining: u32,
    pub(crate) to_wait_secs: u64,
    pub(crate) concurrency_limit: u32,
    pub(crate) running: u32,
}

/// Why a call was turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LimitExceeded {
    /// Too many calls running; this many must finish first.
    Concurrency { calls_to_finish: u32 },
    /// Too many calls in the window; retry after this many seconds.
    Rate { seconds_to_wait: u64 },
}

/// A running call. Dropping it frees its concurrency slot.
pub(crate) struct Permit {
    limits: Arc<Limits>,
    login: Arc<str>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut users = self.limits.users.lock();
        if let Some(usage) = users.get_mut(&*self.login) {
            usage.running = usage.running.saturating_sub(1);
        }
    }
}

impl Limits {
    pub(crate) fn new(settings: &Settings) -> Limits {
        Limits {
            rate_limit: settings.rate_limit,
            window: settings.rate_window.max(Duration::from_secs(1)),
            concurrency_limit: settings.concurrency_limit,
            users: Mutex::new(HashMap::new()),
        }
    }

    /// Admits a call by `login`, checking concurrency before rate as Qualys
    /// does. A rejected call is not counted against the window.
    pub(crate) fn begin(
        self: &Arc<Self>,
        login: &str,
    ) -> (Result<Permit, LimitExceeded>, LimitReport) {
        let now = Instant::now();
        let mut users = self.users.lock();
        if let Some(usage) = users.get_mut(login) {
            return self.count(usage, now);
        }
        let login: Arc<str> = Arc::from(login);
        let usage = users.entry(Arc::clone(&login)).or_insert(Usage {
            login,
            window_start: now,
            calls: 0,
            running: 0,
        });
        self.count(usage, now)
    }

    /// Starts a new window when the last one ended, then admits or turns
    /// away one call.
    fn count(
        self: &Arc<Self>,
        usage: &mut Usage,
        now: Instant,
    ) -> (Result<Permit, LimitExceeded>, LimitReport) {
        if now.duration_since(usage.window_start) >= self.window {
            usage.window_start = now;
            usage.calls = 0;
        }

        let verdict = self.admit(usage, now);
        if verdict.is_ok() {
            usage.calls += 1;
            usage.running += 1;
        }
        let mut report = self.report(usage);
        if let Err(LimitExceeded::Rate { seconds_to_wait }) = verdict {
            report.to_wait_secs = seconds_to_wait;
        }
        let permit = verdict.map(|()| Permit {
            limits: Arc::clone(self),
            login: Arc::clone(&usage.login),
        });
        (permit, report)
    }

    /// The counters of every user, for the admin API and dashboard.
    pub(crate) fn snapshot(&self) -> serde_json::Value {
        let now = Instant::now();
        let users = self.users.lock();
        let mut by_user: Vec<serde_json::Value> = users
            .iter()
            .map(|(login, usage)| {
                let in_window = now.duration_since(usage.window_start) < self.window;
                serde_json::json!({
                    "user": &**login,
                    "calls_in_window": if in_window { usage.calls } else { 0 },
                    "running": usage.running,
                })
            })
            .collect();
        by_user.sort_by(|a, b| a["user"].as_str().cmp(&b["user"].as_str()));
        serde_json::json!({
            "rate_limit": self.rate_limit,
            "rate_window_secs": self.window.as_secs(),
            "concurrency_limit": self.concurrency_limit,
            "users": by_user,
        })
    }

    /// Forgets every user's counters.
    pub(crate) fn clear(&self) {
        self.users.lock().clear();
    }

    /// The report for a response that reached no user, such as a 401.
    pub(crate) fn anonymous_report(&self) -> LimitReport {
        let limit = self.rate_limit.unwrap_or(UNLIMITED_CALLS);
        LimitReport {
            limit,
            window_secs: self.window.as_secs(),
            remaining: limit,
            to_wait_secs: 0,
            concurrency_limit: self.concurrency_limit.unwrap_or(UNLIMITED_RUNNING),
            running: 0,
        }
    }

    fn admit(&self, usage: &Usage, now: Instant) -> Result<(), LimitExceeded> {
        if let Some(max) = self.concurrency_limit {
            if usage.running >= max {
                return Err(LimitExceeded::Concurrency {
                    calls_to_finish: usage.running + 1 - max,
                });
            }
        }
        if let Some(max) = self.rate_limit {
            if usage.calls >= max {
                let elapsed = now.duration_since(usage.window_start);
                let left = self.window.saturating_sub(elapsed);
                return Err(LimitExceeded::Rate {
                    seconds_to_wait: left.as_secs_f64().ceil().max(1.0) as u64,
                });
            }
        }
        Ok(())
    }

    fn report(&self, usage: &Usage) -> LimitReport {
        let limit = self.rate_limit.unwrap_or(UNLIMITED_CALLS);
        LimitReport {
            limit,
            window_secs: self.window.as_secs(),
            remaining: limit.saturating_sub(usage.calls),
            to_wait_secs: 0,
            concurrency_limit: self.concurrency_limit.unwrap_or(UNLIMITED_RUNNING),
            running: usage.running,
        }
    }
}

/// The limit header names. HTTP/1 sends them in lower case, as hyper sends
/// every header name; header names are case-insensitive.
pub(crate) const RATE_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub(crate) const RATE_WINDOW: HeaderName = HeaderName::from_static("x-ratelimit-window-sec");
pub(crate) const RATE_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub(crate) const RATE_TO_WAIT: HeaderName = HeaderName::from_static("x-ratelimit-towait-sec");
pub(crate) const CONCURRENCY_LIMIT: HeaderName =
    HeaderName::from_static("x-concurrency-limit-limit");
pub(crate) const CONCURRENCY_RUNNING: HeaderName =
    HeaderName::from_static("x-concurrency-limit-running");

impl LimitReport {
    /// Writes the Qualys limit headers.
    pub(crate) fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert(RATE_LIMIT, number(u64::from(self.limit)));
        headers.insert(RATE_WINDOW, number(self.window_secs));
        headers.insert(RATE_REMAINING, number(u64::from(self.remaining)));
        headers.insert(RATE_TO_WAIT, number(self.to_wait_secs));
        headers.insert(CONCURRENCY_LIMIT, number(u64::from(self.concurrency_limit)));
        headers.insert(CONCURRENCY_RUNNING, number(u64::from(self.running)));
    }
}

/// Returns a header value for `value`, without allocating for the common
/// small values.
fn number(value: u64) -> HeaderValue {
    const SMALL: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    match value {
        0..=9 => HeaderValue::from_static(SMALL[value as usize]),
        1_000 => HeaderValue::from_static("1000"),
        1_000_000 => HeaderValue::from_static("1000000"),
        _ => HeaderValue::from(value),
    }
}
