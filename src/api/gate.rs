//! The checks in front of every Qualys API route, in one middleware: the
//! fault rules, who is calling, the rate and concurrency limits (reported in
//! headers on every answer) and, on v2 routes, the `X-Requested-With` header.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::admin::faults;
use crate::state::AppState;

use super::access_log;
use super::auth;
use super::call::error_response;
use super::error::ApiError;
use super::limits::LimitExceeded;

/// Which checks a group of routes gets besides the fault rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checks {
    /// None: the session routes, which establish who the caller is.
    FaultsOnly,
    /// Caller and limits: the v1 pages under `/msp/`.
    Caller,
    /// Caller, limits and `X-Requested-With`: every v2 route.
    CallerAndHeader,
}

/// Runs the checks for `checks`, then the route. The caller is passed to the
/// handler in the request extensions.
pub(crate) async fn guard(
    State((state, checks)): State<(AppState, Checks)>,
    request: Request,
    next: Next,
) -> Response {
    faults::inject(&state, request, |request| {
        admit(&state, checks, request, next)
    })
    .await
}

async fn admit(state: &AppState, checks: Checks, mut request: Request, next: Next) -> Response {
    if checks == Checks::FaultsOnly {
        return next.run(request).await;
    }
    let caller = match auth::identify(state, request.headers()) {
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
            let response = if checks == Checks::CallerAndHeader {
                requested_with(state, request, caller, next).await
            } else {
                request.extensions_mut().insert(caller);
                next.run(request).await
            };
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
async fn requested_with(
    state: &AppState,
    mut request: Request,
    caller: auth::Caller,
    next: Next,
) -> Response {
    if let Err(error) = auth::require_requested_with(request.headers()) {
        let ctx = state.doc_context(request.headers(), None);
        return error_response(&ctx, &error);
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}
