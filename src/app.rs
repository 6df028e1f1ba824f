//! The router factory shared by the binary, the library handle and tests.

use std::any::Any;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::Response;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use crate::admin::faults::inject;
use crate::api::access_log::access_log;
use crate::api::call::{error_response, xml_response};
use crate::api::error::ApiError;
use crate::api::gate::{gate, requested_with};
use crate::state::AppState;
use crate::xml::record_list::format_datetime;
use crate::xml::{simple_return, DocContext};

/// Builds the whole application: Qualys routes, DTDs, a Qualys-style answer
/// for unknown paths, request tracing and a last-resort panic guard.
pub(crate) fn router(state: AppState) -> Router {
    let v2 = Router::new()
        .merge(crate::api::records::router())
        .merge(crate::api::auth_list::router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            requested_with,
        ));
    let gated = Router::new()
        .merge(v2)
        .merge(crate::api::about::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), gate));
    let fallback_state = state.clone();
    let method_state = state.clone();
    let api = Router::new()
        .merge(gated)
        .merge(crate::api::session::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), inject));
    let log_state = state.clone();
    Router::new()
        .merge(api)
        .merge(crate::api::dtd::router())
        .merge(crate::admin::router(state.clone()))
        .fallback(move |uri: Uri, headers: HeaderMap| {
            let ctx = fallback_state.doc_context(&headers, None);
            let error = ApiError::UnknownPath(uri.path().to_owned());
            async move { error_response(&ctx, &error) }
        })
        .method_not_allowed_fallback(move |method: Method, headers: HeaderMap| {
            let ctx = method_state.doc_context(&headers, None);
            let error = ApiError::UnsupportedMethod(method.to_string());
            async move { error_response(&ctx, &error) }
        })
        .with_state(state)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(log_state, access_log))
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
