//! Command-line configuration. Every server option is a flag, an environment
//! variable (`QUALYS_MOCK_*`) and a key of the TOML file given by `--config`,
//! with that precedence: flag, then variable, then file, then default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use crate::admin::state_doc::StateDoc;
use crate::settings::{Settings, User};
use crate::tls::TlsSettings;

/// A local test double of the Qualys VM API for VMware authentication records.
#[derive(Clone, Debug, Parser)]
#[command(name = "qualys-mock", version, about)]
pub struct Cli {
    /// What to do; serving is the default.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// TOML file with server options; its keys are the long flag names with
    /// `-` written as `_`.
    #[arg(long, env = "QUALYS_MOCK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Server options.
    #[command(flatten)]
    pub options: Options,
}

/// The subcommands.
#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Serve the mock until Ctrl-C or SIGTERM (the default).
    Serve,
    /// Exit 0 when the mock at ADDRESS passes its health check, 1 otherwise;
    /// for container health checks without curl.
    Healthcheck {
        /// Address of the mock to check; 0.0.0.0 means this machine. Default:
        /// the listen address from the flags, environment or config file.
        #[arg(long)]
        address: Option<SocketAddr>,
    },
    /// Print the effective options as TOML, passwords masked, and exit.
    Config,
}

/// Options of the server.
#[derive(Clone, Debug, clap::Args)]
pub struct Options {
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

    /// Maximum number of records; creates beyond it fail with CODE 1920. No limit by default.
    #[arg(long, env = "QUALYS_MOCK_MAX_RECORDS", value_name = "RECORDS")]
    pub max_records: Option<usize>,

    /// Seconds a connection may wait for the client's next bytes (an idle
    /// keep-alive connection or a request that stops halfway) before it is closed.
    #[arg(long, env = "QUALYS_MOCK_IDLE_TIMEOUT", default_value_t = 60, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,

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

    /// Address of an HTTPS listener to run beside the HTTP one, for clients
    /// that accept only https:// URLs. Off by default.
    #[arg(long, env = "QUALYS_MOCK_TLS_LISTEN", value_name = "ADDR")]
    pub tls_listen: Option<SocketAddr>,

    /// PEM certificate chain for HTTPS. Without it (and --tls-key), a local CA
    /// and a certificate for localhost, 127.0.0.1, ::1 and --tls-name are
    /// generated at start.
    #[arg(
        long,
        env = "QUALYS_MOCK_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(
        long,
        env = "QUALYS_MOCK_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Extra DNS name or IP address for the generated certificate; repeatable.
    #[arg(
        long = "tls-name",
        env = "QUALYS_MOCK_TLS_NAMES",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    pub tls_names: Vec<String>,

    /// File to write the generated CA certificate to (PEM), for clients to
    /// trust with REQUESTS_CA_BUNDLE, SSL_CERT_FILE or curl --cacert.
    #[arg(long, env = "QUALYS_MOCK_TLS_CA_OUT", value_name = "FILE")]
    pub tls_ca_out: Option<PathBuf>,

    /// Seed data (JSON, or TOML by the .toml extension): records, accounts
    /// and networks loaded at start and on POST /__admin/reset.
    #[arg(long, env = "QUALYS_MOCK_SEED", value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Freeze the clock at this time (such as 2020-01-02T03:04:05Z) for every
    /// DATETIME and record stamp.
    #[arg(long, env = "QUALYS_MOCK_CLOCK", value_name = "TIME", value_parser = crate::clock::parse_time)]
    pub clock: Option<time::OffsetDateTime>,

    /// Token the /__admin/ routes require, as "Authorization: Bearer TOKEN" or
    /// "X-Admin-Token: TOKEN"; the health check stays open. Off by default.
    #[arg(long, env = "QUALYS_MOCK_ADMIN_TOKEN", value_name = "TOKEN")]
    pub admin_token: Option<String>,

    /// Number of API calls the request journal keeps.
    #[arg(
        long,
        env = "QUALYS_MOCK_JOURNAL_SIZE",
        default_value_t = 1000,
        value_name = "CALLS"
    )]
    pub journal_size: usize,

    /// Save the records to this file (JSON, passwords included, mode 0600)
    /// on a timer and at shutdown, and restore them at start.
    #[arg(long, env = "QUALYS_MOCK_STATE_FILE", value_name = "FILE")]
    pub state_file: Option<PathBuf>,

    /// How often changed records are saved to --state-file, in seconds.
    #[arg(long, env = "QUALYS_MOCK_STATE_INTERVAL", default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub state_interval: u64,

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// The configuration file: every server option, each optional.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<SocketAddr>,
    base_url: Option<String>,
    id_start: Option<u64>,
    page_size: Option<u64>,
    networks: Option<Vec<u64>>,
    no_vcenter_check: Option<bool>,
    max_body_bytes: Option<usize>,
    max_records: Option<usize>,
    idle_timeout: Option<u64>,
    users: Option<Vec<String>>,
    session_timeout: Option<u64>,
    rate_limit: Option<u32>,
    rate_window: Option<u64>,
    concurrency_limit: Option<u32>,
    isolate_users: Option<bool>,
    tls_listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_names: Option<Vec<String>>,
    tls_ca_out: Option<PathBuf>,
    seed: Option<PathBuf>,
    clock: Option<String>,
    admin_token: Option<String>,
    journal_size: Option<usize>,
    state_file: Option<PathBuf>,
    state_interval: Option<u64>,
    log_format: Option<LogFormat>,
}

impl Cli {
    /// Parses the command line and the environment, then fills every option
    /// that neither set from the configuration file.
    pub fn load() -> Result<Cli, String> {
        Cli::load_from(std::env::args_os())
    }

    /// [`Cli::load`] over explicit arguments, for tests.
    pub fn load_from<I, T>(args: I) -> Result<Cli, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Cli::command()
            .try_get_matches_from(args)
            .map_err(|e| e.render().to_string())?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.to_string())?;
        if let Some(path) = &cli.config {
            let file = read_file(path)?;
            cli.options
                .fill_from(&file, &matches)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(cli)
    }
}

impl Options {
    /// Converts the options into server settings, reading the seed file.
    pub fn settings(&self) -> Result<Settings, String> {
        let seed = match &self.seed {
            Some(path) => {
                Some(StateDoc::read_file(path).map_err(|e| format!("invalid seed data: {e}"))?)
            }
            None => None,
        };
        Ok(Settings {
            listen: self.listen,
            base_url: self.base_url.clone(),
            id_start: self.id_start,
            page_size: self.page_size as usize,
            networks: self.networks.clone(),
            require_vcenter_record: !self.no_vcenter_check,
            max_body_bytes: self.max_body_bytes,
            max_records: self.max_records,
            idle_timeout: Duration::from_secs(self.idle_timeout),
            users: self.users.clone(),
            session_timeout: Duration::from_secs(self.session_timeout),
            rate_limit: self.rate_limit,
            rate_window: Duration::from_secs(self.rate_window),
            concurrency_limit: self.concurrency_limit,
            isolate_users: self.isolate_users,
            tls: self.tls_listen.map(|listen| TlsSettings {
                listen,
                cert: self.tls_cert.clone(),
                key: self.tls_key.clone(),
                names: self.tls_names.clone(),
                ca_out: self.tls_ca_out.clone(),
            }),
            seed,
            clock: self.clock,
            admin_token: self.admin_token.clone(),
            journal_size: self.journal_size,
            state_file: self.state_file.clone(),
            state_interval: Duration::from_secs(self.state_interval),
        })
    }

    /// Writes the options as a configuration file, with passwords masked.
    pub fn to_toml(&self) -> String {
        let users = self
            .users
            .iter()
            .map(|user| format!("{}:********", user.login))
            .collect();
        let file = FileConfig {
            listen: Some(self.listen),
            base_url: self.base_url.clone(),
            id_start: Some(self.id_start),
            page_size: Some(self.page_size),
            networks: self.networks.clone(),
            no_vcenter_check: Some(self.no_vcenter_check),
            max_body_bytes: Some(self.max_body_bytes),
            max_records: self.max_records,
            idle_timeout: Some(self.idle_timeout),
            users: Some(users),
            session_timeout: Some(self.session_timeout),
            rate_limit: self.rate_limit,
            rate_window: Some(self.rate_window),
            concurrency_limit: self.concurrency_limit,
            isolate_users: Some(self.isolate_users),
            tls_listen: self.tls_listen,
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            tls_names: Some(self.tls_names.clone()),
            tls_ca_out: self.tls_ca_out.clone(),
            seed: self.seed.clone(),
            clock: self
                .clock
                .map(|at| crate::xml::record_list::format_datetime(at).into()),
            admin_token: self.admin_token.as_ref().map(|_| "********".to_owned()),
            journal_size: Some(self.journal_size),
            state_file: self.state_file.clone(),
            state_interval: Some(self.state_interval),
            log_format: Some(self.log_format),
        };
        toml::to_string(&file).unwrap_or_default()
    }

    /// Takes each value of `file` whose option the command line and the
    /// environment left at its default.
    fn fill_from(&mut self, file: &FileConfig, matches: &ArgMatches) -> Result<(), String> {
        let unset = |id: &str| {
            !matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        };
        macro_rules! fill {
            ($($field:ident),* $(,)?) => {$(
                if let (true, Some(value)) = (unset(stringify!($field)), &file.$field) {
                    self.$field = value.clone().into();
                }
            )*};
        }
        fill!(
            listen,
            base_url,
            id_start,
            page_size,
            networks,
            no_vcenter_check,
            max_body_bytes,
            max_records,
            idle_timeout,
            session_timeout,
            rate_limit,
            rate_window,
            concurrency_limit,
            isolate_users,
            log_format,
            tls_listen,
            tls_cert,
            tls_key,
            tls_names,
            tls_ca_out,
            seed,
            admin_token,
            journal_size,
            state_file,
            state_interval,
        );
        if let (true, Some(text)) = (unset("clock"), &file.clock) {
            self.clock = Some(crate::clock::parse_time(text)?);
        }
        if let (true, Some(users)) = (unset("users"), &file.users) {
            self.users = users
                .iter()
                .map(|u| u.parse::<User>())
                .collect::<Result<_, _>>()?;
        }
        if let Some(url) = &self.base_url {
            self.base_url = Some(parse_base_url(url)?);
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read configuration file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("invalid configuration file {}: {e}", path.display()))
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
