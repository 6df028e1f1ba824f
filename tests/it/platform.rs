//! Platform behaviours around the record endpoints: accounts, sessions, rate
//! and concurrency limits, the generic list, tenants and the about page.

use std::time::Duration;

use qualys_mock::MockServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

const LIMIT_HEADERS: [&str; 6] = [
    "x-ratelimit-limit",
    "x-ratelimit-window-sec",
    "x-ratelimit-remaining",
    "x-ratelimit-towait-sec",
    "x-concurrency-limit-limit",
    "x-concurrency-limit-running",
];

fn header(reply: &Reply, name: &str) -> u64 {
    let value = reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"));
    value.to_str().unwrap().parse().unwrap()
}

fn as_user(mock: &Mock, login: &str, password: &str) -> reqwest::RequestBuilder {
    mock.client
        .get(mock.server.url(VMWARE))
        .basic_auth(login, Some(password))
        .header("X-Requested-With", "t")
        .query(&[("action", "list")])
}

#[tokio::test]
async fn configured_users_need_the_right_password() {
    let mock = Mock::with(MockServer::builder().user("alice", "wonder")).await;

    let right = send(as_user(&mock, "alice", "wonder")).await;
    let wrong = send(as_user(&mock, "alice", "guess")).await;
    let stranger = send(as_user(&mock, "mallory", "wonder")).await;

    assert_eq!(right.status, 200);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.text(), "Bad Login/Password");
    assert_eq!(stranger.status, 401);
}

#[tokio::test]
async fn session_cookie_replaces_basic_auth() {
    let mock = Mock::with(MockServer::builder().user("alice", "wonder")).await;
    let session_url = mock.server.url("/api/2.0/fo/session/");
    let login = mock
        .client
        .post(&session_url)
        .header("X-Requested-With", "t")
        .form(&[
            ("action", "login"),
            ("username", "alice"),
            ("password", "wonder"),
        ]);

    let logged_in = send(login).await;
    let cookie = logged_in.headers["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = || {
        mock.client
            .post(mock.server.url(VMWARE))
            .header("X-Requested-With", "t")
            .header("Cookie", &token)
    };
    let created = send(with_cookie().form(&[
        ("action", "create"),
        ("title", "via-session"),
        ("username", "u"),
        ("password", "p"),
        ("ips", "10.0.0.1"),
    ]))
    .await;
    let listed = send(with_cookie().form(&[("action", "list")])).await;
    let logout = send(
        mock.client
            .post(&session_url)
            .header("X-Requested-With", "t")
            .header("Cookie", &token)
            .form(&[("action", "logout")]),
    )
    .await;
    let after_logout = send(with_cookie().form(&[("action", "list")])).await;

    assert_eq!(logged_in.status, 200);
    assert_eq!(logged_in.text(), "Logged in");
    assert!(token.starts_with("QualysSession="), "{cookie}");
    assert!(!logged_in.body.contains(&token[14..]), "token in body");
    assert!(
        LIMIT_HEADERS
            .iter()
            .all(|h| !logged_in.headers.contains_key(*h)),
        "session API has no limit headers"
    );
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(listed.texts("BY"), ["alice", "alice"]);
    assert_eq!(logout.text(), "Logged out");
    assert_eq!(after_logout.status, 401);
}

#[tokio::test]
async fn session_owner_is_the_login() {
    let mock = Mock::start().await;
    let session_url = mock.server.url("/api/2.0/fo/session/");
    let login = send(
        mock.client
            .post(&session_url)
            .header("X-Requested-With", "t")
            .form(&[
                ("action", "login"),
                ("username", "carol"),
                ("password", "x"),
            ]),
    )
    .await;
    let token = login.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let create = mock
        .client
        .post(mock.server.url(VMWARE))
        .header("X-Requested-With", "t")
        .header("Cookie", &token)
        .form(&[
            ("action", "create"),
            ("title", "c"),
            ("username", "u"),
            ("password", "p"),
            ("ips", "10.0.0.1"),
        ]);
    send(create).await;

    assert_eq!(mock.list_vmware(&[]).await.texts("BY"), ["carol", "carol"]);
}

#[tokio::test]
async fn unknown_and_expired_sessions_get_401() {
    let mock = Mock::with(MockServer::builder().session_timeout(Duration::from_millis(300))).await;
    let session_url = mock.server.url("/api/2.0/fo/session/");
    let login = send(
        mock.client
            .post(&session_url)
            .header("X-Requested-With", "t")
            .form(&[("action", "login"), ("username", "dave"), ("password", "x")]),
    )
    .await;
    let token = login.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let list_with = |cookie: String| {
        mock.client
            .get(mock.server.url(VMWARE))
            .header("X-Requested-With", "t")
            .header("Cookie", cookie)
            .query(&[("action", "list")])
    };

    let unknown = send(list_with("QualysSession=not-a-session".to_owned())).await;
    let fresh = send(list_with(token.clone())).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = send(list_with(token)).await;

    assert_eq!(unknown.status, 401);
    assert!(unknown.text().contains("Session"), "{}", unknown.text());
    assert_eq!(fresh.status, 200);
    assert_eq!(expired.status, 401);
}

#[tokio::test]
async fn session_login_needs_credentials_and_header() {
    let mock = Mock::with(MockServer::builder().user("alice", "wonder")).await;
    let url = mock.server.url("/api/2.0/fo/session/");

    let no_header = send(mock.client.post(&url).form(&[
        ("action", "login"),
        ("username", "alice"),
        ("password", "wonder"),
    ]))
    .await;
    let wrong = send(
        mock.client
            .post(&url)
            .header("X-Requested-With", "t")
            .form(&[
                ("action", "login"),
                ("username", "alice"),
                ("password", "no"),
            ]),
    )
    .await;
    let missing = send(
        mock.client
            .post(&url)
            .header("X-Requested-With", "t")
            .form(&[("action", "login")]),
    )
    .await;

    assert_eq!(no_header.status, 400);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.code().as_deref(), Some("2000"));
    assert_eq!(missing.code().as_deref(), Some("1903"));
}

#[tokio::test]
async fn every_api_answer_carries_limit_headers() {
    let mock = Mock::start().await;
    let anonymous = mock
        .client
        .get(mock.server.url(VMWARE))
        .header("X-Requested-With", "t");

    let replies = [
        mock.list_vmware(&[]).await,
        mock.post(VMWARE, &[("action", "create")]).await,
        send(anonymous).await,
        mock.get("/api/2.0/fo/auth/", &[("action", "list")]).await,
    ];

    for reply in &replies {
        for name in LIMIT_HEADERS {
            assert!(
                reply.headers.contains_key(name),
                "{name} missing on {}",
                reply.status
            );
        }
        assert!(
            header(reply, "x-ratelimit-remaining") > 0,
            "Remaining is 0 with no limit set"
        );
        assert_eq!(header(reply, "x-ratelimit-towait-sec"), 0);
    }
}

#[tokio::test]
async fn rate_limit_returns_409_and_a_wait() {
    let mock = Mock::with(MockServer::builder().rate_limit(2, Duration::from_secs(2))).await;

    let first = mock.list_vmware(&[]).await;
    let second = mock.list_vmware(&[]).await;
    let third = mock.list_vmware(&[]).await;

    assert_eq!(header(&first, "x-ratelimit-limit"), 2);
    assert_eq!(header(&first, "x-ratelimit-window-sec"), 2);
    assert_eq!(header(&first, "x-ratelimit-remaining"), 1);
    assert_eq!(header(&second, "x-ratelimit-remaining"), 0);
    assert_eq!(third.status, 409);
    assert_eq!(third.code().as_deref(), Some("1965"));
    assert_eq!(third.texts("KEY"), ["SECONDS_TO_WAIT"]);
    let wait = header(&third, "x-ratelimit-towait-sec");
    assert!((1..=2).contains(&wait), "ToWait {wait}");
    assert_eq!(third.texts("VALUE"), [wait.to_string()]);
}

#[tokio::test]
async fn client_that_honours_the_wait_succeeds() {
    let mock = Mock::with(MockServer::builder().rate_limit(1, Duration::from_secs(1))).await;
    mock.list_vmware(&[]).await;

    let mut attempts = 0;
    let reply = loop {
        attempts += 1;
        let reply = mock.list_vmware(&[]).await;
        if reply.status != 409 || attempts == 5 {
            break reply;
        }
        let wait = header(&reply, "x-ratelimit-towait-sec");
        tokio::time::sleep(Duration::from_secs(wait)).await;
    };

    assert_eq!(reply.status, 200);
    assert_eq!(attempts, 2);
}

#[tokio::test]
async fn limits_are_counted_per_user() {
    let mock = Mock::with(MockServer::builder().rate_limit(1, Duration::from_secs(60))).await;

    let alice = send(as_user(&mock, "alice", "x")).await;
    let alice_again = send(as_user(&mock, "alice", "x")).await;
    let bob = send(as_user(&mock, "bob", "x")).await;

    assert_eq!(alice.status, 200);
    assert_eq!(alice_again.status, 409);
    assert_eq!(bob.status, 200);
}

#[tokio::test]
async fn concurrency_limit_returns_409() {
    let mock = Mock::with(MockServer::builder().concurrency_limit(1)).await;
    // A request whose body never finishes arriving keeps its slot taken.
    let mut stalled = tokio::net::TcpStream::connect(mock.server.address())
        .await
        .unwrap();
    let head = "POST /api/2.0/fo/auth/vmware/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dGVzdGVyOng=\r\n\
                X-Requested-With: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\naction=";
    stalled.write_all(head.as_bytes()).await.unwrap();

    let mut blocked = None;
    for _ in 0..50 {
        let reply = mock.list_vmware(&[]).await;
        if reply.status == 409 {
            blocked = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stalled.write_all(b"list").await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = stalled.read(&mut answer).await.unwrap();
    let after = mock.list_vmware(&[]).await;

    let blocked = blocked.expect("a second call was turned away while the first ran");
    assert_eq!(blocked.code().as_deref(), Some("1960"));
    assert_eq!(blocked.texts("KEY"), ["CALLS_TO_FINISH"]);
    assert_eq!(header(&blocked, "x-concurrency-limit-limit"), 1);
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"));
    assert_eq!(after.status, 200);
}

#[tokio::test]
async fn generic_list_groups_ids_by_type() {
    let mock = Mock::with(MockServer::builder().require_vcenter_record(false)).await;
    mock.create_vmware("v1", "10.0.0.1", &[]).await;
    mock.create_vmware("v2", "10.0.0.2", &[]).await;
    mock.post(
        UNIX,
        &[
            ("action", "create"),
            ("title", "u"),
            ("username", "u"),
            ("password", "p"),
            ("ips", "10.0.0.1"),
        ],
    )
    .await;
    mock.post(
        VCENTER,
        &[
            ("action", "create"),
            ("title", "c"),
            ("username", "u"),
            ("password", "p"),
            ("ips", "10.0.9.1"),
        ],
    )
    .await;

    let all = mock.get("/api/2.0/fo/auth/", &[("action", "list")]).await;
    let vmware = mock
        .get(
            "/api/2.0/fo/auth/",
            &[("action", "list"), ("type", "vmware")],
        )
        .await;
    let bounded = mock
        .get("/api/2.0/fo/auth/", &[("action", "list"), ("id_min", "2")])
        .await;
    let bad = mock
        .get(
            "/api/2.0/fo/auth/",
            &[("action", "list"), ("type", "windows")],
        )
        .await;

    assert_eq!(all.root(), "AUTH_RECORDS_OUTPUT");
    assert!(
        all.body.contains("<AUTH_UNIX_IDS>\n<ID_SET>\n<ID>3</ID>"),
        "{}",
        all.body
    );
    assert!(
        all.body
            .contains("<AUTH_VMWARE_IDS>\n<ID_SET>\n<ID_RANGE>1-2</ID_RANGE>"),
        "{}",
        all.body
    );
    assert!(
        all.body
            .contains("<AUTH_VCENTER_IDS>\n<ID_SET>\n<ID>4</ID>"),
        "{}",
        all.body
    );
    assert_eq!(count(&vmware.body, "AUTH_UNIX_IDS"), 0);
    assert_eq!(bounded.texts("ID"), ["3", "2", "4"]);
    assert_eq!(bad.code().as_deref(), Some("1905"));
}

#[tokio::test]
async fn isolated_users_do_not_collide() {
    let mock = Mock::with(MockServer::builder().isolate_users(true)).await;
    let create = |login: &'static str| {
        mock.client
            .post(mock.server.url(VMWARE))
            .basic_auth(login, Some("x"))
            .header("X-Requested-With", "t")
            .form(&[
                ("action", "create"),
                ("title", "shared-title"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.1"),
            ])
    };

    let (job_a, job_b) = tokio::join!(send(create("job-a")), send(create("job-b")));

    assert_eq!(job_a.status, 200, "{}", job_a.body);
    assert_eq!(job_b.status, 200, "{}", job_b.body);
    assert_eq!(job_a.texts("ID"), ["1"]);
    assert_eq!(job_b.texts("ID"), ["1"]);
    let seen_by_a = send(as_user(&mock, "job-a", "x")).await;
    assert_eq!(seen_by_a.texts("BY"), ["job-a", "job-a"]);
    assert_eq!(
        mock.list_vmware(&[]).await.texts("ID"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn about_page_answers_with_limit_headers() {
    let mock = Mock::start().await;
    let response = mock
        .client
        .get(mock.server.url("/msp/about.php"))
        .basic_auth("u", Some("p"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
    let body = response.text().await.unwrap();
    xmllint_valid(&body, "about.dtd");
}

#[tokio::test]
async fn wrong_method_on_a_dtd_gets_xml() {
    let mock = Mock::start().await;

    let reply = send(
        mock.client
            .post(mock.server.url("/api/2.0/batch_return.dtd")),
    )
    .await;

    assert_eq!(reply.status, 405);
    assert_eq!(reply.code().as_deref(), Some("1908"));
}
