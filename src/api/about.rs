//! `/msp/about.php`: the version page some clients call when they connect,
//! expecting 200 and the rate-limit headers.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;
use crate::xml::about;

use super::call::xml_response;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/msp/about.php", get(serve))
        .route("/msp/about.php/", get(serve))
}

async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ctx = state.doc_context(&headers, None);
    xml_response(StatusCode::OK, about::render(&ctx))
}
