//! The `qualys-mock` binary: option precedence, health checks and shutdown.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

fn config_output(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(BINARY);
    command.args(args).env_clear().envs(env.iter().copied());
    command.output().expect("binary runs")
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let dir = std::env::temp_dir().join(format!("qualys-mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mock.toml");
    std::fs::write(
        &file,
        "page_size = 10\nid_start = 5\nrate_limit = 9\nusers = [\"ann:Secret-From-File\"]\n",
    )
    .unwrap();
    let file_arg = file.to_str().unwrap();

    let output = config_output(
        &["--config", file_arg, "--page-size", "30", "config"],
        &[
            ("QUALYS_MOCK_PAGE_SIZE", "20"),
            ("QUALYS_MOCK_ID_START", "7"),
        ],
    );
    std::fs::remove_dir_all(&dir).ok();

    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("page_size = 30\n"), "flag wins: {printed}");
    assert!(
        printed.contains("id_start = 7\n"),
        "env beats file: {printed}"
    );
    assert!(
        printed.contains("rate_limit = 9\n"),
        "file beats default: {printed}"
    );
    assert!(
        printed.contains("session_timeout = 3600\n"),
        "default: {printed}"
    );
    assert!(printed.contains("ann:********"), "{printed}");
    assert!(
        !printed.contains("Secret-From-File"),
        "password printed: {printed}"
    );
}

#[test]
fn bad_config_file_is_named() {
    let dir = std::env::temp_dir().join(format!("qualys-mock-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "page_sise = 10\n").unwrap();

    let output = config_output(&["--config", file.to_str().unwrap(), "config"], &[]);
    let missing = config_output(&["--config", "/nonexistent/mock.toml", "config"], &[]);
    std::fs::remove_dir_all(&dir).ok();

    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        message.contains("bad.toml") && message.contains("page_sise"),
        "{message}"
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/mock.toml"));
}

#[tokio::test]
async fn healthcheck_reports_a_running_mock() {
    let mock = Mock::start().await;
    let address = mock.server.address().to_string();

    let healthy = tokio::process::Command::new(BINARY)
        .args(["healthcheck", "--address", &address])
        .status()
        .await
        .unwrap();
    drop(mock);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let gone = tokio::process::Command::new(BINARY)
        .args(["healthcheck", "--address", &address])
        .output()
        .await
        .unwrap();

    assert!(healthy.success());
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains(&address));
}

#[test]
fn binary_serves_and_stops_on_sigterm() {
    let (mut child, address) = spawn_binary(&[]);

    let healthy = Command::new(BINARY)
        .args(["healthcheck", "--address", &address])
        .status()
        .unwrap();
    let status = terminate(&mut child, Duration::from_secs(5));

    assert!(healthy.success());
    let status = status.expect("the server stops after SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn every_option_is_read_from_the_file() {
    let dir = std::env::temp_dir().join(format!("qualys-mock-allkeys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("all.toml");
    let text = "journal_size = 5\nclock = \"2020-01-02T03:04:05Z\"\nadmin_token = \"t\"\nstate_interval = 7\n\
                tls_listen = \"127.0.0.1:0\"\ntls_names = [\"qualys.test\"]\nidle_timeout = 9\n";
    std::fs::write(&file, text).unwrap();

    let output = config_output(&["--config", file.to_str().unwrap(), "config"], &[]);
    std::fs::remove_dir_all(&dir).ok();

    let printed = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "journal_size = 5",
        "clock = \"2020-01-02T03:04:05Z\"",
        "admin_token = \"********\"",
        "state_interval = 7",
        "tls_listen = \"127.0.0.1:0\"",
        "tls_names = [\"qualys.test\"]",
        "idle_timeout = 9",
    ] {
        assert!(
            printed.contains(expected),
            "{expected} missing from:\n{printed}"
        );
    }
}
