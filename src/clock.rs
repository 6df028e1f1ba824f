//! The time every DATETIME and record stamp is read from: the system clock,
//! or a frozen instant so whole responses can be compared byte for byte.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use compact_str::CompactString;
use parking_lot::RwLock;
use time::OffsetDateTime;

use crate::xml::record_list::format_datetime;

/// The mock's clock.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    frozen: RwLock<Option<OffsetDateTime>>,
    /// Whether `frozen` holds an instant, written under its write lock. Every
    /// request reads the clock, and a running clock, the usual case, is then
    /// read without touching the lock, which both worker threads would
    /// otherwise write to on every call.
    is_frozen: AtomicBool,
}

impl Clock {
    pub(crate) fn new(frozen: Option<OffsetDateTime>) -> Clock {
        Clock {
            is_frozen: AtomicBool::new(frozen.is_some()),
            frozen: RwLock::new(frozen.map(whole_seconds)),
        }
    }

    /// The current time, truncated to whole seconds as Qualys shows it.
    pub(crate) fn now(&self) -> OffsetDateTime {
        match self.frozen() {
            Some(at) => at,
            None => whole_seconds(OffsetDateTime::now_utc()),
        }
    }

    /// Returns the current time as Qualys writes it, `2018-02-13T21:16:41Z`. Each
    /// thread formats a running clock's time once a second.
    pub(crate) fn now_text(&self) -> CompactString {
        if let Some(at) = self.frozen() {
            return format_datetime(at);
        }
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        thread_local! {
            static LAST: RefCell<Option<(u64, CompactString)>> = const { RefCell::new(None) };
        }
        LAST.with_borrow_mut(|last| match last {
            Some((at, text)) if *at == seconds => text.clone(),
            _ => {
                let text = i64::try_from(seconds)
                    .ok()
                    .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok())
                    .map_or_else(|| format_datetime(self.now()), format_datetime);
                *last = Some((seconds, text.clone()));
                text
            }
        })
    }

    /// Freezes the clock at `at`, or lets it run again with `None`.
    pub(crate) fn set(&self, at: Option<OffsetDateTime>) {
        let mut frozen = self.frozen.write();
        *frozen = at.map(whole_seconds);
        self.is_frozen.store(at.is_some(), Ordering::Release);
    }

    /// The frozen instant, if the clock is frozen.
    pub(crate) fn frozen(&self) -> Option<OffsetDateTime> {
        if !self.is_frozen.load(Ordering::Acquire) {
            return None;
        }
        *self.frozen.read()
    }
}

fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` or any RFC 3339 time.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|e| {
        format!("invalid time '{text}': {e}; expected a time such as 2020-01-02T03:04:05Z")
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn text_is_the_time_of_the_clock() {
        let clock = Clock::new(None);
        for _ in 0..3 {
            let before = format_datetime(clock.now());
            let text = clock.now_text();
            let after = format_datetime(clock.now());
            assert!(
                text == before || text == after,
                "{text} not {before} or {after}"
            );
        }

        clock.set(Some(datetime!(2020-01-02 03:04:05.5 UTC)));
        assert_eq!(clock.now_text(), "2020-01-02T03:04:05Z");
        clock.set(None);
        assert_ne!(clock.now_text(), "2020-01-02T03:04:05Z");
    }
}
