//! Passwords and session tokens never leave the mock: not in answers, log
//! lines, journal entries or exported state, whatever path they came in by.

use std::io::Read;
use std::process::{Command, Stdio};

const BASIC_PASSWORD: &str = "Basic-Pw-7Q3";
const RECORD_PASSWORD: &str = "Record-Pw-9X1";
const QUERY_PASSWORD: &str = "Query-Pw-4K8";
const LOGIN_PASSWORD: &str = "Login-Pw-2M5";
const USER_PASSWORD: &str = "Account-Pw-6T0";

fn curl(args: &[&str]) -> String {
    let output = Command::new("curl")
        .args(["-s", "-i", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn secrets_appear_nowhere() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qualys-mock"))
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args([
            "--user",
            &format!("alice:{USER_PASSWORD}"),
            "--user",
            &format!("bob:{BASIC_PASSWORD}"),
        ])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        first.push(byte[0]);
    }
    let first = String::from_utf8(first).unwrap();
    let address = first
        .split("listening on http://")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap()
        .to_owned();
    let api = format!("http://{address}/api/2.0/fo/auth/vmware/");
    let basic = format!("bob:{BASIC_PASSWORD}");
    let common = ["-u", basic.as_str(), "-H", "X-Requested-With: t"];

    let mut answers = Vec::new();
    let body = format!(
        "action=create&title=s1&username=u&password={RECORD_PASSWORD}&ips=10.0.0.1&echo_request=1"
    );
    answers.push(curl(&[&common[..], &["-d", &body, &api]].concat()));
    let query = format!("{api}?action=create&title=s2&username=u&password={QUERY_PASSWORD}&ips=10.0.0.2&echo_request=1");
    answers.push(curl(&[&common[..], &["-X", "POST", &query]].concat()));
    let too_long = format!(
        "action=create&title=s3&username=u&password={RECORD_PASSWORD}{}&ips=10.0.0.3",
        "x".repeat(100)
    );
    answers.push(curl(&[&common[..], &["-d", &too_long, &api]].concat()));
    let wrong = format!("alice:{BASIC_PASSWORD}");
    answers.push(curl(&[
        "-u",
        &wrong,
        "-H",
        "X-Requested-With: t",
        &format!("{api}?action=list"),
    ]));
    let login = format!("action=login&username=alice&password={USER_PASSWORD}");
    let session_answer = curl(&[
        "-H",
        "X-Requested-With: t",
        "-d",
        &login,
        &format!("http://{address}/api/2.0/fo/session/"),
    ]);
    let token = session_answer
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| line.to_owned())
        })
        .and_then(|line| {
            line.split("QualysSession=")
                .nth(1)
                .map(|rest| rest.split(';').next().unwrap().to_owned())
        })
        .expect("login sets the cookie");
    answers
        .push(session_answer.replace(&format!("QualysSession={token}"), "QualysSession=<cookie>"));
    let cookie = format!("Cookie: QualysSession={token}");
    answers.push(curl(&[
        "-H",
        "X-Requested-With: t",
        "-H",
        &cookie,
        "-d",
        &format!("action=update&ids=1&password={RECORD_PASSWORD}2&echo_request=1"),
        &api,
    ]));
    answers.push(curl(&[
        "-H",
        "X-Requested-With: t",
        "-H",
        &cookie,
        &format!("{api}?action=list&details=All&echo_request=1"),
    ]));
    answers.push(curl(&[&format!("http://{address}/__admin/requests")]));
    answers.push(curl(&[&format!("http://{address}/__admin/state")]));

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut log = first.clone();
    stdout.read_to_string(&mut log).unwrap();
    let mut errors = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut errors)
        .unwrap();
    child.wait().unwrap();
    log.push_str(&errors);

    let secrets = [
        BASIC_PASSWORD,
        RECORD_PASSWORD,
        QUERY_PASSWORD,
        LOGIN_PASSWORD,
        USER_PASSWORD,
        token.as_str(),
    ];
    for secret in secrets {
        for (n, answer) in answers.iter().enumerate() {
            assert!(
                !answer.contains(secret),
                "answer {n} contains {secret}:\n{answer}"
            );
        }
        assert!(!log.contains(secret), "the log contains {secret}");
    }
    assert!(
        log.contains("\"action\":\"create\""),
        "the log was captured: {log}"
    );
    assert!(
        answers[0].contains("Successfully Created"),
        "{}",
        answers[0]
    );
    assert!(
        answers[5].contains("Successfully Updated"),
        "{}",
        answers[5]
    );
}
