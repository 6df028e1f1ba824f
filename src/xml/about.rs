//! ABOUT: the version document of `/msp/about.php`, which some clients fetch
//! when they connect.

use quick_xml::events::BytesStart;

use super::{Doc, DocContext};

/// The DTD path, relative to the base URL.
pub(crate) const DTD_PATH: &str = "/msp/about.dtd";

/// Writes the ABOUT document with the mock's own version as web version.
pub(crate) fn render(ctx: &DocContext) -> Vec<u8> {
    let mut doc = Doc::new(ctx, "ABOUT", DTD_PATH);
    doc.open("ABOUT");
    let api = BytesStart::new("API-VERSION").with_attributes([("MAJOR", "1"), ("MINOR", "4")]);
    doc.empty(api);
    doc.leaf(
        "WEB-VERSION",
        concat!("qualys-mock ", env!("CARGO_PKG_VERSION")),
    );
    doc.leaf("SCANNER-VERSION", "0.0.0-mock");
    doc.leaf("VULNSIGS-VERSION", "0.0.0-mock");
    doc.close("ABOUT");
    doc.finish()
}
