//! Inputs a buggy or hostile client sends: each gets a clear Qualys-style
//! error, leaks no password and leaves the store as it was.

use std::time::{Duration, Instant};

use qualys_mock::MockServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// Sends raw bytes and returns the server's response before it closes.
async fn raw(mock: &Mock, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(mock.server.address())
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn thousands_of_parameters_are_rejected() {
    let mock = Mock::start().await;
    let body: String = (0..5000).map(|n| format!("p{n}=x&")).collect();
    let request = mock
        .request(reqwest::Method::POST, VMWARE)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("{body}action=list"));

    let reply = send(request).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.code().as_deref(), Some("1905"));
    assert!(
        reply.text().contains("more than 1000 parameters"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn unknown_names_are_listed_briefly() {
    let mock = Mock::start().await;
    let body: String = (0..900).map(|n| format!("p{n}=x&")).collect();
    let request = mock
        .request(reqwest::Method::POST, VMWARE)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("{body}action=list"));

    let reply = send(request).await;

    assert_eq!(reply.code().as_deref(), Some("1901"));
    assert!(reply.text().ends_with("and 880 more"), "{}", reply.text());
}

#[tokio::test]
async fn json_body_is_never_echoed() {
    let mock = Mock::start().await;
    let request = mock
        .request(reqwest::Method::POST, VMWARE)
        .query(&[
            ("action", "create"),
            ("title", "t"),
            ("username", "u"),
            ("password", "p"),
            ("ips", "10.0.0.1"),
        ])
        .header("Content-Type", "application/json")
        .body(r#"{"password":"Json-Secret-9"}"#);

    let reply = send(request).await;

    assert_eq!(
        reply.code().as_deref(),
        Some("1901"),
        "the body is read as a form"
    );
    assert!(!reply.body.contains("Json-Secret-9"), "{}", reply.body);
}

#[tokio::test]
async fn password_like_names_are_hidden() {
    let mock = Mock::start().await;
    let request = mock
        .request(reqwest::Method::POST, VMWARE)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("action=create&title=t&username=u&ips=10.0.0.1&password:Colon-Secret");

    let reply = send(request).await;

    assert_eq!(reply.code().as_deref(), Some("1901"));
    assert!(!reply.body.contains("Colon-Secret"), "{}", reply.body);
}

#[tokio::test]
async fn bad_utf8_and_xml_noncharacters_are_rejected() {
    let mock = Mock::start().await;
    let before = mock.snapshot().await;
    for comments in ["caf%E9", "a%EF%BF%BEb", "%ED%A0%80", "%C0%80"] {
        let body =
            format!("action=create&title=t&username=u&password=p&ips=10.0.0.1&comments={comments}");
        let request = mock
            .request(reqwest::Method::POST, VMWARE)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);

        let reply = send(request).await;

        assert_eq!(reply.status, 400, "{comments}: {}", reply.body);
        assert_eq!(reply.code().as_deref(), Some("1905"), "{comments}");
        assert!(
            reply.text().contains("comments"),
            "{comments}: {}",
            reply.text()
        );
    }
    assert_eq!(mock.snapshot().await, before);
}

#[tokio::test]
async fn empty_password_and_blank_title_count_as_missing() {
    let mock = Mock::start().await;

    let no_password = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "t"),
                ("username", "u"),
                ("password", ""),
                ("ips", "10.0.0.1"),
            ],
        )
        .await;
    let blank_title = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "   "),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.1"),
            ],
        )
        .await;

    assert_eq!(no_password.code().as_deref(), Some("1903"));
    assert!(no_password.text().contains("password"));
    assert_eq!(blank_title.code().as_deref(), Some("1903"));
    assert!(blank_title.text().contains("title"));
}

#[tokio::test]
async fn vcenter_records_cannot_log_in_through_vcenter() {
    let mock = Mock::start().await;

    let reply = mock
        .post(
            VCENTER,
            &[
                ("action", "create"),
                ("title", "vc"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.1"),
                ("login_type", "vcenter"),
            ],
        )
        .await;

    assert_eq!(reply.code().as_deref(), Some("1905"));
    assert!(reply.text().contains("login_type"));
}

#[tokio::test]
async fn enumerations_ignore_case_but_not_spaces() {
    let mock = Mock::start().await;

    let upper = mock
        .get(VMWARE, &[("action", "LIST"), ("details", "all")])
        .await;
    let spaced = mock
        .get(VMWARE, &[("action", "list"), ("details", " All")])
        .await;
    let spaced_port = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "t"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.1"),
                ("port", " 443"),
            ],
        )
        .await;

    assert_eq!(upper.status, 200, "{}", upper.body);
    assert_eq!(spaced.code().as_deref(), Some("1905"));
    assert_eq!(spaced_port.code().as_deref(), Some("1905"));
}

#[tokio::test]
async fn method_not_allowed_names_the_allowed_ones() {
    let mock = Mock::start().await;

    let put = mock
        .request(reqwest::Method::PUT, VMWARE)
        .send()
        .await
        .unwrap();
    let head = mock
        .request(reqwest::Method::HEAD, VMWARE)
        .query(&[("action", "list")])
        .send()
        .await
        .unwrap();

    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET, HEAD, POST");
    assert_eq!(head.status(), 200);
}

#[tokio::test]
async fn broken_chunked_body_is_a_400() {
    let mock = Mock::start().await;
    let request = b"POST /api/2.0/fo/auth/vmware/ HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dTpw\r\nX-Requested-With: t\r\n\
Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\naction=list\r\n0\r\n\r\n";

    let answer = raw(&mock, request).await;

    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[tokio::test]
async fn oversized_content_length_is_refused_before_the_body() {
    let mock = Mock::start().await;
    let request = b"POST /api/2.0/fo/auth/vmware/ HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dTpw\r\nX-Requested-With: t\r\n\
Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n";

    let answer = raw(&mock, request).await;

    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("<CODE>1905</CODE>"));
}

#[tokio::test]
async fn odd_host_headers_fall_back_to_the_listen_address() {
    let mock = Mock::start().await;
    for host in ["h:abc", "h:99999", "1.2.3.4:80:80"] {
        let request = format!(
            "GET /api/2.0/fo/auth/vmware/?action=list HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic dTpw\r\nX-Requested-With: t\r\nConnection: close\r\n\r\n"
        );

        let answer = raw(&mock, request.as_bytes()).await;

        let expected = format!("SYSTEM \"{}/api/2.0/", mock.server.uri());
        assert!(answer.contains(&expected), "Host {host}: {answer}");
    }
}

#[tokio::test]
async fn ids_run_out_cleanly() {
    let mock = Mock::with(MockServer::builder().id_start(u64::MAX - 1)).await;

    let last = mock.create_vmware("last", "10.0.0.1", &[]).await;
    let after = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "none-left"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.2"),
            ],
        )
        .await;

    assert_eq!(last, u64::MAX - 1);
    assert_eq!(after.code().as_deref(), Some("1920"));
    assert!(
        after.text().contains("No record IDs are left"),
        "{}",
        after.text()
    );
    assert_eq!(mock.list_vmware(&[]).await.texts("TITLE"), ["last"]);
}

#[tokio::test]
async fn ip_conflicts_are_scoped_by_network() {
    let mock = Mock::with(MockServer::builder().networks([0, 7])).await;
    mock.create_vmware("default-net", "10.48.0.1", &[]).await;

    let other_network = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "net7"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.48.0.1"),
                ("network_id", "7"),
            ],
        )
        .await;
    let same_network = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "net7b"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.48.0.1"),
                ("network_id", "7"),
            ],
        )
        .await;

    assert_eq!(other_network.status, 200, "{}", other_network.body);
    assert_eq!(same_network.code().as_deref(), Some("1920"));
    assert!(same_network.text().contains("net7"));
}

#[test]
fn sigterm_stops_despite_a_stuck_client() {
    let (mut child, address) = spawn_binary(&[]);
    let mut stuck = std::net::TcpStream::connect(&address).unwrap();
    let partial =
        b"POST /api/2.0/fo/auth/vmware/ HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nact";
    std::io::Write::write_all(&mut stuck, partial).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let status = terminate(&mut child, Duration::from_secs(10));
    drop(stuck);

    assert!(
        status.is_some(),
        "the server ignored SIGTERM while a client was stuck"
    );
}

#[tokio::test]
async fn idle_and_stalled_connections_are_closed() {
    let mock = Mock::with(MockServer::builder().idle_timeout(Duration::from_millis(500))).await;
    let mut idle = tokio::net::TcpStream::connect(mock.server.address())
        .await
        .unwrap();
    let mut stalled = tokio::net::TcpStream::connect(mock.server.address())
        .await
        .unwrap();
    stalled.write_all(b"POST /api/2.0/fo/auth/vmware/ HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\naction=").await.unwrap();

    let started = Instant::now();
    let mut buffer = [0u8; 512];
    let idle_read = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buffer)).await;
    let stalled_read =
        tokio::time::timeout(Duration::from_secs(10), stalled.read(&mut buffer)).await;

    assert!(
        matches!(idle_read, Ok(Ok(0)) | Ok(Err(_))),
        "idle connection still open: {idle_read:?}"
    );
    assert!(stalled_read.is_ok(), "stalled request never ended");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        mock.list_vmware(&[]).await.status,
        200,
        "the server still serves others"
    );
}
