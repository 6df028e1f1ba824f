//! `GET /__admin/`: a small web page that shows records, the request journal,
//! fault rules and limits, built only on the admin API. Its HTML, CSS and
//! JavaScript are one file compiled into the binary, so it works offline.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The page, with its styles and script inline.
const PAGE: &str = include_str!("dashboard.html");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/__admin/", get(page))
        .route("/__admin", get(page))
}

async fn page() -> Response {
    let mut response = Html(PAGE).into_response();
    // The page loads nothing from elsewhere; say so to the browser too.
    let policy =
        "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'";
    if let Ok(value) = policy.parse() {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
