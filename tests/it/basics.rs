//! The request checks every call passes through, the DTD routes, and the
//! documentation's own curl example.

use crate::support::*;

#[tokio::test]
async fn spec_curl_example_creates_a_record() {
    let mock = Mock::start().await;
    let dir = std::env::temp_dir().join(format!("qualys-mock-curl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let headers = dir.join("headers.txt");

    // The documented request, unchanged but for the host and a header dump.
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-D"])
        .arg(&headers)
        .args([
            "-u",
            "USERNAME:PASSWORD",
            "-H",
            "X-Requested-With: Curl",
            "-X",
            "POST",
            "-d",
            "action=create&title=NewVMwareRecordWithAPI&username=USERNAME&password=PASSWORD&ips=10.10.10.2-10.10.10.4",
        ])
        .arg(mock.server.url(VMWARE))
        .output()
        .await
        .expect("curl must be installed");
    let body = String::from_utf8(output.stdout).unwrap();
    let head = std::fs::read_to_string(&headers).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    assert!(head.starts_with("HTTP/1.1 200"), "status line: {head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: text/xml;charset=utf-8"));
    xmllint_valid(&body, "batch_return.dtd");
    assert_eq!(texts(&body, "TEXT"), ["Successfully Created"]);
    assert_eq!(texts(&body, "ID"), ["1"]);
    assert_eq!(texts(&body, "CODE"), Vec::<String>::new());
}

#[tokio::test]
async fn missing_credentials_get_401() {
    let mock = Mock::start().await;
    let request = mock
        .client
        .get(mock.server.url(VMWARE))
        .header("X-Requested-With", "t")
        .query(&[("action", "list")]);

    let reply = send(request).await;

    assert_eq!(reply.status, 401);
    assert_eq!(reply.code().as_deref(), Some("2000"));
    assert_eq!(reply.text(), "Bad Login/Password");
    assert!(reply.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn malformed_credentials_get_401() {
    let mock = Mock::start().await;
    for value in ["Basic not-base64!", "Bearer abc", "Basic", "Basic Og=="] {
        let request = mock
            .client
            .get(mock.server.url(VMWARE))
            .header("Authorization", value)
            .header("X-Requested-With", "t")
            .query(&[("action", "list")]);

        let reply = send(request).await;

        assert_eq!(reply.status, 401, "Authorization: {value}");
        assert_eq!(
            reply.code().as_deref(),
            Some("2000"),
            "Authorization: {value}"
        );
    }
}

#[tokio::test]
async fn missing_requested_with_is_rejected() {
    let mock = Mock::start().await;
    let request = mock
        .client
        .post(mock.server.url(VMWARE))
        .basic_auth("u", Some("p"))
        .form(&[
            ("action", "create"),
            ("title", "t"),
            ("username", "u"),
            ("password", "p"),
            ("ips", "10.0.0.1"),
        ]);

    let reply = send(request).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.code().as_deref(), Some("1903"));
    assert!(
        reply.text().contains("X-Requested-With"),
        "{}",
        reply.text()
    );
    assert_eq!(mock.list_vmware(&[]).await.texts("ID").len(), 0);
}

#[tokio::test]
async fn query_and_body_merge_whatever_the_content_type() {
    let mock = Mock::start().await;
    let request = mock
        .request(reqwest::Method::POST, VMWARE)
        .query(&[
            ("action", "create"),
            ("title", "from-query"),
            ("ips", "10.1.1.1"),
        ])
        .header("Content-Type", "application/json")
        .body("username=root&password=pw");

    let reply = send(request).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let list = mock.list_vmware(&[]).await;
    assert_eq!(list.texts("TITLE"), ["from-query"]);
    assert_eq!(list.texts("USERNAME"), ["root"]);
}

#[tokio::test]
async fn path_without_trailing_slash_is_served() {
    let mock = Mock::start().await;

    let reply = mock
        .get("/api/2.0/fo/auth/vmware", &[("action", "list")])
        .await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.root(), "AUTH_VMWARE_LIST_OUTPUT");
}

#[tokio::test]
async fn dtds_are_served_at_their_doctype_urls() {
    let mock = Mock::start().await;
    let cases = [
        ("/api/2.0/batch_return.dtd", "batch_return.dtd"),
        ("/api/2.0/simple_return.dtd", "simple_return.dtd"),
        (
            "/api/2.0/fo/auth/vmware/auth_vmware_list_output.dtd",
            "auth_vmware_list_output.dtd",
        ),
        (
            "/api/2.0/fo/auth/vmware/dtd/auth_list_output.dtd",
            "auth_vmware_list_output.dtd",
        ),
        (
            "/api/2.0/fo/auth/unix/auth_unix_list_output.dtd",
            "auth_unix_list_output.dtd",
        ),
        (
            "/api/2.0/fo/auth/vcenter/auth_vcenter_list_output.dtd",
            "auth_vcenter_list_output.dtd",
        ),
    ];

    for (path, file) in cases {
        let response = reqwest::get(mock.server.url(path)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let served = response.text().await.unwrap();
        let shipped = std::fs::read_to_string(dtd_dir().join(file)).unwrap();
        assert_eq!(served, shipped, "{path}");
    }
}

#[tokio::test]
async fn doctype_points_at_the_mock() {
    let mock = Mock::start().await;

    let reply = mock.list_vmware(&[]).await;

    let expected = format!(
        "<!DOCTYPE AUTH_VMWARE_LIST_OUTPUT SYSTEM \"{}/api/2.0/fo/auth/vmware/auth_vmware_list_output.dtd\">",
        mock.server.uri()
    );
    assert!(reply.body.contains(&expected), "{}", reply.body);
}

#[tokio::test]
async fn configured_base_url_is_used_in_doctype() {
    let builder = qualys_mock::MockServer::builder().base_url("http://qualys-mock:8080");
    let mock = Mock::with(builder).await;

    let reply = mock.list_vmware(&[]).await;

    assert!(reply
        .body
        .contains("SYSTEM \"http://qualys-mock:8080/api/2.0/fo/auth/vmware/"));
}

#[tokio::test]
async fn unknown_api_path_gets_xml_404() {
    let mock = Mock::start().await;

    let reply = mock
        .get("/api/2.0/fo/nothing/here/", &[("action", "list")])
        .await;

    assert_eq!(reply.status, 404);
    assert_eq!(reply.root(), "SIMPLE_RETURN");
    assert!(reply.text().contains("/api/2.0/fo/nothing/here/"));
}

#[tokio::test]
async fn unsupported_method_gets_xml_error() {
    let mock = Mock::start().await;

    let reply = send(
        mock.request(reqwest::Method::PUT, VMWARE)
            .query(&[("action", "list")]),
    )
    .await;

    assert_eq!(reply.status, 405);
    assert_eq!(reply.code().as_deref(), Some("1908"));
}

#[tokio::test]
async fn timestamps_use_qualys_format() {
    let mock = Mock::start().await;

    let reply = mock.list_vmware(&[]).await;

    let datetime = &reply.texts("DATETIME")[0];
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    assert!(
        time::PrimitiveDateTime::parse(datetime, format).is_ok(),
        "{datetime}"
    );
}
