//! The router factory shared by the binary, the library handle and tests.

use std::any::Any;

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::call::{error_response, xml_response};
use crate::api::error::ApiError;
use crate::state::AppState;
use crate::xml::record_list::format_datetime;
use crate::xml::{simple_return, DocContext};

/// Builds the whole application: Qualys routes, DTDs, a Qualys-style answer
/// for unknown paths, request tracing and a last-resort panic guard.
pub(crate) fn router(state: AppState) -> Router {
    let fallback_state = state.clone();
    Router::new()
        .merge(crate::api::records::router())
        .merge(crate::api::dtd::router())
        .fallback(move |uri: Uri, headers: axum::http::HeaderMap| {
            let state = fallback_state.clone();
            async move {
                let ctx = DocContext {
                    base_url: state.base_url(&headers),
                    datetime: format_datetime(state.now()),
                    echo: None,
                };
                error_response(&ctx, &ApiError::UnknownPath(uri.path().to_owned()))
            }
        })
        .with_state(state)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(Level::INFO)))
}

/// Answers a request whose handler panicked. The panic is a bug in the mock;
/// the client still gets well-formed XML, and the panic message is logged.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "request handler panicked");
    let ctx = DocContext {
        base_url: String::new(),
        datetime: format_datetime(time::OffsetDateTime::now_utc()),
        echo: None,
    };
    let body = simple_return::render(&ctx, Some(999), "Internal error in qualys-mock", &[]);
    xml_response(StatusCode::INTERNAL_SERVER_ERROR, body)
}
