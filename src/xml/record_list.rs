//! `AUTH_<KIND>_LIST_OUTPUT`: the response to `action=list` for one record kind,
//! such as AUTH_VMWARE_LIST_OUTPUT. Passwords are never written.

use std::collections::BTreeSet;
use std::sync::Arc;

use compact_str::CompactString;
use time::OffsetDateTime;

use crate::domain::id_set::IdSet;
use crate::domain::record::{Record, RecordKind, Stamp};

use super::batch_return::write_id_set;
use super::{Doc, DocContext};

/// How much of each record the list shows: the `details` parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Details {
    /// IDs only, as one ID_SET.
    None,
    /// Every record field.
    #[default]
    Basic,
    /// Every record field plus the GLOSSARY of the logins that own them.
    All,
}

/// The WARNING that ends a page when more records match.
#[derive(Clone, Debug)]
pub(crate) struct PageWarning {
    /// The URL of the next page, carrying `id_min`.
    pub(crate) next_url: String,
}

/// The Qualys code for "record limit exceeded, fetch the next page".
pub(crate) const PAGE_WARNING_CODE: u32 = 1980;

/// Returns the DTD path for a kind's list output, relative to the base URL.
pub(crate) fn dtd_path(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Vmware => "/api/2.0/fo/auth/vmware/auth_vmware_list_output.dtd",
        RecordKind::Unix => "/api/2.0/fo/auth/unix/auth_unix_list_output.dtd",
        RecordKind::Vcenter => "/api/2.0/fo/auth/vcenter/auth_vcenter_list_output.dtd",
    }
}

/// Formats a timestamp as Qualys does: `2018-02-13T21:16:41Z`.
pub(crate) fn format_datetime(at: OffsetDateTime) -> CompactString {
    match DateText::new(at) {
        Some(text) => CompactString::new(text.as_str()),
        None => {
            let at = at.to_offset(time::UtcOffset::UTC);
            compact_str::format_compact!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                at.year(),
                at.month() as u8,
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            )
        }
    }
}

/// A timestamp in the Qualys form, written into a buffer on the stack:
/// every request writes at least one, and a listed record two more.
struct DateText([u8; 20]);

impl DateText {
    /// Formats `at`, or returns `None` for a year outside 0 to 9999.
    fn new(at: OffsetDateTime) -> Option<DateText> {
        let at = at.to_offset(time::UtcOffset::UTC);
        let (year, month, day) = at.to_calendar_date();
        let year = u32::try_from(year).ok().filter(|year| *year <= 9999)?;
        let (hour, minute, second) = at.to_hms();
        let mut bytes = *b"0000-00-00T00:00:00Z";
        // Two digits at a time, by constant divisors the compiler turns
        // into multiplications.
        let mut two = |at: usize, value: u32| {
            bytes[at] = b'0' + (value / 10 % 10) as u8;
            bytes[at + 1] = b'0' + (value % 10) as u8;
        };
        two(0, year / 100);
        two(2, year);
        two(5, u32::from(month as u8));
        two(8, u32::from(day));
        two(11, u32::from(hour));
        two(14, u32::from(minute));
        two(17, u32::from(second));
        Some(DateText(bytes))
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators were written.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// Writes one page of records of `kind`.
pub(crate) fn render(
    ctx: &DocContext,
    kind: RecordKind,
    records: &[Arc<Record>],
    details: Details,
    warning: Option<&PageWarning>,
) -> Vec<u8> {
    let names = ElementNames::of(kind);
    let root = names.root;
    let mut doc = Doc::new(ctx, root, dtd_path(kind));
    doc.open(root);
    doc.request_echo(ctx);
    doc.open("RESPONSE");
    doc.leaf("DATETIME", &ctx.datetime);

    if details == Details::None {
        let ids: IdSet = records.iter().map(|record| record.id).collect();
        write_id_set(&mut doc, &ids);
    } else if !records.is_empty() {
        doc.open(names.list);
        for record in records {
            write_record(&mut doc, record, names.record);
        }
        doc.close(names.list);
    }

    if let Some(warning) = warning {
        doc.open("WARNING");
        doc.number_leaf("CODE", u64::from(PAGE_WARNING_CODE));
        doc.leaf("TEXT", "The number of records exceeds the limit for one response. Use the URL to fetch the next batch.");
        doc.leaf("URL", &warning.next_url);
        doc.close("WARNING");
    }
    if details == Details::All && !records.is_empty() {
        write_glossary(&mut doc, records);
    }
    doc.close("RESPONSE");
    doc.close(root);
    doc.finish()
}

/// An address or range in dotted-quad form, written into a buffer on the
/// stack: the list output writes three of them per record.
#[derive(Default)]
struct RangeText {
    bytes: [u8; 31],
    len: usize,
}

impl RangeText {
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn push_addr(&mut self, addr: u32) {
        for (i, octet) in addr.to_be_bytes().into_iter().enumerate() {
            if i > 0 {
                self.push(b'.');
            }
            if octet >= 100 {
                self.push(b'0' + octet / 100);
            }
            if octet >= 10 {
                self.push(b'0' + octet / 10 % 10);
            }
            self.push(b'0' + octet % 10);
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    #[cfg(test)]
    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// The element names of one kind's list output.
struct ElementNames {
    root: &'static str,
    list: &'static str,
    record: &'static str,
}

impl ElementNames {
    fn of(kind: RecordKind) -> ElementNames {
        let (root, list, record) = match kind {
            RecordKind::Vmware => ("AUTH_VMWARE_LIST_OUTPUT", "AUTH_VMWARE_LIST", "AUTH_VMWARE"),
            RecordKind::Unix => ("AUTH_UNIX_LIST_OUTPUT", "AUTH_UNIX_LIST", "AUTH_UNIX"),
            RecordKind::Vcenter => (
                "AUTH_VCENTER_LIST_OUTPUT",
                "AUTH_VCENTER_LIST",
                "AUTH_VCENTER",
            ),
        };
        ElementNames { root, list, record }
    }
}

fn write_record(doc: &mut Doc, record: &Record, element: &str) {
    let fields = &record.fields;
    doc.open(element);
    doc.number_leaf("ID", record.id);
    doc.leaf("TITLE", &fields.title);
    doc.leaf("USERNAME", &fields.username);
    doc.leaf("LOGIN_TYPE", fields.login_type.as_str());
    if let Some(vault) = &fields.vault {
        doc.open("VAULT");
        doc.number_leaf("VAULT_ID", vault.vault_id);
        doc.leaf("VAULT_TYPE", vault.vault_type);
        for (key, value) in &vault.extra {
            doc.open("VAULT_FIELD");
            doc.leaf("KEY", key);
            doc.leaf("VALUE", value);
            doc.close("VAULT_FIELD");
        }
        doc.close("VAULT");
    }
    write_vsphere_fields(doc, record);
    if !fields.ips.is_empty() {
        doc.open("IP_SET");
        for range in fields.ips.ranges() {
            let (start, end) = (*range.start(), *range.end());
            let mut text = RangeText::default();
            text.push_addr(start);
            if start == end {
                doc.plain_leaf("IP", text.as_bytes());
            } else {
                text.push(b'-');
                text.push_addr(end);
                doc.plain_leaf("IP_RANGE", text.as_bytes());
            }
        }
        doc.close("IP_SET");
    }
    if let Some(network_id) = fields.network_id {
        doc.number_leaf("NETWORK_ID", network_id);
    }
    if let Some(comments) = &fields.comments {
        doc.leaf("COMMENTS", comments);
    }
    write_stamp(doc, "CREATED", &record.created);
    write_stamp(doc, "LAST_MODIFIED", &record.modified);
    doc.close(element);
}

fn write_vsphere_fields(doc: &mut Doc, record: &Record) {
    if !record.kind.has_vsphere_fields() {
        return;
    }
    let fields = &record.fields;
    if let Some(port) = fields.port {
        doc.number_leaf("PORT", u64::from(port));
    }
    if let Some(ssl_verify) = fields.ssl_verify {
        doc.leaf("SSL_VERIFY", ssl_verify.as_str());
    }
    if !fields.hosts.is_empty() {
        doc.open("HOSTS");
        for host in &fields.hosts {
            doc.leaf("HOST", host);
        }
        doc.close("HOSTS");
    }
    doc.leaf(
        "IS_DISCONNECT",
        if fields.is_disconnect { "1" } else { "0" },
    );
}

fn write_stamp(doc: &mut Doc, name: &str, stamp: &Stamp) {
    doc.open(name);
    match DateText::new(stamp.at) {
        Some(text) => doc.plain_leaf("DATETIME", &text.0),
        None => doc.leaf("DATETIME", &format_datetime(stamp.at)),
    }
    doc.leaf("BY", &stamp.by);
    doc.close(name);
}

/// Writes the logins that created or last changed the listed records.
fn write_glossary(doc: &mut Doc, records: &[Arc<Record>]) {
    let logins: BTreeSet<&str> = records
        .iter()
        .flat_map(|r| [r.created.by.as_str(), r.modified.by.as_str()])
        .collect();
    doc.open("GLOSSARY");
    doc.open("USER_LIST");
    for login in logins {
        doc.open("USER");
        doc.leaf("USER_LOGIN", login);
        doc.close("USER");
    }
    doc.close("USER_LIST");
    doc.close("GLOSSARY");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_datetimes_as_qualys_does() {
        let cases = [
            (
                time::macros::datetime!(2018-02-13 21:16:41 UTC),
                "2018-02-13T21:16:41Z",
            ),
            (
                time::macros::datetime!(0007-01-02 03:04:05 UTC),
                "0007-01-02T03:04:05Z",
            ),
            (
                time::macros::datetime!(2024-12-31 23:30:00 -01:00),
                "2025-01-01T00:30:00Z",
            ),
        ];

        for (at, expected) in cases {
            assert_eq!(format_datetime(at), expected);
        }
    }

    #[test]
    fn writes_addresses_as_the_standard_library_does() {
        let samples = [
            0u32,
            1,
            9,
            10,
            99,
            100,
            255,
            256,
            0x0A00_0001,
            0xC0A8_6401,
            u32::MAX,
        ];
        for start in samples {
            for end in samples {
                let mut text = RangeText::default();
                text.push_addr(start);
                text.push(b'-');
                text.push_addr(end);
                let expected = format!(
                    "{}-{}",
                    std::net::Ipv4Addr::from(start),
                    std::net::Ipv4Addr::from(end)
                );
                assert_eq!(text.as_str(), expected);
            }
        }
    }

    #[test]
    fn element_names_follow_the_kind_tag() {
        for kind in RecordKind::ALL {
            let name = kind.name();
            let dtd = format!("/api/2.0/fo/auth/{name}/auth_{name}_list_output.dtd");
            assert_eq!(dtd_path(kind), dtd);
            let names = ElementNames::of(kind);
            assert_eq!(names.root, format!("AUTH_{}_LIST_OUTPUT", kind.tag()));
            assert_eq!(names.list, format!("AUTH_{}_LIST", kind.tag()));
            assert_eq!(names.record, format!("AUTH_{}", kind.tag()));
        }
    }
}
