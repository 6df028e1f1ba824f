//! The `qualys-mock` binary: read configuration, install logging, serve until
//! Ctrl-C or SIGTERM.

use std::process::ExitCode;

use qualys_mock::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

/// mimalloc serves the many small, short-lived allocations of a request in
/// a fraction of the instructions glibc's allocator takes. Its `no_thp`
/// feature keeps it from asking for transparent huge pages, which would
/// more than double the idle RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::load() {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::Healthcheck { address }) => {
            healthcheck(address.unwrap_or(cli.options.listen))
        }
        Some(Command::Config) => {
            print!("{}", cli.options.to_toml());
            ExitCode::SUCCESS
        }
        Some(Command::Serve) | None => serve(cli).await,
    }
}

async fn serve(cli: Cli) -> ExitCode {
    init_tracing(cli.options.log_format);
    let settings = match cli.options.settings() {
        Ok(settings) => settings,
        Err(message) => {
            tracing::error!("{message}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(settings.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, listen = %settings.listen, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(settings.listen, |addr| addr);
    let base = match &settings.base_url {
        Some(url) => url.clone(),
        None => format!("http://{}", reachable(local)),
    };
    tracing::info!(
        "qualys-mock listening on http://{local}; try: curl -u user:pass -H 'X-Requested-With: curl' \
         '{base}/api/2.0/fo/auth/vmware/?action=list'"
    );
    if let Err(error) = qualys_mock::serve_on(listener, settings, shutdown_signal()).await {
        tracing::error!(%error, "qualys-mock failed");
        // Bad seed data or saved state is a configuration error, like a bad flag.
        let config_error = error.kind() == std::io::ErrorKind::InvalidData;
        return if config_error {
            ExitCode::from(2)
        } else {
            ExitCode::FAILURE
        };
    }
    tracing::info!("qualys-mock stopped");
    ExitCode::SUCCESS
}

/// An address a local client can connect to: loopback in place of an
/// unspecified address such as 0.0.0.0.
fn reachable(address: std::net::SocketAddr) -> std::net::SocketAddr {
    let ip = match address.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    std::net::SocketAddr::new(ip, address.port())
}

fn healthcheck(address: std::net::SocketAddr) -> ExitCode {
    match qualys_mock::healthcheck::check(address) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only help a terminal; they garble files and container logs.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
