//! The time every DATETIME and record stamp is read from: the system clock,
//! or a frozen instant so whole responses can be compared byte for byte.

use parking_lot::RwLock;
use time::OffsetDateTime;

/// The mock's clock.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    frozen: RwLock<Option<OffsetDateTime>>,
}

impl Clock {
    pub(crate) fn new(frozen: Option<OffsetDateTime>) -> Clock {
        Clock {
            frozen: RwLock::new(frozen.map(whole_seconds)),
        }
    }

    /// The current time, truncated to whole seconds as Qualys shows it.
    pub(crate) fn now(&self) -> OffsetDateTime {
        match *self.frozen.read() {
            Some(at) => at,
            None => whole_seconds(OffsetDateTime::now_utc()),
        }
    }

    /// Freezes the clock at `at`, or lets it run again with `None`.
    pub(crate) fn set(&self, at: Option<OffsetDateTime>) {
        *self.frozen.write() = at.map(whole_seconds);
    }

    /// The frozen instant, if the clock is frozen.
    pub(crate) fn frozen(&self) -> Option<OffsetDateTime> {
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
