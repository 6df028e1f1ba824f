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
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let directory = state.directory.load();
        if let Some(login) = directory.accepted.login_for(value) {
            return Ok(Caller { login });
        }
        let (login, password) = basic_credentials(headers)?;
        let caller = check_password(&directory.users, &login, &password)?;
        directory.accepted.remember(value, &caller.login);
        return Ok(caller);
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

    fn basic(login_and_password: &str) -> HeaderMap {
        headers_with(&format!("Basic {}", STANDARD.encode(login_and_password)))
    }

    #[test]
    fn remembered_credentials_follow_the_accounts() {
        let settings = crate::settings::Settings::default();
        let state = AppState::new(settings, None).unwrap();
        let carol = basic("carol:anything");
        // With no accounts any credentials pass, the second time from memory.
        for _ in 0..2 {
            assert_eq!(identify(&state, &carol).unwrap().login, "carol");
        }

        let doc = r#"{"users": [{"login": "bob", "password": "pw"}]}"#;
        state.import(&serde_json::from_str(doc).unwrap()).unwrap();

        assert_eq!(identify(&state, &carol), Err(ApiError::Unauthorized));
        for _ in 0..2 {
            assert_eq!(identify(&state, &basic("bob:pw")).unwrap().login, "bob");
        }
        assert_eq!(
            identify(&state, &basic("bob:wrong")),
            Err(ApiError::Unauthorized)
        );
        assert_eq!(identify(&state, &basic("bob:pw")).unwrap().login, "bob");
    }
}
