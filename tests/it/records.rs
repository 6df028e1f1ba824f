//! Valid records of every shape: vault, vCenter, networks, Unix companions,
//! multi-record updates, and text that must come back unchanged.

use qualys_mock::MockServer;

use crate::support::*;

#[tokio::test]
async fn vault_record_needs_no_password() {
    let mock = Mock::start().await;

    let id = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "vaulted"),
                ("username", "root"),
                ("ips", "10.0.0.1"),
                ("login_type", "vault"),
                ("vault_type", "azure key"),
                ("vault_id", "12"),
                ("secret_name", "esx-root"),
            ],
        )
        .await;

    assert_eq!(id.status, 200, "{}", id.body);
    let list = mock.list_vmware(&[]).await;
    assert_eq!(list.texts("LOGIN_TYPE"), ["vault"]);
    assert_eq!(list.texts("VAULT_TYPE"), ["Azure Key"]);
    assert_eq!(list.texts("VAULT_ID"), ["12"]);
    assert_eq!(list.texts("KEY"), ["secret_name"]);
}

#[tokio::test]
async fn switching_to_vault_drops_the_password() {
    let mock = Mock::start().await;
    let id = mock.create_vmware("r", "10.0.0.1", &[]).await.to_string();

    let to_vault = mock
        .post(
            VMWARE,
            &[
                ("action", "update"),
                ("ids", &id),
                ("login_type", "vault"),
                ("vault_type", "Quest Vault"),
                ("vault_id", "3"),
            ],
        )
        .await;
    let back_without_password = mock
        .post(
            VMWARE,
            &[("action", "update"), ("ids", &id), ("login_type", "basic")],
        )
        .await;
    let back_with_password = mock
        .post(
            VMWARE,
            &[
                ("action", "update"),
                ("ids", &id),
                ("login_type", "basic"),
                ("password", "new-pw"),
            ],
        )
        .await;

    assert_eq!(to_vault.texts("TEXT"), ["Successfully Updated"]);
    assert_eq!(back_without_password.code().as_deref(), Some("1907"));
    assert!(back_without_password.text().contains("password"));
    assert_eq!(back_with_password.texts("TEXT"), ["Successfully Updated"]);
    assert_eq!(mock.list_vmware(&[]).await.texts("LOGIN_TYPE"), ["basic"]);
}

#[tokio::test]
async fn disconnected_vcenter_record_takes_either_spelling() {
    let mock = Mock::start().await;
    let vc = [
        ("action", "create"),
        ("title", "vc"),
        ("username", "u"),
        ("password", "p"),
        ("ips", "10.7.0.1"),
    ];
    assert_eq!(mock.post(VCENTER, &vc).await.status, 200);

    mock.create_vmware(
        "a",
        "10.0.0.1",
        &[("login_type", "vcenter"), ("is_disconect", "1")],
    )
    .await;
    mock.create_vmware(
        "b",
        "10.0.0.2",
        &[("login_type", "vcenter"), ("is_disconnect", "1")],
    )
    .await;

    let list = mock.list_vmware(&[]).await;
    assert_eq!(list.texts("IS_DISCONNECT"), ["1", "1"]);
    assert_eq!(list.texts("LOGIN_TYPE"), ["vcenter", "vcenter"]);
}

#[tokio::test]
async fn vcenter_check_can_be_turned_off() {
    let mock = Mock::with(MockServer::builder().require_vcenter_record(false)).await;

    mock.create_vmware("a", "10.0.0.1", &[("login_type", "vcenter")])
        .await;

    assert_eq!(mock.list_vmware(&[]).await.texts("LOGIN_TYPE"), ["vcenter"]);
}

#[tokio::test]
async fn network_id_is_kept_when_the_feature_is_on() {
    let mock = Mock::with(MockServer::builder().networks([0, 7])).await;

    mock.create_vmware("a", "10.0.0.1", &[("network_id", "7")])
        .await;

    assert_eq!(mock.list_vmware(&[]).await.texts("NETWORK_ID"), ["7"]);
}

#[tokio::test]
async fn unix_and_vmware_records_may_share_ips() {
    let mock = Mock::start().await;
    mock.create_vmware("esx", "10.0.0.1-10.0.0.9", &[]).await;

    let unix = mock
        .post(
            UNIX,
            &[
                ("action", "create"),
                ("title", "esx"),
                ("username", "a-long-unix-username"),
                ("password", "p"),
                ("ips", "10.0.0.5"),
            ],
        )
        .await;

    assert_eq!(unix.status, 200, "{}", unix.body);
    let list = mock.get(UNIX, &[("action", "list")]).await;
    assert_eq!(list.texts("TITLE"), ["esx"]);
    assert_eq!(count(&list.body, "PORT"), 0);
}

#[tokio::test]
async fn unix_record_may_not_take_disconnected_esxi_ips() {
    let mock = Mock::start().await;
    let vc = [
        ("action", "create"),
        ("title", "vc"),
        ("username", "u"),
        ("password", "p"),
        ("ips", "10.7.0.1"),
    ];
    mock.post(VCENTER, &vc).await;
    mock.create_vmware(
        "dark",
        "10.0.0.1-10.0.0.9",
        &[("login_type", "vcenter"), ("is_disconect", "1")],
    )
    .await;

    let unix = mock
        .post(
            UNIX,
            &[
                ("action", "create"),
                ("title", "u"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.9-10.0.0.12"),
            ],
        )
        .await;

    assert_eq!(unix.status, 200);
    assert_eq!(unix.code().as_deref(), Some("1920"));
    assert!(
        unix.text()
            .contains("IP 10.0.0.9 is already used by VMware record 'dark'"),
        "{}",
        unix.text()
    );
}

#[tokio::test]
async fn one_line_per_conflicting_range() {
    let mock = Mock::start().await;
    mock.create_vmware("a", "10.0.0.1-10.0.0.5", &[]).await;
    mock.create_vmware("b", "10.0.0.8", &[]).await;

    let reply = mock
        .post(
            VMWARE,
            &[
                ("action", "create"),
                ("title", "c"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.0.0.4-10.0.0.9"),
            ],
        )
        .await;

    let lines: Vec<String> = reply.text().lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "IP range 10.0.0.4-10.0.0.5 is already used by VMware record 'a' (ID 1)",
            "IP 10.0.0.8 is already used by VMware record 'b' (ID 2)",
        ]
    );
}

#[tokio::test]
async fn update_over_several_ids_is_per_record() {
    let mock = Mock::start().await;
    for n in 1..=3 {
        mock.create_vmware(&format!("r{n}"), &format!("10.0.0.{n}"), &[])
            .await;
    }

    let reply = mock
        .post(
            VMWARE,
            &[("action", "update"), ("ids", "1-3"), ("ips", "10.5.0.1")],
        )
        .await;

    assert_eq!(reply.texts("TEXT")[0], "Successfully Updated");
    assert_eq!(reply.texts("ID"), ["1", "2", "3"]);
    assert_eq!(reply.texts("CODE"), ["1920", "1920"]);
    let list = mock.list_vmware(&[]).await;
    assert_eq!(list.texts("IP"), ["10.5.0.1", "10.0.0.2", "10.0.0.3"]);
}

#[tokio::test]
async fn ids_tolerate_spaces() {
    let mock = Mock::start().await;
    for n in 1..=3 {
        mock.create_vmware(&format!("r{n}"), &format!("10.0.0.{n}"), &[])
            .await;
    }

    let reply = mock
        .post(VMWARE, &[("action", "delete"), ("ids", " 1 , 2 - 3 ")])
        .await;

    assert_eq!(reply.texts("ID_RANGE"), ["1-3"]);
}

#[tokio::test]
async fn whole_address_space_is_one_range() {
    let mock = Mock::start().await;

    mock.create_vmware("all", "0.0.0.0-255.255.255.255", &[])
        .await;

    assert_eq!(
        mock.list_vmware(&[]).await.texts("IP_RANGE"),
        ["0.0.0.0-255.255.255.255"]
    );
}

#[tokio::test]
async fn remove_ips_can_empty_the_set() {
    let mock = Mock::start().await;
    let id = mock
        .create_vmware("a", "10.0.0.1-10.0.0.3", &[])
        .await
        .to_string();

    mock.post(
        VMWARE,
        &[
            ("action", "update"),
            ("ids", &id),
            ("remove_ips", "10.0.0.0-10.0.0.255"),
        ],
    )
    .await;

    assert_eq!(count(&mock.list_vmware(&[]).await.body, "IP_SET"), 0);
}

#[tokio::test]
async fn markup_in_text_round_trips() {
    let mock = Mock::start().await;
    let title = "<lab> & \"ops\" 'x'";
    let comments = "line one\nline\ttwo\r\nr\u{e9}sum\u{e9} <&>";

    mock.create_vmware(title, "10.0.0.1", &[("comments", comments)])
        .await;

    let list = mock.list_vmware(&[]).await;
    assert_eq!(list.texts("TITLE"), [title]);
    assert_eq!(list.texts("COMMENTS"), [comments]);
}
