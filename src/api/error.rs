//! Errors about a request as a whole, and the one place that maps each to its
//! HTTP status, Qualys CODE and TEXT. They are rendered as SIMPLE_RETURN.
//!
//! Failures of single records inside a create, update or delete are not here:
//! they travel as BATCHes (see `batch`).

use axum::http::StatusCode;

use crate::domain::record::RuleViolation;

/// A request the mock rejects before touching the store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    /// No usable Basic credentials.
    #[error("Bad Login/Password")]
    Unauthorized,
    /// A `QualysSession` cookie that names no live session.
    #[error("Session not found or expired; log in again")]
    SessionInvalid,
    /// Too many calls by this user are running.
    #[error("This API cannot be run again until {0} currently running instance(s) have finished")]
    ConcurrencyLimit(u32),
    /// Too many calls by this user in the current window.
    #[error("This API cannot be run again for another {0} second(s)")]
    RateLimit(u64),
    /// A header Qualys requires on every call is absent.
    #[error("Missing required header: {0}")]
    MissingHeader(&'static str),
    /// Parameters the action does not take.
    #[error("Unrecognized parameter(s): {}", .0.join(", "))]
    UnknownParams(Vec<String>),
    /// Parameters the action needs.
    #[error("Missing required parameter(s): {}", .0.join(", "))]
    MissingParams(Vec<&'static str>),
    /// Parameters that cannot be given together.
    #[error("Only one of these parameters may be specified: {}", .0.join(", "))]
    ExclusiveParams(Vec<&'static str>),
    /// A parameter whose value is malformed or out of range.
    #[error("Parameter {param} has invalid value: {value} ({reason})")]
    InvalidValue {
        /// The parameter name.
        param: &'static str,
        /// The value as shown to the client: shortened, or hidden for secrets.
        value: String,
        /// Why the value is invalid and what is accepted.
        reason: String,
    },
    /// Parameters that are valid alone but not together.
    #[error("This combination of key=value pairs is not supported: {0}")]
    UnsupportedCombination(String),
    /// An action sent with a method it does not allow, such as create over GET.
    #[error("Request method {method} is not allowed for action={action}; use POST")]
    WrongMethod {
        /// The method the client used.
        method: String,
        /// The action it asked for.
        action: String,
    },
    /// A method the API does not serve at all, such as PUT.
    #[error("Request method {0} is not supported; use GET or POST")]
    UnsupportedMethod(String),
    /// None of a group of parameters was given.
    #[error("At least one of these parameters is required: {}", .0.join(", "))]
    AtLeastOne(Vec<&'static str>),
    /// More parameters than any Qualys call uses.
    #[error("Request has more than {0} parameters")]
    TooManyParams(usize),
    /// A parameter whose percent-decoded bytes are not UTF-8.
    #[error("Parameter {0} has invalid value: its percent-decoded bytes are not valid UTF-8")]
    NotUtf8(String),
    /// A request body that could not be read, such as broken chunked encoding.
    #[error("The request body could not be read: {0}")]
    BadBody(String),
    /// The request body exceeds the configured limit.
    #[error("Request body exceeds the limit of {0} bytes")]
    BodyTooLarge(usize),
    /// A path under `/api/` that the mock does not serve.
    #[error("The requested API resource {0} does not exist")]
    UnknownPath(String),
}

impl ApiError {
    /// Returns the HTTP status Qualys responds with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::SessionInvalid => StatusCode::UNAUTHORIZED,
            ApiError::ConcurrencyLimit(_) | ApiError::RateLimit(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMethod(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnknownPath(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The Qualys error code written in RESPONSE/CODE.
    pub(crate) fn code(&self) -> u32 {
        match self {
            // NOTE: the code for an expired session is not documented; the
            // bad-login code is the closest documented one.
            ApiError::Unauthorized | ApiError::SessionInvalid => 2000,
            ApiError::ConcurrencyLimit(_) => 1960,
            ApiError::RateLimit(_) => 1965,
            ApiError::UnknownParams(_) => 1901,
            // NOTE: the code Qualys sends for a missing X-Requested-With header
            // is not documented; 1903 (missing required input) is a best guess.
            ApiError::MissingHeader(_) | ApiError::MissingParams(_) => 1903,
            ApiError::ExclusiveParams(_) => 1904,
            ApiError::InvalidValue { .. }
            | ApiError::BodyTooLarge(_)
            | ApiError::TooManyParams(_)
            | ApiError::NotUtf8(_)
            | ApiError::BadBody(_) => 1905,
            ApiError::UnsupportedCombination(_) => 1907,
            ApiError::WrongMethod { .. } | ApiError::UnsupportedMethod(_) => 1908,
            ApiError::AtLeastOne(_) => 1922,
            ApiError::UnknownPath(_) => 1901,
        }
    }

    /// The ITEM_LIST entries that go with the error.
    pub(crate) fn items(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::ConcurrencyLimit(calls) => vec![("CALLS_TO_FINISH", calls.to_string())],
            ApiError::RateLimit(seconds) => vec![("SECONDS_TO_WAIT", seconds.to_string())],
            _ => Vec::new(),
        }
    }

    /// Builds an [`ApiError::InvalidValue`], shortening long values so an
    /// error never echoes megabytes back.
    pub(crate) fn invalid(param: &'static str, value: &str, reason: impl Into<String>) -> ApiError {
        ApiError::InvalidValue {
            param,
            value: shorten(value),
            reason: reason.into(),
        }
    }

    /// Builds an [`ApiError::InvalidValue`] for a secret, whose value is hidden.
    pub(crate) fn invalid_secret(param: &'static str, reason: impl Into<String>) -> ApiError {
        ApiError::InvalidValue {
            param,
            value: "(hidden)".to_owned(),
            reason: reason.into(),
        }
    }

    /// Maps a rule broken by the fields of a request to the error Qualys gives
    /// for it. `vault_id_given` tells the password-with-vault case, which is a
    /// documented 1904, from the password-with-login_type=vault case.
    pub(crate) fn from_rule(rule: &RuleViolation, vault_id_given: bool) -> ApiError {
        match rule {
            RuleViolation::MissingPassword => ApiError::MissingParams(vec!["password"]),
            RuleViolation::MissingVault => ApiError::MissingParams(vec!["vault_type", "vault_id"]),
            RuleViolation::PasswordWithVault if vault_id_given => {
                ApiError::ExclusiveParams(vec!["password", "vault_id"])
            }
            other => ApiError::UnsupportedCombination(other.to_string()),
        }
    }
}

/// Maximum length of a value an error message repeats, in characters.
const MAX_ECHOED_VALUE: usize = 64;

fn shorten(value: &str) -> String {
    if value.chars().count() <= MAX_ECHOED_VALUE {
        return value.to_owned();
    }
    let head: String = value.chars().take(MAX_ECHOED_VALUE).collect();
    format!("{head}... ({} characters)", value.chars().count())
}
