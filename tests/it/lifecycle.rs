//! Create, list, update and delete in sequence, as a client's happy path runs.

use crate::support::*;

const PASSWORD: &str = "Distinctive-Pa55word";

#[tokio::test]
async fn round_trip_never_shows_the_password() {
    let mock = Mock::start().await;
    let mut bodies = Vec::new();

    let created = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "esx-lab"),
                ("username", "root"),
                ("password", PASSWORD),
                ("ips", "10.20.0.1-10.20.0.10,10.20.1.5"),
                ("comments", "lab hosts"),
                ("ssl_verify", "skip"),
                ("hosts", "esx1.lab.example,esx2.lab.example"),
                ("port", "8443"),
                ("echo_request", "1"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.texts("ID")[0].clone();
    bodies.push(created.body);

    let listed = mock
        .list_vmware(&[("ids", &id), ("echo_request", "1")])
        .await;
    assert_eq!(listed.texts("TITLE"), ["esx-lab"]);
    assert_eq!(listed.texts("IP_RANGE"), ["10.20.0.1-10.20.0.10"]);
    assert_eq!(listed.texts("IP"), ["10.20.1.5"]);
    assert_eq!(listed.texts("PORT"), ["8443"]);
    assert_eq!(listed.texts("SSL_VERIFY"), ["skip"]);
    assert_eq!(
        listed.texts("HOST"),
        ["esx1.lab.example", "esx2.lab.example"]
    );
    assert_eq!(listed.texts("COMMENTS"), ["lab hosts"]);
    assert_eq!(listed.texts("LOGIN_TYPE"), ["basic"]);
    assert_eq!(listed.texts("BY"), ["tester", "tester"]);
    bodies.push(listed.body);

    let updated = mock
        .post(
            VMWARE,
            &[
                ("action", "update"),
                ("ids", &id),
                ("username", "admin"),
                ("password", "Another-Pa55word"),
                ("add_ips", "10.20.0.11"),
                ("remove_ips", "10.20.0.1-10.20.0.2"),
                ("comments", ""),
            ],
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.texts("TEXT"), ["Successfully Updated"]);
    assert_eq!(updated.texts("ID"), [id.as_str()]);
    bodies.push(updated.body);

    let listed = mock.list_vmware(&[("details", "All")]).await;
    assert_eq!(listed.texts("USERNAME"), ["admin"]);
    assert_eq!(listed.texts("IP_RANGE"), ["10.20.0.3-10.20.0.11"]);
    assert_eq!(listed.texts("COMMENTS"), Vec::<String>::new());
    assert_eq!(listed.texts("TITLE"), ["esx-lab"], "untouched fields stay");
    assert_eq!(listed.texts("USER_LOGIN"), ["tester"]);
    bodies.push(listed.body);

    let deleted = mock
        .post(VMWARE, &[("action", "delete"), ("ids", &id)])
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.texts("TEXT"), ["Successfully Deleted"]);
    assert_eq!(deleted.texts("ID"), [id.as_str()]);
    bodies.push(deleted.body);

    let listed = mock.list_vmware(&[]).await;
    assert_eq!(count(&listed.body, "AUTH_VMWARE"), 0);
    assert_eq!(
        count(&listed.body, "AUTH_VMWARE_LIST"),
        0,
        "empty list has no list element"
    );
    bodies.push(listed.body);

    for body in &bodies {
        assert!(!body.contains(PASSWORD), "password leaked: {body}");
        assert!(
            !body.contains("Another-Pa55word"),
            "password leaked: {body}"
        );
    }
}

#[tokio::test]
async fn ids_count_up_and_are_never_reused() {
    let mock = Mock::with(qualys_mock::MockServer::builder().id_start(30486)).await;

    let first = mock.create_vmware("a", "10.0.0.1", &[]).await;
    mock.post(VMWARE, &[("action", "delete"), ("ids", &first.to_string())])
        .await;
    let second = mock.create_vmware("b", "10.0.0.1", &[]).await;

    assert_eq!(first, 30486);
    assert_eq!(second, 30487);
}

#[tokio::test]
async fn list_is_served_over_post_too() {
    let mock = Mock::start().await;
    mock.create_vmware("a", "10.0.0.1", &[]).await;

    let reply = mock.post(VMWARE, &[("action", "list")]).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.texts("TITLE"), ["a"]);
}

#[tokio::test]
async fn list_filters_by_id_range_and_bounds() {
    let mock = Mock::start().await;
    for n in 1..=6 {
        mock.create_vmware(&format!("r{n}"), &format!("10.0.0.{n}"), &[])
            .await;
    }

    let by_ids = mock.list_vmware(&[("ids", "2-3,5")]).await;
    let by_bounds = mock.list_vmware(&[("id_min", "3"), ("id_max", "4")]).await;
    let by_title = mock.list_vmware(&[("title", "r6")]).await;

    assert_eq!(by_ids.texts("TITLE"), ["r2", "r3", "r5"]);
    assert_eq!(by_bounds.texts("TITLE"), ["r3", "r4"]);
    assert_eq!(by_title.texts("TITLE"), ["r6"]);
}

#[tokio::test]
async fn update_and_delete_over_ranges_report_each_outcome() {
    let mock = Mock::start().await;
    for n in 1..=4 {
        mock.create_vmware(&format!("r{n}"), &format!("10.0.1.{n}"), &[])
            .await;
    }

    let updated = mock
        .post(
            VMWARE,
            &[("action", "update"), ("ids", "1-3,9"), ("comments", "bulk")],
        )
        .await;
    let deleted = mock
        .post(VMWARE, &[("action", "delete"), ("ids", "2-7")])
        .await;

    assert_eq!(updated.texts("TEXT")[0], "Successfully Updated");
    assert_eq!(updated.texts("ID_RANGE"), ["1-3"]);
    assert_eq!(updated.texts("ID"), ["9"]);
    assert!(updated.texts("TEXT")[1].contains("not found"));
    assert_eq!(deleted.texts("ID_RANGE"), ["2-4", "5-7"]);
    let left = mock.list_vmware(&[]).await;
    assert_eq!(left.texts("TITLE"), ["r1"]);
    assert_eq!(left.texts("COMMENTS"), ["bulk"]);
}
