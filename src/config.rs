//! Command-line configuration: every option is a flag with an environment
//! variable behind it.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use crate::settings::{Settings, User};

/// A local test double of the Qualys VM API for VMware authentication records.
#[derive(Clone, Debug, Parser)]
#[command(name = "qualys-mock", version, about)]
pub struct Cli {
    /// Address and port to listen on.
    #[arg(long, env = "QUALYS_MOCK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL (scheme, host, port) for DOCTYPE and paging URLs, for a mock
    /// reached under another name such as a container service. Default: the
    /// Host header of each request.
    #[arg(long, env = "QUALYS_MOCK_BASE_URL", value_parser = parse_base_url)]
    pub base_url: Option<String>,

    /// ID of the first record created; IDs then count up and are never reused.
    #[arg(long, env = "QUALYS_MOCK_ID_START", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub id_start: u64,

    /// Maximum number of records in one list response before it ends with a
    /// paging WARNING.
    #[arg(long, env = "QUALYS_MOCK_PAGE_SIZE", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub page_size: u64,

    /// Turns the networks feature on with these comma-separated network IDs,
    /// so network_id must name one of them. Off by default.
    #[arg(long, env = "QUALYS_MOCK_NETWORKS", value_delimiter = ',')]
    pub networks: Option<Vec<u64>>,

    /// Let login_type=vcenter records be created with no vCenter record present.
    #[arg(long, env = "QUALYS_MOCK_NO_VCENTER_CHECK")]
    pub no_vcenter_check: bool,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "QUALYS_MOCK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// An account that may call the API, as NAME:PASSWORD; repeat the flag,
    /// or separate accounts with commas in the variable. With none, any
    /// credentials are accepted.
    #[arg(
        long = "user",
        env = "QUALYS_MOCK_USERS",
        value_delimiter = ',',
        value_name = "NAME:PASSWORD"
    )]
    pub users: Vec<User>,

    /// Lifetime of a QualysSession cookie after login, in seconds.
    #[arg(
        long,
        env = "QUALYS_MOCK_SESSION_TIMEOUT",
        default_value_t = 3600,
        value_name = "SECONDS"
    )]
    pub session_timeout: u64,

    /// Calls each user may make per rate window; off by default.
    #[arg(long, env = "QUALYS_MOCK_RATE_LIMIT", value_name = "CALLS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,

    /// Length of the rate-limit window, in seconds.
    #[arg(long, env = "QUALYS_MOCK_RATE_WINDOW", default_value_t = 3600, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rate_window: u64,

    /// Calls each user may have running at once; off by default.
    #[arg(long, env = "QUALYS_MOCK_CONCURRENCY_LIMIT", value_name = "CALLS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency_limit: Option<u32>,

    /// Give each login its own record store and ID sequence, so parallel test
    /// jobs sharing one server never see each other's records.
    #[arg(long, env = "QUALYS_MOCK_ISOLATE_USERS")]
    pub isolate_users: bool,

    /// Log output format.
    #[arg(
        long,
        env = "QUALYS_MOCK_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

impl Cli {
    /// Converts the parsed options into server settings.
    pub fn settings(&self) -> Settings {
        Settings {
            listen: self.listen,
            base_url: self.base_url.clone(),
            id_start: self.id_start,
            page_size: self.page_size as usize,
            networks: self.networks.clone(),
            require_vcenter_record: !self.no_vcenter_check,
            max_body_bytes: self.max_body_bytes,
            users: self.users.clone(),
            session_timeout: Duration::from_secs(self.session_timeout),
            rate_limit: self.rate_limit,
            rate_window: Duration::from_secs(self.rate_window),
            concurrency_limit: self.concurrency_limit,
            isolate_users: self.isolate_users,
        }
    }
}

/// Accepts an `http://` or `https://` URL with no quotes, spaces or query, and
/// drops a trailing slash so paths can be appended.
fn parse_base_url(value: &str) -> Result<String, String> {
    let has_scheme = value.starts_with("http://") || value.starts_with("https://");
    let plain = !value.contains(['"', '\'', '<', '>', '?', '#', ' ']);
    if !has_scheme || !plain {
        return Err(
            "expected a URL such as http://qualys-mock:8080 (no query, quotes or spaces)"
                .to_owned(),
        );
    }
    Ok(value.trim_end_matches('/').to_owned())
}
