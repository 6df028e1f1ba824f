//! `AUTH_<KIND>_LIST_OUTPUT`: the response to `action=list` for one record kind,
//! such as AUTH_VMWARE_LIST_OUTPUT. Passwords are never written.

use std::collections::BTreeSet;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::domain::id_set::IdSet;
use crate::domain::ip_set::IpRangeDisplay;
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
pub(crate) fn dtd_path(kind: RecordKind) -> String {
    format!("/api/2.0/fo/auth/{0}/auth_{0}_list_output.dtd", kind.name())
}

/// Formats a timestamp as Qualys does: `2018-02-13T21:16:41Z`.
pub(crate) fn format_datetime(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Writes one page of records of `kind`.
pub(crate) fn render(
    ctx: &DocContext,
    kind: RecordKind,
    records: &[Arc<Record>],
    details: Details,
    warning: Option<&PageWarning>,
) -> Vec<u8> {
    let root = format!("AUTH_{}_LIST_OUTPUT", kind.tag());
    let mut doc = Doc::new(ctx, &root, &dtd_path(kind));
    doc.open(&root);
    doc.request_echo(ctx);
    doc.open("RESPONSE");
    doc.leaf("DATETIME", &ctx.datetime);

    if details == Details::None {
        let ids: IdSet = records.iter().map(|record| record.id).collect();
        write_id_set(&mut doc, &ids);
    } else if !records.is_empty() {
        let list = format!("AUTH_{}_LIST", kind.tag());
        doc.open(&list);
        for record in records {
            write_record(&mut doc, record);
        }
        doc.close(&list);
    }

    if let Some(warning) = warning {
        doc.open("WARNING");
        doc.leaf("CODE", &PAGE_WARNING_CODE.to_string());
        doc.leaf("TEXT", "The number of records exceeds the limit for one response. Use the URL to fetch the next batch.");
        doc.leaf("URL", &warning.next_url);
        doc.close("WARNING");
    }
    if details == Details::All && !records.is_empty() {
        write_glossary(&mut doc, records);
    }
    doc.close("RESPONSE");
    doc.close(&root);
    doc.finish()
}

fn write_record(doc: &mut Doc, record: &Record) {
    let element = format!("AUTH_{}", record.kind.tag());
    let fields = &record.fields;
    doc.open(&element);
    doc.leaf("ID", &record.id.to_string());
    doc.leaf("TITLE", &fields.title);
    doc.leaf("USERNAME", &fields.username);
    doc.leaf("LOGIN_TYPE", fields.login_type.as_str());
    if let Some(vault) = &fields.vault {
        doc.open("VAULT");
        doc.leaf("VAULT_ID", &vault.vault_id.to_string());
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
            let name = if range.start() == range.end() {
                "IP"
            } else {
                "IP_RANGE"
            };
            doc.leaf(name, &IpRangeDisplay(&range).to_string());
        }
        doc.close("IP_SET");
    }
    if let Some(network_id) = fields.network_id {
        doc.leaf("NETWORK_ID", &network_id.to_string());
    }
    if let Some(comments) = &fields.comments {
        doc.leaf("COMMENTS", comments);
    }
    write_stamp(doc, "CREATED", &record.created);
    write_stamp(doc, "LAST_MODIFIED", &record.modified);
    doc.close(&element);
}

fn write_vsphere_fields(doc: &mut Doc, record: &Record) {
    if !record.kind.has_vsphere_fields() {
        return;
    }
    let fields = &record.fields;
    if let Some(port) = fields.port {
        doc.leaf("PORT", &port.to_string());
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
    doc.leaf("DATETIME", &format_datetime(stamp.at));
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
