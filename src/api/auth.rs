//! Caller identification: HTTP Basic credentials and the `X-Requested-With`
//! header that Qualys requires on every v2 call.
//!
//! By default any user name and password are accepted, as a test double
//! should; the login name becomes the owner of the records the caller writes.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::ApiError;

/// The header Qualys requires on every API call; any value is accepted.
pub(crate) const REQUESTED_WITH: &str = "X-Requested-With";

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The login name from the credentials.
    pub(crate) login: String,
}

/// Reads the Basic credentials. A missing, non-Basic or undecodable
/// `Authorization` header, or an empty user name, is rejected with 401.
pub(crate) fn authenticate(headers: &HeaderMap) -> Result<Caller, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized)?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::Unauthorized);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| ApiError::Unauthorized)?;
    let text = String::from_utf8(decoded).map_err(|_| ApiError::Unauthorized)?;
    let (login, _password) = text.split_once(':').ok_or(ApiError::Unauthorized)?;
    if login.is_empty() || login.chars().any(char::is_control) {
        return Err(ApiError::Unauthorized);
    }
    Ok(Caller {
        login: login.to_owned(),
    })
}

/// Rejects a call without the `X-Requested-With` header.
pub(crate) fn require_requested_with(headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.contains_key(REQUESTED_WITH) {
        Ok(())
    } else {
        Err(ApiError::MissingHeader(REQUESTED_WITH))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization.parse().unwrap());
        headers
    }

    #[test]
    fn accepts_any_basic_credentials() {
        let headers = headers_with(&format!("Basic {}", STANDARD.encode("alice:secret")));

        let caller = authenticate(&headers).unwrap();

        assert_eq!(caller.login, "alice");
    }

    #[test]
    fn rejects_malformed_credentials() {
        let cases = [
            "Bearer abc",
            "Basic !!!",
            "Basic",
            &format!("Basic {}", STANDARD.encode("nocolon")),
        ];

        for case in cases {
            assert_eq!(
                authenticate(&headers_with(case)),
                Err(ApiError::Unauthorized),
                "{case}"
            );
        }
    }
}
