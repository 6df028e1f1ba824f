//! Shared helpers: a mock server on a random loopback port, an HTTP client
//! that sends Qualys-style requests, and XML checks. Every XML reply is
//! validated with `xmllint` against the DTD its root element names.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use qualys_mock::{MockServer, MockServerBuilder};
use quick_xml::events::Event;
use quick_xml::Reader;

pub const VMWARE: &str = "/api/2.0/fo/auth/vmware/";
pub const UNIX: &str = "/api/2.0/fo/auth/unix/";
pub const VCENTER: &str = "/api/2.0/fo/auth/vcenter/";

/// A running mock and a client aimed at it.
pub struct Mock {
    pub server: MockServer,
    pub client: reqwest::Client,
}

impl Mock {
    pub async fn start() -> Mock {
        Mock::with(MockServer::builder()).await
    }

    pub async fn with(builder: MockServerBuilder) -> Mock {
        Mock {
            server: builder.start().await,
            client: reqwest::Client::new(),
        }
    }

    /// A request with the credentials and header every Qualys call needs.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.server.url(path))
            .basic_auth("tester", Some("tester-password"))
            .header("X-Requested-With", "qualys-mock tests")
    }

    /// POSTs form parameters to `path`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        send(self.request(reqwest::Method::POST, path).form(form)).await
    }

    /// GETs `path` with query parameters.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        send(self.request(reqwest::Method::GET, path).query(query)).await
    }

    /// Creates a VMware record with the given extra parameters and returns its ID.
    pub async fn create_vmware(&self, title: &str, ips: &str, extra: &[(&str, &str)]) -> u64 {
        let mut form = vec![
            ("action", "create"),
            ("title", title),
            ("username", "root"),
            ("password", "s3cret-pw"),
            ("ips", ips),
        ];
        form.extend_from_slice(extra);
        let reply = self.post(VMWARE, &form).await;
        assert_eq!(reply.status, 200, "create failed: {}", reply.body);
        reply.texts("ID")[0].parse().expect("ID is a number")
    }

    /// Lists VMware records and returns the reply.
    pub async fn list_vmware(&self, extra: &[(&str, &str)]) -> Reply {
        let mut query = vec![("action", "list")];
        query.extend_from_slice(extra);
        self.get(VMWARE, &query).await
    }

    /// The full list output of every kind, for before-and-after comparisons.
    pub async fn snapshot(&self) -> String {
        let mut all = String::new();
        for path in [VMWARE, UNIX, VCENTER] {
            let reply = self
                .get(path, &[("action", "list"), ("details", "All")])
                .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            all.push_str(&strip_datetimes(&reply.body));
        }
        all
    }
}

/// Sends a request and validates the XML reply.
pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let reply = send_unchecked(request).await;
    reply.validate();
    reply
}

/// Sends a request without validating the reply; the caller validates a
/// batch of them with [`validate_all`], which runs xmllint once.
pub async fn send_unchecked(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request reaches the mock");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let headers = response.headers().clone();
    let body = response.text().await.expect("body is UTF-8");
    Reply {
        status,
        content_type,
        headers,
        body,
    }
}

/// Validates many replies with one xmllint run per DTD.
pub fn validate_all(replies: &[Reply]) {
    let mut by_dtd: std::collections::BTreeMap<&str, Vec<&Reply>> = Default::default();
    for reply in replies {
        reply.check_envelope();
        let root = reply.root();
        let dtd = dtd_for_root(&root).unwrap_or_else(|| panic!("no DTD for root {root}"));
        by_dtd.entry(dtd).or_default().push(reply);
    }
    let dir = std::env::temp_dir().join(format!(
        "qualys-mock-batch-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (dtd, group) in by_dtd {
        let files: Vec<PathBuf> = group
            .iter()
            .enumerate()
            .map(|(n, reply)| {
                let file = dir.join(format!("{n}.xml"));
                std::fs::write(&file, &reply.body).unwrap();
                file
            })
            .collect();
        let output = Command::new("xmllint")
            .args(["--noout", "--nonet", "--dtdvalid"])
            .arg(dtd_dir().join(dtd))
            .args(&files)
            .output()
            .expect("xmllint must be installed (Debian package libxml2-utils)");
        assert!(
            output.status.success(),
            "xmllint rejected a document against {dtd}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for file in files {
            std::fs::remove_file(file).ok();
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// An HTTP reply with its body as text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The texts of every element named `tag`, in document order.
    pub fn texts(&self, tag: &str) -> Vec<String> {
        texts(&self.body, tag)
    }

    /// RESPONSE/CODE of a SIMPLE_RETURN, or the first BATCH CODE.
    pub fn code(&self) -> Option<String> {
        self.texts("CODE").into_iter().next()
    }

    /// The first TEXT element.
    pub fn text(&self) -> String {
        self.texts("TEXT").into_iter().next().unwrap_or_default()
    }

    /// The root element name.
    pub fn root(&self) -> String {
        root_element(&self.body)
    }

    /// Checks the body against the DTD that its root element names.
    pub fn validate(&self) {
        self.check_envelope();
        let root = self.root();
        let dtd = dtd_for_root(&root).unwrap_or_else(|| panic!("no DTD for root {root}"));
        xmllint_valid(&self.body, dtd);
    }

    /// Checks the content type, the declaration and the external DOCTYPE.
    pub fn check_envelope(&self) {
        assert_eq!(
            self.content_type, "text/xml;charset=UTF-8",
            "body: {}",
            self.body
        );
        assert!(
            self.body
                .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE "),
            "missing XML declaration or DOCTYPE: {}",
            self.body
        );
        assert!(
            !self.body.contains("<!ENTITY"),
            "entity declaration in {}",
            self.body
        );
        let root = self.root();
        let dtd = dtd_for_root(&root).unwrap_or_else(|| panic!("no DTD for root {root}"));
        xmllint_valid(&self.body, dtd);
    }
}

fn dtd_for_root(root: &str) -> Option<&'static str> {
    Some(match root {
        "SIMPLE_RETURN" => "simple_return.dtd",
        "BATCH_RETURN" => "batch_return.dtd",
        "AUTH_VMWARE_LIST_OUTPUT" => "auth_vmware_list_output.dtd",
        "AUTH_UNIX_LIST_OUTPUT" => "auth_unix_list_output.dtd",
        "AUTH_VCENTER_LIST_OUTPUT" => "auth_vcenter_list_output.dtd",
        "AUTH_RECORDS_OUTPUT" => "auth_records_output.dtd",
        "ABOUT" => "about.dtd",
        _ => return None,
    })
}

/// Runs `xmllint --dtdvalid` on `xml`; panics with xmllint's output when the
/// document is invalid or xmllint is missing.
pub fn xmllint_valid(xml: &str, dtd: &str) {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("qualys-mock-{}-{n}.xml", std::process::id()));
    std::fs::write(&file, xml).unwrap();
    let dtd_path = dtd_dir().join(dtd);

    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--dtdvalid"])
        .arg(&dtd_path)
        .arg(&file)
        .output()
        .expect("xmllint must be installed (Debian package libxml2-utils)");
    std::fs::remove_file(&file).ok();

    assert!(
        output.status.success(),
        "xmllint rejected the document against {dtd}:\n{}\n--- document ---\n{xml}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn dtd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dtd")
}

/// The texts of every element named `tag` in `xml`, unescaped.
pub fn texts(xml: &str, tag: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut inside = false;
    let mut current = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == tag.as_bytes() => {
                inside = true;
                current.clear();
            }
            Event::End(e) if e.name().as_ref() == tag.as_bytes() => {
                inside = false;
                out.push(std::mem::take(&mut current));
            }
            Event::Text(t) if inside => current.push_str(&t.decode().expect("UTF-8 text")),
            Event::GeneralRef(r) if inside => {
                let name = String::from_utf8(r.to_vec()).unwrap();
                current.push_str(&resolve_reference(&name));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn resolve_reference(name: &str) -> String {
    match name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        _ => {
            let code = name
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse::<u32>))
                .expect("known reference")
                .expect("numeric reference");
            char::from_u32(code).expect("valid char").to_string()
        }
    }
}

/// Counts the elements named `tag`.
pub fn count(xml: &str, tag: &str) -> usize {
    texts(xml, tag).len()
}

fn root_element(xml: &str) -> String {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => return String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
            Event::Eof => panic!("no root element in {xml}"),
            _ => {}
        }
    }
}

/// Drops DATETIME contents so two snapshots taken a second apart compare equal.
pub fn strip_datetimes(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<DATETIME>") {
        out.push_str(&rest[..start + "<DATETIME>".len()]);
        let after = &rest[start..];
        let end = after.find("</DATETIME>").expect("closed DATETIME");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The `qualys-mock` binary of this build.
pub const BINARY: &str = env!("CARGO_BIN_EXE_qualys-mock");

/// Starts the binary on a free loopback port with `args` and returns it with
/// the `host:port` from its first log line. Its stdout is left unread after
/// that line.
pub fn spawn_binary(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    let address = line
        .split("listening on http://")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, address)
}

/// Sends SIGTERM and waits up to `limit` for the process to exit; kills it
/// and returns `None` when it does not.
pub fn terminate(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let started = std::time::Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if started.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
