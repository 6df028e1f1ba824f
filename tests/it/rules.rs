//! One row per documented rule: the request, the expected HTTP status, Qualys
//! CODE and a fragment of TEXT, and a check that the store did not change.

use qualys_mock::MockServer;

use crate::support::*;

/// The server a case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    /// A VMware record `existing` on 10.9.0.1-10.9.0.10 (ID 1) and a Unix
    /// record `unix-box` on 10.8.0.1-10.8.0.5 (ID 2).
    Seeded,
    /// As `Seeded`, plus a vCenter record `vc` on 10.7.0.1 (ID 3).
    WithVcenter,
    /// As `Seeded`, with the networks feature on for networks 0 and 7.
    Networks,
}

struct Case {
    name: &'static str,
    setup: Setup,
    path: &'static str,
    get: bool,
    params: &'static [(&'static str, &'static str)],
    status: u16,
    code: &'static str,
    text: &'static str,
}

const fn post(
    name: &'static str,
    params: &'static [(&'static str, &'static str)],
    status: u16,
    code: &'static str,
    text: &'static str,
) -> Case {
    Case {
        name,
        setup: Setup::Seeded,
        path: VMWARE,
        get: false,
        params,
        status,
        code,
        text,
    }
}

impl Case {
    const fn on(mut self, path: &'static str) -> Case {
        self.path = path;
        self
    }

    const fn with(mut self, setup: Setup) -> Case {
        self.setup = setup;
        self
    }

    const fn over_get(mut self) -> Case {
        self.get = true;
        self
    }
}

/// 256 characters, one more than a title may have.
const LONG_TITLE: &str = "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt";
/// 101 characters, one more than a password may have.
const LONG_PASSWORD: &str = "Leak-Me-Not-pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp";

fn cases() -> Vec<Case> {
    vec![
        // Unknown, missing and exclusive parameters.
        post(
            "unknown parameter",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("colour", "red"),
            ],
            400,
            "1901",
            "colour",
        ),
        post(
            "unknown parameter on list",
            &[("action", "list"), ("password", "x")],
            400,
            "1901",
            "password",
        )
        .over_get(),
        post(
            "add_ips on create",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("add_ips", "10.1.0.1"),
            ],
            400,
            "1901",
            "add_ips",
        ),
        post(
            "port on unix",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("port", "22"),
            ],
            400,
            "1901",
            "port",
        )
        .on(UNIX),
        post("missing action", &[("title", "n")], 400, "1903", "action"),
        post(
            "invalid action",
            &[("action", "purge")],
            400,
            "1905",
            "action",
        ),
        post(
            "missing title",
            &[
                ("action", "create"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1903",
            "title",
        ),
        post(
            "empty title",
            &[
                ("action", "create"),
                ("title", ""),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1903",
            "title",
        ),
        post(
            "missing username",
            &[
                ("action", "create"),
                ("title", "n"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1903",
            "username",
        ),
        post(
            "missing ips",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
            ],
            400,
            "1903",
            "ips",
        ),
        post(
            "missing password",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1903",
            "password",
        ),
        post(
            "update without ids",
            &[("action", "update"), ("comments", "c")],
            400,
            "1903",
            "ids",
        ),
        post(
            "delete without ids",
            &[("action", "delete")],
            400,
            "1903",
            "ids",
        ),
        post(
            "ips with add_ips",
            &[
                ("action", "update"),
                ("ids", "1"),
                ("ips", "10.1.0.1"),
                ("add_ips", "10.1.0.2"),
            ],
            400,
            "1904",
            "add_ips",
        ),
        post(
            "ips with remove_ips",
            &[
                ("action", "update"),
                ("ids", "1"),
                ("ips", "10.1.0.1"),
                ("remove_ips", "10.1.0.2"),
            ],
            400,
            "1904",
            "remove_ips",
        ),
        post(
            "password with vault_id",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("login_type", "vault"),
                ("vault_type", "Azure Key"),
                ("vault_id", "4"),
                ("secret_name", "s"),
            ],
            400,
            "1904",
            "vault_id",
        ),
        post(
            "both disconnect spellings",
            &[
                ("action", "update"),
                ("ids", "1"),
                ("is_disconect", "0"),
                ("is_disconnect", "0"),
            ],
            400,
            "1904",
            "is_disconnect",
        ),
        post(
            "update with nothing to change",
            &[("action", "update"), ("ids", "1")],
            400,
            "1922",
            "title",
        ),
        // Methods.
        post(
            "create over GET",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1908",
            "create",
        )
        .over_get(),
        post(
            "update over GET",
            &[("action", "update"), ("ids", "1"), ("comments", "c")],
            400,
            "1908",
            "update",
        )
        .over_get(),
        post(
            "delete over GET",
            &[("action", "delete"), ("ids", "1")],
            400,
            "1908",
            "delete",
        )
        .over_get(),
        // Lengths and character sets.
        post(
            "title too long",
            &[
                ("action", "create"),
                ("title", LONG_TITLE),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1905",
            "title",
        ),
        post(
            "title not ASCII",
            &[
                ("action", "create"),
                ("title", "caf\u{e9}"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1905",
            "ASCII",
        ),
        post(
            "title with control character",
            &[
                ("action", "create"),
                ("title", "a\u{7}b"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1905",
            "control",
        ),
        post(
            "username too long",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "fourteen-chars"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1905",
            "username",
        ),
        post(
            "password too long",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", LONG_PASSWORD),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1905",
            "password",
        ),
        post(
            "password not ASCII",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p\u{e4}ss"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1905",
            "password",
        ),
        post(
            "unix username too long",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", LONG_TITLE),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            400,
            "1905",
            "username",
        )
        .on(UNIX),
        // Enumerations and numbers.
        post(
            "bad login_type",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("login_type", "kerberos"),
            ],
            400,
            "1905",
            "login_type",
        ),
        post(
            "vcenter login on unix",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("login_type", "vcenter"),
            ],
            400,
            "1905",
            "login_type",
        )
        .on(UNIX),
        post(
            "bad ssl_verify",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("ssl_verify", "maybe"),
            ],
            400,
            "1905",
            "ssl_verify",
        ),
        post(
            "bad is_disconect",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("is_disconect", "2"),
            ],
            400,
            "1905",
            "is_disconect",
        ),
        post(
            "bad echo_request",
            &[("action", "list"), ("echo_request", "yes")],
            400,
            "1905",
            "echo_request",
        )
        .over_get(),
        post(
            "bad details",
            &[("action", "list"), ("details", "Everything")],
            400,
            "1905",
            "details",
        )
        .over_get(),
        post(
            "port zero",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("port", "0"),
            ],
            400,
            "1905",
            "port",
        ),
        post(
            "port too high",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("port", "65536"),
            ],
            400,
            "1905",
            "port",
        ),
        post(
            "port not a number",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("port", "https"),
            ],
            400,
            "1905",
            "port",
        ),
        post(
            "bad host name",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("hosts", "esx1.lab,not a host"),
            ],
            400,
            "1905",
            "hosts",
        ),
        post(
            "id_min zero",
            &[("action", "list"), ("id_min", "0")],
            400,
            "1905",
            "id_min",
        )
        .over_get(),
        // Combinations.
        post(
            "disconnected without vcenter login",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("is_disconect", "1"),
            ],
            400,
            "1907",
            "login_type=vcenter",
        ),
        post(
            "vault login without vault fields",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("ips", "10.1.0.1"),
                ("login_type", "vault"),
            ],
            400,
            "1903",
            "vault_type",
        ),
        post(
            "vault login with password",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("login_type", "vault"),
                ("vault_type", "Quest Vault"),
            ],
            400,
            "1903",
            "vault_id",
        ),
        post(
            "vault fields without vault login",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("ips", "10.1.0.1"),
                ("vault_type", "Quest Vault"),
                ("vault_id", "3"),
            ],
            400,
            "1907",
            "login_type=vault",
        ),
        post(
            "unknown vault type",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("ips", "10.1.0.1"),
                ("login_type", "vault"),
                ("vault_type", "Shoebox"),
                ("vault_id", "3"),
            ],
            400,
            "1905",
            "vault_type",
        ),
        post(
            "vault type field missing",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("ips", "10.1.0.1"),
                ("login_type", "vault"),
                ("vault_type", "Azure Key"),
                ("vault_id", "3"),
            ],
            400,
            "1903",
            "secret_name",
        ),
        post(
            "vault field of another type",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("ips", "10.1.0.1"),
                ("login_type", "vault"),
                ("vault_type", "Azure Key"),
                ("vault_id", "3"),
                ("secret_name", "s"),
                ("folder", "f"),
            ],
            400,
            "1907",
            "folder",
        ),
        post(
            "network_id without the feature",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("network_id", "7"),
            ],
            400,
            "1905",
            "networks feature",
        ),
        post(
            "unknown network",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("network_id", "8"),
            ],
            400,
            "1905",
            "network_id",
        )
        .with(Setup::Networks),
        // IDs.
        post(
            "ids not numeric",
            &[("action", "delete"), ("ids", "abc123")],
            400,
            "1905",
            "neither a positive integer nor a range",
        ),
        post(
            "ids reversed",
            &[("action", "delete"), ("ids", "9-3")],
            400,
            "1905",
            "starts after it ends",
        ),
        post(
            "ids empty entry",
            &[("action", "delete"), ("ids", "1,,2")],
            400,
            "1905",
            "empty",
        ),
        post(
            "ids overflow",
            &[("action", "delete"), ("ids", "1-99999999999999999999")],
            400,
            "1905",
            "ids",
        ),
        post(
            "ids zero",
            &[("action", "delete"), ("ids", "0")],
            400,
            "1905",
            "positive",
        ),
        // IPs.
        post(
            "CIDR",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.0/24"),
            ],
            400,
            "1905",
            "CIDR",
        ),
        post(
            "IPv6",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "fe80::1"),
            ],
            400,
            "1905",
            "IPv6",
        ),
        post(
            "bad address",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1,10.1.0.300"),
            ],
            400,
            "1905",
            "10.1.0.300",
        ),
        post(
            "reversed IP range",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.9-10.1.0.1"),
            ],
            400,
            "1905",
            "starts after it ends",
        ),
        post(
            "bad add_ips",
            &[("action", "update"), ("ids", "1"), ("add_ips", "nope")],
            400,
            "1905",
            "add_ips",
        ),
        // Conflicts with other records.
        post(
            "duplicate title",
            &[
                ("action", "create"),
                ("title", "existing"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
            ],
            200,
            "1920",
            "existing",
        ),
        post(
            "overlapping VMware IPs",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.9.0.10-10.9.0.20"),
            ],
            200,
            "1920",
            "IP 10.9.0.10 is already used by VMware record 'existing'",
        ),
        post(
            "duplicate title on update",
            &[("action", "update"), ("ids", "4"), ("title", "existing")],
            200,
            "1920",
            "existing",
        )
        .with(Setup::WithVcenter),
        post(
            "overlap on update",
            &[("action", "update"), ("ids", "4"), ("add_ips", "10.9.0.5")],
            200,
            "1920",
            "existing",
        )
        .with(Setup::WithVcenter),
        post(
            "update breaks disconnect rule",
            &[("action", "update"), ("ids", "1"), ("is_disconect", "1")],
            200,
            "1907",
            "login_type=vcenter",
        ),
        post(
            "unknown ID on update",
            &[("action", "update"), ("ids", "77"), ("comments", "x")],
            200,
            "1905",
            "not found",
        ),
        post(
            "unknown ID on delete",
            &[("action", "delete"), ("ids", "77-80")],
            200,
            "1905",
            "not found",
        ),
        post(
            "vcenter login without vCenter record",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.1.0.1"),
                ("login_type", "vcenter"),
            ],
            200,
            "1907",
            "vCenter record",
        ),
        post(
            "disconnected ESXi on Unix IPs",
            &[
                ("action", "create"),
                ("title", "n"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.8.0.5-10.8.0.9"),
                ("login_type", "vcenter"),
                ("is_disconect", "1"),
            ],
            200,
            "1920",
            "Unix record 'unix-box'",
        )
        .with(Setup::WithVcenter),
        post(
            "overlapping Unix IPs",
            &[
                ("action", "create"),
                ("title", "u2"),
                ("username", "u"),
                ("password", "p"),
                ("ips", "10.8.0.3"),
            ],
            200,
            "1920",
            "unix-box",
        )
        .on(UNIX),
    ]
}

async fn prepare(setup: Setup) -> Mock {
    let builder = match setup {
        Setup::Networks => MockServer::builder().networks([0, 7]),
        _ => MockServer::builder(),
    };
    let mock = Mock::with(builder).await;
    mock.create_vmware("existing", "10.9.0.1-10.9.0.10", &[])
        .await;
    let unix = [
        ("action", "create"),
        ("title", "unix-box"),
        ("username", "u"),
        ("password", "p"),
        ("ips", "10.8.0.1-10.8.0.5"),
    ];
    assert_eq!(mock.post(UNIX, &unix).await.status, 200);
    if setup == Setup::WithVcenter {
        let vc = [
            ("action", "create"),
            ("title", "vc"),
            ("username", "u"),
            ("password", "p"),
            ("ips", "10.7.0.1"),
        ];
        assert_eq!(mock.post(VCENTER, &vc).await.status, 200);
        mock.create_vmware("second", "10.6.0.1", &[]).await;
    }
    mock
}

#[tokio::test]
async fn every_rule_has_its_code_and_leaves_the_store_alone() {
    let mut failures = Vec::new();
    for case in cases() {
        let mock = prepare(case.setup).await;
        let before = mock.snapshot().await;

        let reply = if case.get {
            mock.get(case.path, case.params).await
        } else {
            mock.post(case.path, case.params).await
        };

        let texts = reply.texts("TEXT").join("\n");
        if reply.status != case.status {
            failures.push(format!(
                "{}: status {} != {}\n{}",
                case.name, reply.status, case.status, reply.body
            ));
        }
        if !reply.texts("CODE").iter().any(|code| code == case.code) {
            failures.push(format!(
                "{}: no CODE {}\n{}",
                case.name, case.code, reply.body
            ));
        }
        if !texts.contains(case.text) {
            failures.push(format!(
                "{}: TEXT lacks {:?}\n{}",
                case.name, case.text, reply.body
            ));
        }
        if reply.body.contains("Leak-Me-Not") {
            failures.push(format!("{}: password echoed\n{}", case.name, reply.body));
        }
        if mock.snapshot().await != before {
            failures.push(format!("{}: store changed", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn comments_over_1999_characters_are_rejected() {
    let mock = prepare(Setup::Seeded).await;
    let before = mock.snapshot().await;
    let longest = "c".repeat(1999);
    let too_long = "c".repeat(2000);

    let rejected = mock
        .post(
            VMWARE,
            &[("action", "update"), ("ids", "1"), ("comments", &too_long)],
        )
        .await;
    let unchanged = mock.snapshot().await;
    let accepted = mock
        .post(
            VMWARE,
            &[("action", "update"), ("ids", "1"), ("comments", &longest)],
        )
        .await;

    assert_eq!(rejected.status, 400);
    assert_eq!(rejected.code().as_deref(), Some("1905"));
    assert!(rejected.text().contains("comments"), "{}", rejected.text());
    assert!(
        rejected.text().len() < 300,
        "the value is shortened in the message"
    );
    assert_eq!(unchanged, before);
    assert_eq!(accepted.texts("TEXT"), ["Successfully Updated"]);
}
