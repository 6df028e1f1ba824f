//! Request parameters: the URL query and the urlencoded body merged into one
//! ordered list, and the typed readers that turn values into domain types.
//!
//! Qualys reads parameters from both places whatever the content type, and a
//! repeated parameter takes its last value.

use crate::domain::id_set::IdSet;
use crate::domain::ip_set::IpSet;

use super::error::ApiError;

/// Parameters in the order they arrived: query first, then body.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

/// Parameters whose values are secrets and are masked wherever they are shown.
pub(crate) const SECRET_PARAMS: &[&str] = &["password"];

impl Params {
    /// Merges the query string and the body, both read as
    /// `application/x-www-form-urlencoded`.
    pub(crate) fn from_parts(query: Option<&str>, body: &[u8]) -> Params {
        let query = query.unwrap_or("").as_bytes();
        let pairs = form_urlencoded::parse(query)
            .chain(form_urlencoded::parse(body))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params { pairs }
    }

    /// Wraps pairs that did not come from a request, such as seed data.
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    /// The last value given for `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether `name` was given, even with an empty value.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }

    /// The pairs as sent, with secret values masked, for echoes and journals.
    pub(crate) fn masked(&self) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .map(|(key, value)| {
                let value = if SECRET_PARAMS.contains(&key.as_str()) {
                    "********".to_owned()
                } else {
                    value.clone()
                };
                (key.clone(), value)
            })
            .collect()
    }

    /// Rejects every parameter not in `allowed`, naming each once.
    pub(crate) fn reject_unknown(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let mut unknown: Vec<String> = Vec::new();
        for (key, _) in &self.pairs {
            if !allowed.contains(&key.as_str()) && !unknown.contains(key) {
                unknown.push(key.clone());
            }
        }
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ApiError::UnknownParams(unknown))
        }
    }

    /// Rejects the request when more than one of `names` is given.
    pub(crate) fn reject_together(&self, names: &[&'static str]) -> Result<(), ApiError> {
        let given: Vec<&'static str> = names.iter().copied().filter(|n| self.has(n)).collect();
        if given.len() > 1 {
            return Err(ApiError::ExclusiveParams(given));
        }
        Ok(())
    }

    /// Every pair except those named `skip`, for building a follow-up URL.
    pub(crate) fn pairs_except<'a>(
        &'a self,
        skip: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.pairs
            .iter()
            .filter(move |(key, _)| key != skip)
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }
}

/// Limits on a free-text parameter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextRule {
    /// Maximum length in characters.
    pub(crate) max_len: usize,
    /// Whether only ASCII is accepted.
    pub(crate) ascii: bool,
    /// Whether tabs and line breaks are accepted.
    pub(crate) multiline: bool,
    /// Whether the value is a secret that errors must not repeat.
    pub(crate) secret: bool,
}

impl TextRule {
    /// A single-line ASCII value of at most `max_len` characters.
    pub(crate) const fn ascii(max_len: usize) -> TextRule {
        TextRule {
            max_len,
            ascii: true,
            multiline: false,
            secret: false,
        }
    }
}

/// Reads a text parameter: `None` when absent, the value when it obeys `rule`.
pub(crate) fn text(
    params: &Params,
    name: &'static str,
    rule: TextRule,
) -> Result<Option<String>, ApiError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    let invalid = |reason: String| {
        if rule.secret {
            ApiError::invalid_secret(name, reason)
        } else {
            ApiError::invalid(name, value, reason)
        }
    };
    let len = value.chars().count();
    if len > rule.max_len {
        return Err(invalid(format!(
            "longer than {} characters: {len}",
            rule.max_len
        )));
    }
    if rule.ascii && !value.is_ascii() {
        return Err(invalid("only ASCII characters are accepted".to_owned()));
    }
    let allowed_control = |c: char| rule.multiline && matches!(c, '\t' | '\n' | '\r');
    if value.chars().any(|c| c.is_control() && !allowed_control(c)) {
        return Err(invalid("control characters are not accepted".to_owned()));
    }
    Ok(Some(value.to_owned()))
}

/// Reads a text parameter that may not be empty when given; an empty value
/// counts as missing, as it does for a required parameter on Qualys.
pub(crate) fn non_empty_text(
    params: &Params,
    name: &'static str,
    rule: TextRule,
) -> Result<Option<String>, ApiError> {
    match text(params, name, rule)? {
        Some(value) if value.is_empty() => Err(ApiError::MissingParams(vec![name])),
        other => Ok(other),
    }
}

/// Reads a parameter whose value is one of `choices`, compared without ASCII case.
pub(crate) fn choice<T: Copy>(
    params: &Params,
    name: &'static str,
    choices: &[(&str, T)],
) -> Result<Option<T>, ApiError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    let found = choices
        .iter()
        .find(|(text, _)| text.eq_ignore_ascii_case(value.trim()));
    match found {
        Some((_, parsed)) => Ok(Some(*parsed)),
        None => {
            let names: Vec<&str> = choices.iter().map(|(text, _)| *text).collect();
            Err(ApiError::invalid(
                name,
                value,
                format!("expected one of {}", names.join(", ")),
            ))
        }
    }
}

/// Reads a `0` or `1` flag.
pub(crate) fn flag(params: &Params, name: &'static str) -> Result<Option<bool>, ApiError> {
    choice(params, name, &[("0", false), ("1", true)])
}

/// Reads a decimal integer in `min..=max`.
pub(crate) fn integer(
    params: &Params,
    name: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ApiError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    let trimmed = value.trim();
    let digits = !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit());
    match trimmed.parse::<u64>() {
        Ok(n) if digits && (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::invalid(
            name,
            value,
            format!("expected an integer from {min} to {max}"),
        )),
    }
}

/// Reads an ID list such as `12,1359-1407`.
pub(crate) fn ids(params: &Params, name: &'static str) -> Result<Option<IdSet>, ApiError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    IdSet::parse(value)
        .map(Some)
        .map_err(|error| ApiError::invalid(name, value, error.to_string()))
}

/// Reads an IP list such as `10.0.0.1,10.0.0.5-10.0.0.9`.
pub(crate) fn ips(params: &Params, name: &'static str) -> Result<Option<IpSet>, ApiError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    IpSet::parse(value)
        .map(Some)
        .map_err(|error| ApiError::invalid(name, value, error.to_string()))
}

/// Reads a comma-separated list of host names (FQDNs). An empty value gives
/// an empty list, which clears the hosts on update.
pub(crate) fn hosts(params: &Params, name: &'static str) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = params.get(name) else {
        return Ok(None);
    };
    if value.trim().is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut hosts = Vec::new();
    for host in value.split(',').map(str::trim) {
        if !is_host_name(host) {
            let reason = format!("'{host}' is not a valid host name");
            return Err(ApiError::invalid(name, value, reason));
        }
        hosts.push(host.to_owned());
    }
    Ok(Some(hosts))
}

/// Checks the shape of a DNS name: dot-separated labels of letters, digits,
/// hyphens and underscores, at most 63 characters each and 253 in all.
fn is_host_name(host: &str) -> bool {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    !host.is_empty() && host.len() <= 253 && host.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_query_and_body_last_wins() {
        let params = Params::from_parts(Some("action=list&title=a"), b"title=b&x=%20y");

        assert_eq!(params.get("action"), Some("list"));
        assert_eq!(params.get("title"), Some("b"));
        assert_eq!(params.get("x"), Some(" y"));
    }

    #[test]
    fn masks_passwords() {
        let params = Params::from_parts(None, b"password=hunter2&title=t");

        let masked = params.masked();

        assert_eq!(masked[0], ("password".to_owned(), "********".to_owned()));
    }

    #[test]
    fn names_unknown_parameters_once() {
        let params = Params::from_parts(Some("a=1&b=2&a=3"), b"");

        let error = params.reject_unknown(&["b"]).unwrap_err();

        assert_eq!(error, ApiError::UnknownParams(vec!["a".to_owned()]));
    }

    #[test]
    fn text_rule_limits_length_and_charset() {
        let rule = TextRule::ascii(3);
        let long = Params::from_parts(None, b"t=abcd");
        let accented = Params::from_parts(None, "t=\u{e9}".as_bytes());

        assert!(text(&long, "t", rule).is_err());
        assert!(text(&accented, "t", rule).is_err());
    }

    #[test]
    fn host_names_are_checked() {
        assert!(is_host_name("esx-01.example.com"));
        assert!(!is_host_name("bad host"));
        assert!(!is_host_name("a..b"));
    }
}
