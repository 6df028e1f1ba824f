//! AUTH_RECORDS_OUTPUT: the IDs of every authentication record, grouped by
//! type, answering `action=list` on `/api/2.0/fo/auth/`.

use crate::domain::id_set::IdSet;
use crate::domain::record::RecordKind;

use super::batch_return::write_id_set;
use super::{Doc, DocContext};

/// The DTD path, relative to the base URL.
pub(crate) const DTD_PATH: &str = "/api/2.0/fo/auth/auth_records_output.dtd";

/// Writes the ID sets of each kind, in the order given; kinds without IDs
/// are left out, and so is AUTH_RECORDS when no kind has any.
pub(crate) fn render(ctx: &DocContext, groups: &[(RecordKind, IdSet)]) -> Vec<u8> {
    let mut doc = Doc::new(ctx, "AUTH_RECORDS_OUTPUT", DTD_PATH);
    doc.open("AUTH_RECORDS_OUTPUT");
    doc.request_echo(ctx);
    doc.open("RESPONSE");
    doc.leaf("DATETIME", &ctx.datetime);
    let non_empty: Vec<&(RecordKind, IdSet)> =
        groups.iter().filter(|(_, ids)| !ids.is_empty()).collect();
    if !non_empty.is_empty() {
        doc.open("AUTH_RECORDS");
        for (kind, ids) in non_empty {
            let name = format!("AUTH_{}_IDS", kind.tag());
            doc.open(&name);
            write_id_set(&mut doc, ids);
            doc.close(&name);
        }
        doc.close("AUTH_RECORDS");
    }
    doc.close("RESPONSE");
    doc.close("AUTH_RECORDS_OUTPUT");
    doc.finish()
}
