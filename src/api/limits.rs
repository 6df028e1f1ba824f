//! Per-user rate and concurrency limits as Qualys applies them, and the
//! headers that report them on every API response.
//!
//! Both limits are off by default. When one is off, its headers still appear,
//! showing a limit no test reaches, because some clients pause whenever
//! `X-RateLimit-Remaining` reads 0.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
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
    users: Mutex<HashMap<String, Usage>>,
}

struct Usage {
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
    login: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut users = self.limits.users.lock();
        if let Some(usage) = users.get_mut(&self.login) {
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
        let usage = users.entry(login.to_owned()).or_insert(Usage {
            window_start: now,
            calls: 0,
            running: 0,
        });
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
        drop(users);

        let permit = verdict.map(|()| Permit {
            limits: Arc::clone(self),
            login: login.to_owned(),
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
                    "user": login,
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

impl LimitReport {
    /// Writes the Qualys limit headers.
    pub(crate) fn write_headers(&self, headers: &mut HeaderMap) {
        let pairs = [
            ("X-RateLimit-Limit", u64::from(self.limit)),
            ("X-RateLimit-Window-Sec", self.window_secs),
            ("X-RateLimit-Remaining", u64::from(self.remaining)),
            ("X-RateLimit-ToWait-Sec", self.to_wait_secs),
            (
                "X-Concurrency-Limit-Limit",
                u64::from(self.concurrency_limit),
            ),
            ("X-Concurrency-Limit-Running", u64::from(self.running)),
        ];
        for (name, value) in pairs {
            headers.insert(name, HeaderValue::from(value));
        }
    }
}
