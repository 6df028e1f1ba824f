//! HTTPS with the generated local CA, checked by curl trusting only that CA.

use qualys_mock::MockServer;

use crate::support::*;

async fn curl(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new("curl")
        .args(["-s", "-S", "--max-time", "10"])
        .args(args)
        .output()
        .await
        .expect("curl must be installed")
}

#[tokio::test]
async fn https_is_trusted_through_the_generated_ca() {
    let mock = Mock::with(MockServer::builder().https()).await;
    mock.create_vmware("over-http", "10.0.0.1", &[]).await;
    let dir = std::env::temp_dir().join(format!("qualys-mock-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, mock.server.ca_certificate_pem().unwrap()).unwrap();
    let https = mock.server.https_uri().unwrap();
    let port = https.rsplit(':').next().unwrap().to_owned();
    let list = |base: String| format!("{base}/api/2.0/fo/auth/vmware/?action=list");
    let common = [
        "-u",
        "u:p",
        "-H",
        "X-Requested-With: curl",
        "--cacert",
        ca.to_str().unwrap(),
    ];

    let by_name = curl(&[&common[..], &[list(https.clone()).as_str()]].concat()).await;
    let by_ip = curl(
        &[
            &common[..],
            &[list(format!("https://127.0.0.1:{port}")).as_str()],
        ]
        .concat(),
    )
    .await;
    let untrusted = curl(&["-u", "u:p", "-H", "X-Requested-With: curl", &list(https)]).await;
    std::fs::remove_dir_all(&dir).ok();

    let body = String::from_utf8(by_name.stdout).unwrap();
    assert!(
        by_name.status.success(),
        "{}",
        String::from_utf8_lossy(&by_name.stderr)
    );
    xmllint_valid(&body, "auth_vmware_list_output.dtd");
    assert_eq!(
        texts(&body, "TITLE"),
        ["over-http"],
        "HTTP and HTTPS share one store"
    );
    let https_doctype = format!("SYSTEM \"https://localhost:{port}/api/2.0/");
    assert!(body.contains(&https_doctype), "{body}");
    assert!(
        by_ip.status.success(),
        "{}",
        String::from_utf8_lossy(&by_ip.stderr)
    );
    assert!(
        !untrusted.status.success(),
        "a client without the CA must not trust the mock"
    );
}

#[tokio::test]
async fn binary_writes_the_ca_for_clients() {
    let dir = std::env::temp_dir().join(format!("qualys-mock-tls-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_qualys-mock"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-name",
            "qualys.test",
        ])
        .arg("--tls-ca-out")
        .arg(&ca)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let mut https_port = None;
    for _ in 0..20 {
        let Some(line) = lines.next_line().await.unwrap() else {
            break;
        };
        if let Some(rest) = line.split("listening on https://127.0.0.1:").nth(1) {
            https_port = Some(rest.trim().to_owned());
            break;
        }
    }
    let port = https_port.expect("the HTTPS address is logged");
    let url = format!("https://localhost:{port}/msp/about.php");

    let output = curl(&["-u", "u:p", "--cacert", ca.to_str().unwrap(), &url]).await;
    child.kill().await.ok();
    std::fs::remove_dir_all(&dir).ok();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    xmllint_valid(&String::from_utf8(output.stdout).unwrap(), "about.dtd");
}
