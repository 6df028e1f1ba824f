//! SIMPLE_RETURN: the document Qualys sends for errors and short answers.

use super::{Doc, DocContext};

/// The DTD path, relative to the base URL.
pub(crate) const DTD_PATH: &str = "/api/2.0/simple_return.dtd";

/// Writes a SIMPLE_RETURN. `code` is left out on success, because some clients
/// treat any CODE in a 2xx answer as a failure; `items` fill ITEM_LIST.
pub(crate) fn render(
    ctx: &DocContext,
    code: Option<u32>,
    text: &str,
    items: &[(&str, String)],
) -> Vec<u8> {
    let mut doc = Doc::new(ctx, "SIMPLE_RETURN", DTD_PATH);
    doc.open("SIMPLE_RETURN");
    doc.request_echo(ctx);
    doc.open("RESPONSE");
    doc.leaf("DATETIME", &ctx.datetime);
    if let Some(code) = code {
        doc.leaf("CODE", &code.to_string());
    }
    doc.leaf("TEXT", text);
    if !items.is_empty() {
        doc.open("ITEM_LIST");
        for (key, value) in items {
            doc.open("ITEM");
            doc.leaf("KEY", key);
            doc.leaf("VALUE", value);
            doc.close("ITEM");
        }
        doc.close("ITEM_LIST");
    }
    doc.close("RESPONSE");
    doc.close("SIMPLE_RETURN");
    doc.finish()
}
