//! The DTDs that every document declares, served at the URLs its DOCTYPE names.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::domain::record::RecordKind;
use crate::state::AppState;
use crate::xml::{about, auth_records, batch_return, record_list, simple_return};

/// The DTD files, compiled into the binary.
pub(crate) const SIMPLE_RETURN_DTD: &str = include_str!("../../dtd/simple_return.dtd");
/// See [`SIMPLE_RETURN_DTD`].
pub(crate) const BATCH_RETURN_DTD: &str = include_str!("../../dtd/batch_return.dtd");
/// See [`SIMPLE_RETURN_DTD`].
pub(crate) const VMWARE_LIST_DTD: &str = include_str!("../../dtd/auth_vmware_list_output.dtd");
/// See [`SIMPLE_RETURN_DTD`].
pub(crate) const UNIX_LIST_DTD: &str = include_str!("../../dtd/auth_unix_list_output.dtd");
/// See [`SIMPLE_RETURN_DTD`].
pub(crate) const VCENTER_LIST_DTD: &str = include_str!("../../dtd/auth_vcenter_list_output.dtd");

/// See [`SIMPLE_RETURN_DTD`].
pub(crate) const AUTH_RECORDS_DTD: &str = include_str!("../../dtd/auth_records_output.dtd");
/// See [`SIMPLE_RETURN_DTD`].
pub(crate) const ABOUT_DTD: &str = include_str!("../../dtd/about.dtd");

/// Routes for every DTD. Each list DTD is also served at
/// `/api/2.0/fo/auth/<kind>/dtd/auth_list_output.dtd`, where one published
/// Qualys client looks for it.
pub(crate) fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route(simple_return::DTD_PATH, get(|| serve(SIMPLE_RETURN_DTD)))
        .route(batch_return::DTD_PATH, get(|| serve(BATCH_RETURN_DTD)))
        .route(auth_records::DTD_PATH, get(|| serve(AUTH_RECORDS_DTD)))
        .route(about::DTD_PATH, get(|| serve(ABOUT_DTD)));
    for kind in RecordKind::ALL {
        let text = list_dtd(kind);
        let alias = format!("/api/2.0/fo/auth/{}/dtd/auth_list_output.dtd", kind.name());
        router = router
            .route(record_list::dtd_path(kind), get(move || serve(text)))
            .route(&alias, get(move || serve(text)));
    }
    router
}

/// The list DTD of a kind.
pub(crate) fn list_dtd(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Vmware => VMWARE_LIST_DTD,
        RecordKind::Unix => UNIX_LIST_DTD,
        RecordKind::Vcenter => VCENTER_LIST_DTD,
    }
}

async fn serve(text: &'static str) -> Response {
    let content_type = HeaderValue::from_static("application/xml-dtd;charset=UTF-8");
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}
