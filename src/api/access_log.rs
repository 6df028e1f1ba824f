//! One log line per request: method, path, action, user, status, Qualys code
//! and duration. The query string, headers and body are never logged, so no
//! password, `Authorization` header or session token can reach the log.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// What a handler learned about a call, passed to the log line through the
/// response extensions.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallSummary {
    /// The `action` parameter, when the call had one.
    pub(crate) action: Option<String>,
    /// The login of the caller, once identified.
    pub(crate) user: Option<String>,
    /// The Qualys error code of the answer, when it carried one.
    pub(crate) code: Option<u32>,
}

/// Adds to the summary already on `response`, creating one when absent.
pub(crate) fn note(response: &mut Response, update: impl FnOnce(&mut CallSummary)) {
    let extensions = response.extensions_mut();
    if extensions.get::<CallSummary>().is_none() {
        extensions.insert(CallSummary::default());
    }
    if let Some(summary) = extensions.get_mut::<CallSummary>() {
        update(summary);
    }
}

pub(crate) async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    let response = next.run(request).await;

    let summary = response
        .extensions()
        .get::<CallSummary>()
        .cloned()
        .unwrap_or_default();
    tracing::info!(
        %method,
        path,
        action = summary.action.as_deref().unwrap_or("-"),
        user = summary.user.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        code = summary.code,
        duration_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
