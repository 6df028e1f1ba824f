//! The checks in front of every Qualys API route: who is calling and the rate
//! and concurrency limits, with the limit headers added to every answer; and
//! the `X-Requested-With` check in front of every v2 route.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

use super::access_log;
use super::auth;
use super::call::error_response;
use super::error::ApiError;
use super::limits::LimitExceeded;

/// Admits a call, runs it, and reports the limits on the response. The
/// caller is passed to the handler in the request extensions.
pub(crate) async fn gate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match auth::identify(&state, request.headers()) {
        Ok(caller) => caller,
        Err(error) => {
            let ctx = state.doc_context(request.headers(), None);
            let mut response = error_response(&ctx, &error);
            state
                .limits
                .anonymous_report()
                .write_headers(response.headers_mut());
            return response;
        }
    };

    let caller_login = caller.login.clone();
    let (permit, report) = state.limits.begin(&caller.login);
    let mut response = match permit {
        Ok(permit) => {
            request.extensions_mut().insert(caller);
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(exceeded) => {
            let ctx = state.doc_context(request.headers(), None);
            error_response(&ctx, &limit_error(exceeded))
        }
    };
    report.write_headers(response.headers_mut());
    access_log::note(&mut response, |summary| summary.user = Some(caller_login));
    response
}

fn limit_error(exceeded: LimitExceeded) -> ApiError {
    match exceeded {
        LimitExceeded::Concurrency { calls_to_finish } => {
            ApiError::ConcurrencyLimit(calls_to_finish)
        }
        LimitExceeded::Rate { seconds_to_wait } => ApiError::RateLimit(seconds_to_wait),
    }
}

/// Rejects v2 calls without the `X-Requested-With` header. The v1 pages under
/// `/msp/` do not need it.
pub(crate) async fn requested_with(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(error) = auth::require_requested_with(request.headers()) {
        let ctx = state.doc_context(request.headers(), None);
        return error_response(&ctx, &error);
    }
    next.run(request).await
}
