//! `action=list`: paging through WARNING URLs, the `details` levels, filters
//! and `echo_request`.

use std::collections::BTreeSet;

use qualys_mock::MockServer;

use crate::support::*;

#[tokio::test]
async fn paging_walks_every_record_once() {
    let mock = Mock::start().await;
    for n in 0..2500u32 {
        let ip = format!("10.{}.{}.1", n / 256, n % 256);
        mock.create_vmware(&format!("esx-{n}"), &ip, &[]).await;
    }

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut reply = mock.list_vmware(&[]).await;
    loop {
        pages += 1;
        seen.extend(
            reply
                .texts("ID")
                .into_iter()
                .map(|id| id.parse::<u64>().unwrap()),
        );
        let urls = reply.texts("URL");
        let Some(url) = urls.first() else {
            break;
        };
        assert_eq!(reply.texts("CODE"), ["1980"]);
        assert!(url.contains("id_min="), "{url}");
        reply = send(
            mock.client
                .get(url)
                .basic_auth("tester", Some("x"))
                .header("X-Requested-With", "t"),
        )
        .await;
    }

    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2500);
    assert_eq!(unique.len(), 2500);
    assert_eq!(unique, (1..=2500).collect());
}

#[tokio::test]
async fn paging_keeps_the_other_filters() {
    let mock = Mock::with(MockServer::builder().page_size(2)).await;
    for n in 1..=7 {
        mock.create_vmware(&format!("r{n}"), &format!("10.0.0.{n}"), &[])
            .await;
    }

    let first = mock
        .list_vmware(&[("ids", "2-6"), ("details", "None")])
        .await;

    let url = &first.texts("URL")[0];
    assert!(url.starts_with(&mock.server.url(VMWARE)), "{url}");
    assert!(
        url.contains("ids=2-6") && url.contains("details=None") && url.ends_with("id_min=4"),
        "{url}"
    );
    assert!(
        first.body.contains("action=list&amp;"),
        "ampersands are escaped: {}",
        first.body
    );
    assert_eq!(first.texts("ID_RANGE"), ["2-3"]);
}

#[tokio::test]
async fn details_none_gives_an_id_set() {
    let mock = Mock::start().await;
    for n in 1..=3 {
        mock.create_vmware(&format!("r{n}"), &format!("10.0.0.{n}"), &[])
            .await;
    }
    mock.create_vmware("r5", "10.0.0.5", &[]).await;
    mock.post(VMWARE, &[("action", "delete"), ("ids", "3")])
        .await;

    let reply = mock.list_vmware(&[("details", "None")]).await;

    assert_eq!(reply.texts("ID_RANGE"), ["1-2"]);
    assert_eq!(reply.texts("ID"), ["4"]);
    assert_eq!(count(&reply.body, "AUTH_VMWARE"), 0);
}

#[tokio::test]
async fn details_none_without_matches_has_no_id_set() {
    let mock = Mock::start().await;

    let reply = mock.list_vmware(&[("details", "None")]).await;

    assert_eq!(count(&reply.body, "ID_SET"), 0);
}

#[tokio::test]
async fn details_all_adds_the_glossary_of_owners() {
    let mock = Mock::start().await;
    mock.create_vmware("mine", "10.0.0.1", &[]).await;
    let other = mock
        .client
        .post(mock.server.url(VMWARE))
        .basic_auth("colleague", Some("pw"))
        .header("X-Requested-With", "t")
        .form(&[
            ("action", "create"),
            ("title", "theirs"),
            ("username", "u"),
            ("password", "p"),
            ("ips", "10.0.0.2"),
        ]);
    assert_eq!(send(other).await.status, 200);

    let basic = mock.list_vmware(&[]).await;
    let all = mock.list_vmware(&[("details", "all")]).await;

    assert_eq!(count(&basic.body, "GLOSSARY"), 0);
    assert_eq!(all.texts("USER_LOGIN"), ["colleague", "tester"]);
    assert_eq!(
        all.texts("BY"),
        ["tester", "tester", "colleague", "colleague"]
    );
}

#[tokio::test]
async fn comments_filter_matches_text_inside() {
    let mock = Mock::start().await;
    mock.create_vmware("a", "10.0.0.1", &[("comments", "rack 12, lab")])
        .await;
    mock.create_vmware("b", "10.0.0.2", &[("comments", "production")])
        .await;

    let reply = mock.list_vmware(&[("comments", "lab")]).await;

    assert_eq!(reply.texts("TITLE"), ["a"]);
}

#[tokio::test]
async fn unknown_ids_list_nothing() {
    let mock = Mock::start().await;
    mock.create_vmware("a", "10.0.0.1", &[]).await;

    let reply = mock.list_vmware(&[("ids", "500-600")]).await;

    assert_eq!(reply.status, 200);
    assert_eq!(count(&reply.body, "AUTH_VMWARE"), 0);
}

#[tokio::test]
async fn echo_request_masks_the_password() {
    let mock = Mock::start().await;

    let reply = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("echo_request", "1"),
                ("title", "echoed"),
                ("username", "root"),
                ("password", "Echo-Secret-77"),
                ("ips", "10.0.0.1"),
            ],
        )
        .await;

    assert_eq!(
        reply.texts("KEY"),
        [
            "action",
            "echo_request",
            "title",
            "username",
            "password",
            "ips"
        ]
    );
    assert_eq!(reply.texts("VALUE")[4], "********");
    assert_eq!(reply.texts("USER_LOGIN"), ["tester"]);
    assert_eq!(reply.texts("RESOURCE"), [mock.server.url(VMWARE)]);
    assert!(!reply.body.contains("Echo-Secret-77"));
}

#[tokio::test]
async fn echo_request_applies_to_errors_too() {
    let mock = Mock::start().await;

    let reply = mock
        .post(VMWARE, &[("action", "create"), ("echo_request", "1")])
        .await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.texts("KEY"), ["action", "echo_request"]);
}
