//! Caller identification: HTTP Basic credentials or a `QualysSession` cookie,
//! and the `X-Requested-With` header that Qualys requires on every v2 call.
//!
//! With no accounts configured, any user name and password are accepted, as a
//! test double should; the login name becomes the owner of the records the
//! caller writes.

use axum::http::{header, HeaderMap, HeaderName};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::settings::User;
use crate::state::AppState;

use super::error::ApiError;
use super::session;

/// The header Qualys requires on every API call; any value is accepted.
pub(crate) const REQUESTED_WITH: &str = "X-Requested-With";

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The login name from the credentials.
    pub(crate) login: String,
}

/// Identifies the caller from Basic credentials, else from the session cookie.
pub(crate) fn identify(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        let (login, password) = basic_credentials(headers)?;
        return check_password(&state.directory.read().users, &login, &password);
    }
    let token = session::session_token(headers).ok_or(ApiError::Unauthorized)?;
    let login = state
        .sessions
        .lookup(&token)
        .ok_or(ApiError::SessionInvalid)?;
    Ok(Caller { login })
}

/// Accepts `login` when no accounts are configured, or when it names a
/// configured account with exactly this password.
pub(crate) fn check_password(
    users: &[User],
    login: &str,
    password: &str,
) -> Result<Caller, ApiError> {
    let known = users.is_empty()
        || users
            .iter()
            .any(|user| user.login == login && user.password == password);
    if !known {
        return Err(ApiError::Unauthorized);
    }
    Ok(Caller {
        login: login.to_owned(),
    })
}

/// Reads the Basic credentials. A non-Basic or undecodable `Authorization`
/// header, or an empty user name, is rejected with 401.
fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), ApiError> {
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
    let (login, password) = text.split_once(':').ok_or(ApiError::Unauthorized)?;
    if login.is_empty() || login.chars().any(char::is_control) {
        return Err(ApiError::Unauthorized);
    }
    Ok((login.to_owned(), password.to_owned()))
}

/// Rejects a call without the `X-Requested-With` header.
pub(crate) fn require_requested_with(headers: &HeaderMap) -> Result<(), ApiError> {
    const NAME: HeaderName = HeaderName::from_static("x-requested-with");
    if headers.contains_key(NAME) {
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
    fn decodes_basic_credentials() {
        let headers = headers_with(&format!("Basic {}", STANDARD.encode("alice:se:cret")));

        let (login, password) = basic_credentials(&headers).unwrap();

        assert_eq!(login, "alice");
        assert_eq!(password, "se:cret");
    }

    #[test]
    fn rejects_malformed_credentials() {
        let no_colon = format!("Basic {}", STANDARD.encode("nocolon"));
        let cases = ["Bearer abc", "Basic !!!", "Basic", no_colon.as_str()];

        for case in cases {
            assert_eq!(
                basic_credentials(&headers_with(case)),
                Err(ApiError::Unauthorized),
                "{case}"
            );
        }
    }

    #[test]
    fn configured_users_need_their_password() {
        let users = vec!["alice:right".parse::<User>().unwrap()];

        assert!(check_password(&users, "alice", "right").is_ok());
        assert_eq!(
            check_password(&users, "alice", "wrong"),
            Err(ApiError::Unauthorized)
        );
        assert_eq!(
            check_password(&users, "bob", "right"),
            Err(ApiError::Unauthorized)
        );
    }
}
