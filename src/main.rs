//! The `qualys-mock` binary: read configuration, install logging, serve until
//! Ctrl-C or SIGTERM.

use clap::Parser;
use qualys_mock::config::{Cli, LogFormat};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_format);

    let settings = cli.settings();
    let base = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    tracing::info!(
        "qualys-mock listening on {base}; try: curl -u user:pass -H 'X-Requested-With: curl' \
         '{base}/api/2.0/fo/auth/vmware/?action=list'"
    );
    qualys_mock::serve(settings, shutdown_signal()).await?;
    tracing::info!("qualys-mock stopped");
    Ok(())
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
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
