//! BATCH_RETURN: the answer to create, update and delete.

use crate::domain::id_set::IdSet;

use super::{Doc, DocContext};

/// The DTD path, relative to the base URL.
pub(crate) const DTD_PATH: &str = "/api/2.0/batch_return.dtd";

/// One outcome shared by a set of IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Batch {
    /// The Qualys error code; `None` for success.
    pub(crate) code: Option<u32>,
    /// What happened, such as `Successfully Created`.
    pub(crate) text: String,
    /// The IDs the outcome applies to.
    pub(crate) ids: IdSet,
}

/// Writes a BATCH_RETURN with one BATCH per outcome, contiguous IDs written as
/// ID_RANGE.
pub(crate) fn render(ctx: &DocContext, batches: &[Batch]) -> Vec<u8> {
    let mut doc = Doc::new(ctx, "BATCH_RETURN", DTD_PATH);
    doc.open("BATCH_RETURN");
    doc.request_echo(ctx);
    doc.open("RESPONSE");
    doc.leaf("DATETIME", &ctx.datetime);
    doc.open("BATCH_LIST");
    for batch in batches {
        doc.open("BATCH");
        if let Some(code) = batch.code {
            doc.number_leaf("CODE", u64::from(code));
        }
        doc.leaf("TEXT", &batch.text);
        write_id_set(&mut doc, &batch.ids);
        doc.close("BATCH");
    }
    doc.close("BATCH_LIST");
    doc.close("RESPONSE");
    doc.close("BATCH_RETURN");
    doc.finish()
}

/// Writes an ID_SET of ID and ID_RANGE elements; nothing for an empty set.
pub(crate) fn write_id_set(doc: &mut Doc, ids: &IdSet) {
    if ids.is_empty() {
        return;
    }
    doc.open("ID_SET");
    for range in ids.ranges() {
        if range.start() == range.end() {
            doc.number_leaf("ID", *range.start());
        } else {
            doc.leaf("ID_RANGE", &format!("{}-{}", range.start(), range.end()));
        }
    }
    doc.close("ID_SET");
}
