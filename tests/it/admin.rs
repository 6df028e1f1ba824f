//! The test-double controls under `/__admin/`: reset, seed data, state
//! export and import, the request journal, fault rules, the clock, the
//! state file and the admin token.

use std::time::Duration;

use qualys_mock::admin::faults::{FaultEffect, FaultSpec};
use qualys_mock::admin::state_doc::{RecordDoc, StateDoc};
use qualys_mock::domain::record::RecordKind;
use qualys_mock::MockServer;
use serde_json::{json, Value};

use crate::support::*;

async fn admin_get(mock: &Mock, path: &str) -> (u16, Value) {
    let response = mock.client.get(mock.server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn admin_send(mock: &Mock, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let response = mock
        .client
        .request(method, mock.server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn seed_doc() -> StateDoc {
    StateDoc {
        vmware: vec![RecordDoc {
            id: Some(100),
            title: "seeded-esx".into(),
            username: "root".into(),
            password: Some("Seed-Secret-1".into()),
            ips: "10.50.0.1-10.50.0.9".into(),
            comments: Some("from the seed".into()),
            ..RecordDoc::default()
        }],
        ..StateDoc::default()
    }
}

#[tokio::test]
async fn health_answers_json() {
    let mock = Mock::start().await;

    let (status, body) = admin_get(&mock, "/__admin/health").await;

    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn seed_is_loaded_and_reset_restores_it() {
    let mock = Mock::with(MockServer::builder().seed(seed_doc())).await;
    mock.create_vmware("added", "10.0.0.1", &[]).await;
    mock.post(VMWARE, &[("action", "delete"), ("ids", "100")])
        .await;

    let (status, _) = admin_send(&mock, reqwest::Method::POST, "/__admin/reset", json!({})).await;
    let list = mock.list_vmware(&[]).await;

    assert_eq!(status, 200);
    assert_eq!(list.texts("TITLE"), ["seeded-esx"]);
    assert_eq!(list.texts("ID"), ["100"]);
    assert_eq!(list.texts("BY"), ["seed", "seed"]);
    assert_eq!(
        mock.create_vmware("next", "10.0.0.2", &[]).await,
        101,
        "IDs continue after the seed"
    );
}

#[tokio::test]
async fn reset_without_seed_empties_everything() {
    let mock = Mock::with(MockServer::builder().seed(seed_doc())).await;
    mock.list_vmware(&[]).await;

    admin_send(
        &mock,
        reqwest::Method::POST,
        "/__admin/reset?seed=false",
        json!({}),
    )
    .await;

    assert_eq!(count(&mock.list_vmware(&[]).await.body, "AUTH_VMWARE"), 0);
    let (_, journal) = admin_get(&mock, "/__admin/requests").await;
    assert_eq!(
        journal.as_array().unwrap().len(),
        1,
        "only the list after the reset"
    );
}

#[tokio::test]
async fn invalid_seed_names_record_and_field() {
    let mut doc = seed_doc();
    doc.vmware[0].port = Some(0);

    let error = MockServer::builder()
        .seed(doc)
        .try_start()
        .await
        .err()
        .expect("start fails");

    let message = error.to_string();
    assert!(
        message.contains("vmware record 1") && message.contains("seeded-esx"),
        "{message}"
    );
    assert!(message.contains("port"), "{message}");
}

#[tokio::test]
async fn seed_file_errors_stop_the_binary() {
    let dir = std::env::temp_dir().join(format!("qualys-mock-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("seed.toml");
    std::fs::write(
        &file,
        "[[vmware]]\ntitle = \"a\"\nusername = \"root\"\npassword = \"p\"\nips = \"10.0.0.0/24\"\n",
    )
    .unwrap();

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_qualys-mock"))
        .args(["--listen", "127.0.0.1:0", "--seed"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();

    let log = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        log.contains("seed.toml") || log.contains("seed data"),
        "{log}"
    );
    assert!(
        log.contains("vmware record 1") && log.contains("ips") && log.contains("CIDR"),
        "{log}"
    );
}

#[tokio::test]
async fn state_export_hides_passwords_unless_asked() {
    let mock = Mock::with(MockServer::builder().seed(seed_doc())).await;

    let (_, hidden) = admin_get(&mock, "/__admin/state").await;
    let (_, shown) = admin_get(&mock, "/__admin/state?include_passwords=true").await;

    assert_eq!(hidden["vmware"][0]["title"], "seeded-esx");
    assert_eq!(hidden["vmware"][0]["ips"], "10.50.0.1-10.50.0.9");
    assert!(!hidden.to_string().contains("Seed-Secret-1"));
    assert_eq!(shown["vmware"][0]["password"], "Seed-Secret-1");
}

#[tokio::test]
async fn state_import_replaces_all_or_nothing() {
    let mock = Mock::start().await;
    mock.create_vmware("before", "10.0.0.1", &[]).await;
    let before = mock.snapshot().await;
    let bad = json!({ "vmware": [
        { "title": "ok", "username": "u", "password": "p", "ips": "10.1.0.1" },
        { "title": "bad", "username": "this-name-is-too-long", "password": "p", "ips": "10.1.0.2" }
    ]});
    let good = json!({ "vmware": [ { "title": "imported", "username": "u", "password": "p", "ips": "10.1.0.1" } ] });

    let (bad_status, bad_body) =
        admin_send(&mock, reqwest::Method::POST, "/__admin/state", bad).await;
    let unchanged = mock.snapshot().await;
    let (good_status, _) = admin_send(&mock, reqwest::Method::POST, "/__admin/state", good).await;

    assert_eq!(bad_status, 400);
    assert!(
        bad_body["error"]
            .as_str()
            .unwrap()
            .contains("vmware record 2 ('bad')"),
        "{bad_body}"
    );
    assert!(
        bad_body["error"].as_str().unwrap().contains("username"),
        "{bad_body}"
    );
    assert_eq!(unchanged, before);
    assert_eq!(good_status, 200);
    assert_eq!(mock.list_vmware(&[]).await.texts("TITLE"), ["imported"]);
}

#[tokio::test]
async fn journal_lists_calls_with_masked_passwords() {
    let mock = Mock::start().await;
    mock.create_vmware("j1", "10.0.0.1", &[]).await;
    mock.post(
        VMWARE,
        &[
            ("action", "create"),
            ("title", "j1"),
            ("username", "u"),
            ("password", "Journal-Secret"),
            ("ips", "10.0.0.2"),
        ],
    )
    .await;
    mock.list_vmware(&[]).await;

    let (_, all) = admin_get(&mock, "/__admin/requests").await;
    let (_, conflicts) = admin_get(&mock, "/__admin/requests?action=create&status=200").await;
    let cleared = mock
        .client
        .delete(mock.server.url("/__admin/requests"))
        .send()
        .await
        .unwrap();
    let (_, after) = admin_get(&mock, "/__admin/requests").await;

    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["action"], "create");
    assert_eq!(all[0]["user"], "tester");
    assert_eq!(all[0]["status"], 200);
    assert!(!Value::Array(all.clone())
        .to_string()
        .contains("Journal-Secret"));
    assert!(Value::Array(all.clone()).to_string().contains("********"));
    assert_eq!(conflicts.as_array().unwrap().len(), 2);
    assert_eq!(
        conflicts[1]["code"], 1920,
        "the duplicate is a 200 BATCH with CODE 1920"
    );
    assert_eq!(cleared.status(), 204);
    assert_eq!(after.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn journal_is_bounded() {
    let settings = qualys_mock::Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        journal_size: 3,
        ..qualys_mock::Settings::default()
    };
    let mock = Mock::with(MockServer::builder().settings(settings)).await;
    for _ in 0..5 {
        mock.list_vmware(&[]).await;
    }

    let entries = mock.server.requests();

    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
}

#[tokio::test]
async fn fault_makes_a_retry_loop_succeed_on_the_third_call() {
    let mock = Mock::start().await;
    let rule =
        json!({ "action": "list", "times": 2, "effect": { "type": "status", "status": 503 } });
    let (created, _) = admin_send(&mock, reqwest::Method::POST, "/__admin/faults", rule).await;

    let mut statuses = Vec::new();
    for _ in 0..5 {
        let reply = mock.list_vmware(&[]).await;
        statuses.push(reply.status);
        if reply.status == 200 {
            break;
        }
        assert_eq!(reply.code().as_deref(), Some("1999"));
    }
    let (_, rules) = admin_get(&mock, "/__admin/faults").await;

    assert_eq!(created, 201);
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(rules[0]["hits"], 2);
    assert_eq!(rules[0]["expired"], true);
}

#[tokio::test]
async fn fault_rate_limit_looks_like_the_real_one() {
    let mock = Mock::start().await;
    mock.server
        .add_fault(FaultSpec {
            action: Some("create".into()),
            path: None,
            user: None,
            nth: Some(2),
            probability: None,
            seed: None,
            times: None,
            effect: FaultEffect::RateLimit { seconds: 7 },
        })
        .unwrap();

    let first = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "a"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.1"),
            ],
        )
        .await;
    let second = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "b"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.2"),
            ],
        )
        .await;
    let listed = mock.list_vmware(&[]).await;

    assert_eq!(first.status, 200);
    assert_eq!(second.status, 409);
    assert_eq!(second.code().as_deref(), Some("1965"));
    assert_eq!(second.headers["x-ratelimit-towait-sec"], "7");
    assert_eq!(
        listed.texts("TITLE"),
        ["a"],
        "the rate-limited create did nothing"
    );
}

#[tokio::test]
async fn fault_latency_delays_the_answer() {
    let mock = Mock::start().await;
    let rule =
        json!({ "path": "/api/2.0/fo/auth/vmware/", "effect": { "type": "latency", "ms": 300 } });
    admin_send(&mock, reqwest::Method::POST, "/__admin/faults", rule).await;

    let started = std::time::Instant::now();
    let reply = mock.list_vmware(&[]).await;

    assert_eq!(reply.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered too soon"
    );
}

#[tokio::test]
async fn fault_truncate_and_close_break_the_answer() {
    let mock = Mock::start().await;
    mock.create_vmware("a", "10.0.0.1", &[]).await;
    admin_send(
        &mock,
        reqwest::Method::POST,
        "/__admin/faults",
        json!({ "times": 1, "effect": { "type": "truncate", "bytes": 50 } }),
    )
    .await;
    let truncated = mock
        .request(reqwest::Method::GET, VMWARE)
        .query(&[("action", "list")])
        .send()
        .await
        .unwrap();
    let truncated = truncated.text().await.unwrap();
    admin_send(
        &mock,
        reqwest::Method::POST,
        "/__admin/faults",
        json!({ "times": 1, "effect": { "type": "close" } }),
    )
    .await;

    let closed = mock
        .request(reqwest::Method::GET, VMWARE)
        .query(&[("action", "list")])
        .send()
        .await;
    let closed_body = match closed {
        Ok(response) => response.text().await.is_err(),
        Err(_) => true,
    };
    let after = mock.list_vmware(&[]).await;

    assert_eq!(truncated.len(), 50);
    assert!(truncated.starts_with("<?xml"));
    assert!(closed_body, "the client saw a broken answer");
    assert_eq!(after.status, 200, "faults expired after one hit each");
}

#[tokio::test]
async fn fault_probability_is_repeatable_with_a_seed() {
    let run = || async {
        let mock = Mock::start().await;
        let rule = json!({ "probability": 0.5, "seed": 42, "effect": { "type": "status", "status": 500 } });
        admin_send(&mock, reqwest::Method::POST, "/__admin/faults", rule).await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(mock.list_vmware(&[]).await.status);
        }
        statuses
    };

    let first = run().await;
    let second = run().await;

    assert_eq!(first, second);
    assert!(first.contains(&500), "some calls fail: {first:?}");
    assert!(first.contains(&200), "some calls pass: {first:?}");
}

#[tokio::test]
async fn bad_fault_rules_are_rejected() {
    let mock = Mock::start().await;

    let (unknown, _) = admin_send(
        &mock,
        reqwest::Method::POST,
        "/__admin/faults",
        json!({ "effect": { "type": "explode" } }),
    )
    .await;
    let (chance, body) = admin_send(
        &mock,
        reqwest::Method::POST,
        "/__admin/faults",
        json!({ "probability": 2.0, "effect": { "type": "close" } }),
    )
    .await;

    assert_eq!(unknown, 400);
    assert_eq!(chance, 400);
    assert!(body["error"].as_str().unwrap().contains("probability"));
}

#[tokio::test]
async fn frozen_clock_gives_byte_for_byte_answers() {
    let at = qualys_mock::clock::parse_time("2020-01-02T03:04:05Z").unwrap();
    let mock = Mock::with(
        MockServer::builder()
            .clock(at)
            .id_start(500)
            .base_url("http://qualys.test"),
    )
    .await;

    let created = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "snap"),
                ("username", "root"),
                ("password", "p"),
                ("ips", "10.0.0.1-10.0.0.3,10.0.0.7"),
                ("comments", "a <b> & c"),
            ],
        )
        .await;
    let listed = mock.list_vmware(&[("details", "All")]).await;

    assert_snapshot("create.xml", &created.body);
    assert_snapshot("list.xml", &listed.body);
}

#[tokio::test]
async fn clock_can_be_frozen_through_the_api() {
    let mock = Mock::start().await;

    let (status, body) = admin_send(
        &mock,
        reqwest::Method::PUT,
        "/__admin/clock",
        json!({ "frozen": "2021-06-07T08:09:10Z" }),
    )
    .await;
    let reply = mock.list_vmware(&[]).await;
    admin_send(
        &mock,
        reqwest::Method::PUT,
        "/__admin/clock",
        json!({ "frozen": null }),
    )
    .await;
    let running = mock.list_vmware(&[]).await;

    assert_eq!(status, 200);
    assert_eq!(body["frozen"], "2021-06-07T08:09:10Z");
    assert_eq!(reply.texts("DATETIME"), ["2021-06-07T08:09:10Z"]);
    assert_ne!(running.texts("DATETIME"), ["2021-06-07T08:09:10Z"]);
}

/// Compares `actual` with `tests/it/snapshots/NAME`; with
/// `UPDATE_SNAPSHOTS=1` it writes the file instead.
fn assert_snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "snapshot {name} differs");
}

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("qualys-mock-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let builder = || MockServer::builder().state_file(&file, Duration::from_secs(60));

    let first = Mock::with(builder()).await;
    for n in 1..=3 {
        first
            .create_vmware(
                &format!("kept-{n}"),
                &format!("10.0.0.{n}"),
                &[("comments", "survives")],
            )
            .await;
    }
    first
        .post(VMWARE, &[("action", "delete"), ("ids", "2")])
        .await;
    first.server.stop().await;
    let second = Mock::with(builder()).await;
    let restored = second.server.state(true);
    let next = second.create_vmware("after-restart", "10.0.0.9", &[]).await;
    #[cfg(unix)]
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    second.server.stop().await;
    std::fs::remove_dir_all(&dir).ok();

    let titles: Vec<&str> = restored.vmware.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["kept-1", "kept-3"]);
    assert_eq!(restored.vmware[0].password.as_deref(), Some("s3cret-pw"));
    assert_eq!(next, 4, "IDs are not reused after a restart");
    #[cfg(unix)]
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn corrupt_state_file_is_moved_aside() {
    let dir = std::env::temp_dir().join(format!("qualys-mock-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    std::fs::write(&file, "{ not json").unwrap();

    let mock = Mock::with(MockServer::builder().state_file(&file, Duration::from_secs(60))).await;
    let empty = mock.list_vmware(&[]).await;
    let aside: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("state.json.corrupt-"))
        .collect();
    let kept = std::fs::read_to_string(dir.join(&aside[0])).unwrap();
    mock.server.stop().await;
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(empty.status, 200);
    assert_eq!(aside.len(), 1);
    assert_eq!(kept, "{ not json");
}

#[tokio::test]
async fn admin_token_guards_everything_but_health() {
    let mock = Mock::with(MockServer::builder().admin_token("tok-123")).await;

    let health = mock
        .client
        .get(mock.server.url("/__admin/health"))
        .send()
        .await
        .unwrap();
    let without = mock
        .client
        .get(mock.server.url("/__admin/requests"))
        .send()
        .await
        .unwrap();
    let bearer = mock
        .client
        .get(mock.server.url("/__admin/requests"))
        .bearer_auth("tok-123")
        .send()
        .await
        .unwrap();
    let header = mock
        .client
        .get(mock.server.url("/__admin/state"))
        .header("X-Admin-Token", "tok-123")
        .send()
        .await
        .unwrap();

    assert_eq!(health.status(), 200);
    assert_eq!(without.status(), 401);
    assert_eq!(bearer.status(), 200);
    assert_eq!(header.status(), 200);
}

#[tokio::test]
async fn handle_inspects_records() {
    let mock = Mock::with(MockServer::builder().seed(seed_doc())).await;

    let records = mock.server.records(RecordKind::Vmware);

    assert_eq!(records.len(), 1);
    assert_eq!(records[0].fields.title, "seeded-esx");
    assert_eq!(records[0].fields.ips.to_string(), "10.50.0.1-10.50.0.9");
}

#[tokio::test]
async fn journal_can_be_polled_and_masks_odd_names() {
    let mock = Mock::start().await;
    mock.post(
        VMWARE,
        &[
            ("action", "create"),
            ("title", "a"),
            ("username", "u"),
            ("passwd", "Odd-Secret-1"),
            ("ips", "10.0.0.1"),
        ],
    )
    .await;
    for _ in 0..4 {
        mock.list_vmware(&[]).await;
    }

    let (_, newest) = admin_get(&mock, "/__admin/requests?limit=2").await;
    let (_, after) = admin_get(&mock, "/__admin/requests?since=4").await;
    let (_, all) = admin_get(&mock, "/__admin/requests").await;

    let seqs = |value: &Value| {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(seqs(&newest), [4, 5]);
    assert_eq!(seqs(&after), [5]);
    assert!(!all.to_string().contains("Odd-Secret-1"), "{all}");
}
