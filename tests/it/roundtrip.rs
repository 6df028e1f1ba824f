//! Any title, username or comment either comes back from list exactly as it
//! was sent, or is rejected with a clear error that names the field.

use proptest::prelude::*;
use qualys_mock::MockServer;

use crate::support::*;

fn blocking_send(request: reqwest::blocking::RequestBuilder) -> Reply {
    let response = request.send().expect("request reaches the mock");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let reply = Reply {
        status,
        content_type,
        headers,
        body: response.text().unwrap(),
    };
    reply.validate();
    reply
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,30}",
        "[a-zA-Z0-9 <&>\"'\\t\\r\\n\\x00-\\x1f\\x7f]{0,20}",
        "\\PC{0,40}",
        "[a-z]{250,260}",
        "[a-z ]{1990,2010}",
    ]
}

#[test]
fn text_fields_round_trip_or_are_rejected() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let client = reqwest::blocking::Client::new();
    let url = server.url(VMWARE);
    let request = |form: &[(&str, &str)]| {
        client
            .post(&url)
            .basic_auth("rt", Some("x"))
            .header("X-Requested-With", "t")
            .form(form)
    };
    let counter = std::sync::atomic::AtomicU32::new(0);

    let config = ProptestConfig {
        cases: 150,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(title in text(), username in text(), comments in text())| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let ip = format!("10.{}.{}.1", n / 256, n % 256);
        let created = blocking_send(request(&[("action", "create"), ("title", &title), ("username", &username), ("password", "p"), ("ips", &ip), ("comments", &comments)]));

        if created.status == 200 && created.code().is_none() {
            let id = created.texts("ID")[0].clone();
            let listed = blocking_send(client.get(&url).basic_auth("rt", Some("x")).header("X-Requested-With", "t").query(&[("action", "list"), ("ids", &id)]));
            prop_assert_eq!(listed.texts("TITLE"), vec![title.clone()]);
            prop_assert_eq!(listed.texts("USERNAME"), vec![username.clone()]);
            let expected_comments: Vec<String> = if comments.is_empty() { vec![] } else { vec![comments.clone()] };
            prop_assert_eq!(listed.texts("COMMENTS"), expected_comments);
            blocking_send(request(&[("action", "delete"), ("ids", &id)]));
        } else {
            prop_assert_eq!(created.status, 400, "{}", created.body);
            let code = created.code().unwrap_or_default();
            prop_assert!(code == "1903" || code == "1905", "{}", created.body);
            let message = created.text();
            prop_assert!(["title", "username", "comments"].iter().any(|f| message.contains(f)), "{}", message);
        }
    });
}

#[tokio::test]
async fn ten_megabyte_values_are_rejected() {
    let mock = Mock::start().await;
    let huge = "c".repeat(10 * 1024 * 1024);

    let reply = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "t"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.1"),
                ("comments", &huge),
            ],
        )
        .await;

    assert_eq!(reply.status, 413);
    assert_eq!(reply.code().as_deref(), Some("1905"));
    assert_eq!(count(&mock.list_vmware(&[]).await.body, "AUTH_VMWARE"), 0);
}
