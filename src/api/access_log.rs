//! One log line per request: method, path, action, user, status, Qualys code
//! and duration. The query string, headers and body are never logged, so no
//! password, `Authorization` header or session token can reach the log.

use std::cell::RefCell;
use std::future::Future;
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use compact_str::CompactString;

use crate::admin::journal::Recorded;
use crate::api::params::Params;
use crate::state::AppState;

/// The facts a handler gathered about a call, for the log line and the journal.
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

tokio::task_local! {
    /// The summary of the call the current task is serving.
    static SUMMARY: RefCell<CallSummary>;
}

/// Adds to the summary of the call being served. Outside [`logged`], as
/// in a handler called on its own, there is no summary and nothing happens.
pub(crate) fn note(update: impl FnOnce(&mut CallSummary)) {
    let _ = SUMMARY.try_with(|summary| update(&mut summary.borrow_mut()));
}

/// Serves `request` with `serve`, then logs it and adds API calls (paths
/// under `/api/` and `/msp/`) to the request journal.
pub(crate) async fn logged<F, Fut>(state: &AppState, request: Request, serve: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let started = Instant::now();
    let arrived = state.clock.now_text();
    let method = request.method().clone();
    let path = CompactString::new(request.uri().path());

    let served = async {
        let response = serve(request).await;
        (response, SUMMARY.with(RefCell::take))
    };
    let (response, summary) = SUMMARY.scope(RefCell::default(), served).await;
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
