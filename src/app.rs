//! The router factory shared by the binary, the library handle and tests.

use std::any::Any;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::Response;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use crate::api::access_log::access_log;
use crate::api::call::{error_response, xml_response};
use crate::api::error::ApiError;
use crate::api::gate::{guard, Checks};
use crate::state::AppState;
use crate::xml::record_list::format_datetime;
use crate::xml::{simple_return, DocContext};

/// Builds the whole application: Qualys routes, DTDs, a Qualys-style answer
/// for unknown paths, request tracing and a last-resort panic guard.
pub(crate) fn router(state: AppState) -> Router {
    let guarded = |router: Router<AppState>, checks: Checks| {
        router.route_layer(middleware::from_fn_with_state(
            (state.clone(), checks),
            guard,
        ))
    };
    let api = Router::new()
        // The record routes, the busiest, run the same checks themselves.
        .merge(crate::api::records::router())
        .merge(guarded(
            crate::api::auth_list::router(),
            Checks::CallerAndHeader,
        ))
        .merge(guarded(crate::api::about::router(), Checks::Caller))
        .merge(guarded(crate::api::session::router(), Checks::FaultsOnly));
    let fallback_state = state.clone();
    let method_state = state.clone();
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
