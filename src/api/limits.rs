//! Per-user rate and concurrency limits as Qualys applies them, and the
//! headers that report them on every API response.
//!
//! Both limits are off by default. When one is off, its headers still appear,
//! showing a limit no test reaches, because some clients pause whenever
//! `X-RateLimit-Remaining` reads 0.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
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
    /// Each user's counters, looked up without a lock so that calls only
    /// ever contend for their own user's counters. The map is copied to add
    /// users, so it is rebuilt only once the users in `added` reach a
    /// quarter of its size: adding n users copies O(n) entries in all.
    users: ArcSwap<UserMap>,
    /// Users added since `users` was last rebuilt.
    added: Mutex<UserMap>,
}

type UserMap = HashMap<Box<str>, Arc<UserUsage>>;

/// One user's counters, behind a lock of their own.
#[derive(Default)]
struct UserUsage(Mutex<Usage>);

#[derive(Default)]
struct Usage {
    /// When the current rate window started; `None` before the first call.
    window_start: Option<Instant>,
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
    user: Arc<UserUsage>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut usage = self.user.0.lock();
        usage.running = usage.running.saturating_sub(1);
    }
}

impl Limits {
    pub(crate) fn new(settings: &Settings) -> Limits {
        Limits {
            rate_limit: settings.rate_limit,
            window: settings.rate_window.max(Duration::from_secs(1)),
            concurrency_limit: settings.concurrency_limit,
            users: ArcSwap::default(),
            added: Mutex::default(),
        }
    }

    /// Admits a call by `login`, checking concurrency before rate as Qualys
    /// does. A rejected call is not counted against the window.
    pub(crate) fn begin(&self, login: &str) -> (Result<Permit, LimitExceeded>, LimitReport) {
        let user = self.user(login);
        let now = Instant::now();
        let mut usage = user.0.lock();
        let (verdict, report) = self.count(&mut usage, now);
        drop(usage);
        (verdict.map(|()| Permit { user }), report)
    }

    /// Returns the counters of `login`, adding them on its first call.
    fn user(&self, login: &str) -> Arc<UserUsage> {
        if let Some(user) = self.users.load().get(login) {
            return Arc::clone(user);
        }
        let mut added = self.added.lock();
        // Another call may have rebuilt the map since the lookup above.
        let users = self.users.load_full();
        if let Some(user) = users.get(login).or_else(|| added.get(login)) {
            return Arc::clone(user);
        }
        let user = Arc::new(UserUsage::default());
        added.insert(login.into(), Arc::clone(&user));
        if added.len() > users.len() / 4 {
            let mut rebuilt = UserMap::clone(&users);
            rebuilt.extend(added.drain());
            self.users.store(Arc::new(rebuilt));
        }
        user
    }

    /// Starts a new window when the last one ended, then admits or turns
    /// away one call.
    fn count(&self, usage: &mut Usage, now: Instant) -> (Result<(), LimitExceeded>, LimitReport) {
        let window_over = usage
            .window_start
            .is_none_or(|start| now.duration_since(start) >= self.window);
        if window_over {
            usage.window_start = Some(now);
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
        (verdict, report)
    }

    /// The counters of every user, for the admin API and dashboard.
    pub(crate) fn snapshot(&self) -> serde_json::Value {
        let now = Instant::now();
        let added = self.added.lock();
        let users = self.users.load();
        let mut by_user: Vec<serde_json::Value> = users
            .iter()
            .chain(added.iter())
            .map(|(login, user)| {
                let usage = user.0.lock();
                let in_window = usage
                    .window_start
                    .is_some_and(|start| now.duration_since(start) < self.window);
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
        let mut added = self.added.lock();
        added.clear();
        self.users.store(Arc::default());
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
                let elapsed = usage
                    .window_start
                    .map_or(Duration::ZERO, |start| now.duration_since(start));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate_limit: Option<u32>, concurrency_limit: Option<u32>) -> Limits {
        Limits::new(&Settings {
            rate_limit,
            concurrency_limit,
            ..Settings::default()
        })
    }

    #[test]
    fn many_users_keep_their_own_counters() {
        let limits = limits(Some(3), None);
        let logins: Vec<String> = (0..500).map(|n| format!("user{n}")).collect();

        for round in 1..=3 {
            for login in &logins {
                let (permit, report) = limits.begin(login);
                assert!(permit.is_ok(), "{login} round {round}");
                assert_eq!(report.remaining, 3 - round, "{login} round {round}");
            }
        }

        for login in &logins {
            let (permit, report) = limits.begin(login);
            assert!(matches!(permit, Err(LimitExceeded::Rate { .. })), "{login}");
            assert_eq!(report.remaining, 0, "{login}");
        }
        let snapshot = limits.snapshot();
        assert_eq!(snapshot["users"].as_array().map(Vec::len), Some(500));
    }

    #[test]
    fn permit_frees_its_slot_and_clear_forgets_users() {
        let limits = limits(None, Some(1));

        let (first, report) = limits.begin("a");
        assert!(first.is_ok());
        assert_eq!(report.running, 1);
        let (second, _) = limits.begin("a");
        assert_eq!(
            second.err(),
            Some(LimitExceeded::Concurrency { calls_to_finish: 1 })
        );
        drop(first);
        let (third, report) = limits.begin("a");
        assert!(third.is_ok());
        assert_eq!(report.running, 1);

        limits.clear();
        assert_eq!(limits.snapshot()["users"].as_array().map(Vec::len), Some(0));
        let (_, report) = limits.begin("a");
        assert_eq!(report.remaining, UNLIMITED_CALLS - 1);
    }
}
