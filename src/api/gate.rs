//! The checks in front of every Qualys API route: who is calling, the
//! required header, and the rate and concurrency limits, with the limit
//! headers added to every answer.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

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
    let identified = auth::identify(&state, request.headers());
    let checked = identified.and_then(|caller| {
        auth::require_requested_with(request.headers())?;
        Ok(caller)
    });
    let caller = match checked {
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
