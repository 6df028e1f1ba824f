//! `/api/2.0/fo/auth/?action=list`: the IDs of every authentication record,
//! grouped by type.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::any;
use axum::Router;

use crate::domain::record::RecordKind;
use crate::state::AppState;
use crate::xml::auth_records;

use super::access_log;
use super::auth::Caller;
use super::call::{xml_response, Call};
use super::error::ApiError;
use super::records::read_list_query;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/fo/auth/", any(serve))
        .route("/api/2.0/fo/auth", any(serve))
}

const PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "ids",
    "id_min",
    "id_max",
    "title",
    "comments",
    "type",
];

async fn serve(State(state): State<AppState>, mut request: Request) -> Response {
    let caller = request.extensions_mut().remove::<Caller>();
    let call = match Call::accept(&state, request, caller).await {
        Ok(call) => call,
        Err(rejection) => return rejection,
    };
    let response = list(&state, &call).unwrap_or_else(|error| call.error(error));
    let params = call.params.into_masked();
    access_log::note(|summary| {
        summary.action = Some("list".into());
        summary.params = params;
    });
    response
}

/// `action=list`, the only action of the generic endpoint.
fn list(state: &AppState, call: &Call) -> Result<Response, ApiError> {
    match call.params.get("action") {
        Some("list") => {}
        None | Some("") => return Err(ApiError::MissingParams(vec!["action"])),
        Some(other) => return Err(ApiError::invalid("action", other, "expected list")),
    }
    call.params.reject_unknown(&[PARAMS])?;
    let query = read_list_query(call)?;
    let kinds = read_kinds(call)?;

    let store = state.stores.for_login(&call.caller.login);
    let groups: Vec<_> = {
        let store = store.read();
        kinds
            .iter()
            .map(|&kind| (kind, store.matching_ids(kind, &query)))
            .collect()
    };
    Ok(xml_response(
        StatusCode::OK,
        auth_records::render(&call.ctx, &groups),
    ))
}

/// Reads `type`, a comma-separated list of record types; all types by default.
fn read_kinds(call: &Call) -> Result<Vec<RecordKind>, ApiError> {
    let Some(value) = call.params.get("type") else {
        return Ok(RecordKind::ALL.to_vec());
    };
    let mut kinds = Vec::new();
    for name in value.split(',').map(str::trim) {
        let kind = RecordKind::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| ApiError::invalid("type", value, "expected unix, vmware or vcenter"))?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.sort_by_key(|kind| RecordKind::ALL.iter().position(|k| k == kind));
    Ok(kinds)
}
