//! One log line per request: method, path, action, user, status, Qualys code
//! and duration. The query string, headers and body are never logged, so no
//! password, `Authorization` header or session token can reach the log.

use std::future::Future;
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use compact_str::CompactString;

use crate::admin::journal::Recorded;
use crate::api::params::Params;
use crate::state::AppState;
use crate::xml::record_list::format_datetime;

/// What a handler learned about a call, passed to the log line through the
/// response extensions.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallSummary {
    /// The `action` parameter, when the call had one.
    pub(crate) action: Option<CompactString>,
    /// The login of the caller, once identified.
    pub(crate) user: Option<CompactString>,
    /// The Qualys error code of the answer, when it carried one.
    pub(crate) code: Option<u32>,
    /// The parameters, secrets masked, for the journal (never the log).
    pub(crate) params: Params,
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

/// Serves `request` with `serve`, then logs it and adds API calls (paths
/// under `/api/` and `/msp/`) to the request journal.
pub(crate) async fn logged<F, Fut>(state: &AppState, request: Request, serve: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let arrived = format_datetime(state.now());
    let method = request.method().clone();
    let path = CompactString::new(request.uri().path());

    let mut response = serve(request).await;

    let summary = response
        .extensions_mut()
        .remove::<CallSummary>()
        .unwrap_or_default();
    let duration_us = started.elapsed().as_micros() as u64;
    tracing::info!(
        %method,
        path = path.as_str(),
        action = summary.action.as_deref().unwrap_or("-"),
        user = summary.user.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        code = summary.code,
        duration_us,
        "request"
    );
    if path.starts_with("/api/") || path.starts_with("/msp/") {
        state.journal.record(Recorded {
            time: arrived,
            method,
            path,
            action: summary.action,
            params: summary.params,
            user: summary.user,
            status: response.status().as_u16(),
            code: summary.code,
            duration_us,
        });
    }
    response
}
