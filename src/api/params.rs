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
    /// Names of parameters whose percent-decoded bytes are not UTF-8; their
    /// values hold U+FFFD in place of the bad bytes and must be rejected.
    not_utf8: Vec<String>,
}

/// Maximum number of parameters in one request. Qualys calls use a few
/// dozen at most, and the limit keeps a hostile request from costing seconds.
pub(crate) const MAX_PARAMS: usize = 1000;

/// Maximum number of unknown names one 1901 message lists.
const MAX_LISTED_UNKNOWN: usize = 20;

/// Parameters whose values are secrets and are masked wherever they are shown.
pub(crate) const SECRET_PARAMS: &[&str] = &["password"];

impl Params {
    /// Merges the query string and the body, both read as
    /// `application/x-www-form-urlencoded`.
    pub(crate) fn from_parts(query: Option<&str>, body: &[u8]) -> Params {
        let mut params = Params::default();
        params.parse_form(query.unwrap_or("").as_bytes());
        params.parse_form(body);
        params
    }

    /// Wraps pairs that did not come from a request, such as seed data.
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params {
            pairs,
            not_utf8: Vec::new(),
        }
    }

    /// Reads `key=value` pairs separated by `&`, with `+` for space and
    /// percent escapes. Unlike a lossy decoder, it remembers which names had
    /// bytes that are not UTF-8, so they can be rejected rather than stored
    /// with replacement characters.
    fn parse_form(&mut self, input: &[u8]) {
        if input.is_empty() {
            return;
        }
        // One slot per `&`-separated piece, up to the most a request may send.
        let pieces = input.iter().filter(|&&b| b == b'&').count() + 1;
        self.pairs.reserve(pieces.min(MAX_PARAMS + 1));
        for piece in input
            .split(|&b| b == b'&')
            .filter(|piece| !piece.is_empty())
        {
            let (key, value) = match piece.iter().position(|&b| b == b'=') {
                Some(at) => (&piece[..at], &piece[at + 1..]),
                None => (piece, &b""[..]),
            };
            let (key, key_ok) = decode_component(key);
            let (value, value_ok) = decode_component(value);
            if !(key_ok && value_ok) {
                self.not_utf8.push(key.clone());
            }
            self.pairs.push((key, value));
        }
    }

    /// Rejects a request with too many parameters or with bytes that are
    /// not UTF-8.
    pub(crate) fn check_shape(&self) -> Result<(), ApiError> {
        if self.pairs.len() > MAX_PARAMS {
            return Err(ApiError::TooManyParams(MAX_PARAMS));
        }
        match self.not_utf8.first() {
            Some(name) => Err(ApiError::NotUtf8(display_name(name))),
            None => Ok(()),
        }
    }

    /// Returns the last value sent for `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Returns whether `name` was sent, even with an empty value.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }

    /// Returns the pairs as sent, with secrets masked, for echoes and journals.
    pub(crate) fn masked(&self) -> Vec<(String, String)> {
        self.clone().into_masked()
    }

    /// Turns the parameters into pairs as [`Params::masked`] does, reusing
    /// the strings.
    pub(crate) fn into_masked(self) -> Vec<(String, String)> {
        let mut pairs = self.pairs;
        for (key, value) in &mut pairs {
            if SECRET_PARAMS.contains(&key.as_str()) {
                *value = "********".to_owned();
            } else if looks_secret(key) {
                // A misspelt or malformed name (`passwd`, a JSON body read
                // as a form) may carry a password in name or value.
                *key = display_name(key);
                *value = "********".to_owned();
            }
        }
        pairs
    }

    /// Rejects every parameter not in `allowed`, naming each once (up to a
    /// limit, so the message stays short).
    pub(crate) fn reject_unknown(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let mut seen = std::collections::HashSet::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut more = 0usize;
        for (key, _) in &self.pairs {
            if allowed.contains(&key.as_str()) || !seen.insert(key.as_str()) {
                continue;
            }
            if unknown.len() < MAX_LISTED_UNKNOWN {
                unknown.push(display_name(key));
            } else {
                more += 1;
            }
        }
        if more > 0 {
            unknown.push(format!("and {more} more"));
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

/// Decodes one form component; the flag is false when the bytes are not UTF-8.
fn decode_component(raw: &[u8]) -> (String, bool) {
    if !raw.iter().any(|&b| b == b'+' || b == b'%') {
        if let Ok(text) = std::str::from_utf8(raw) {
            return (text.to_owned(), true);
        }
    }
    // `+` is a space, but an escaped `%2B` is a plus sign: decode the
    // escapes of each piece between the `+` signs.
    let mut bytes = Vec::with_capacity(raw.len());
    for (i, piece) in raw.split(|&b| b == b'+').enumerate() {
        if i > 0 {
            bytes.push(b' ');
        }
        bytes.extend(percent_encoding::percent_decode(piece));
    }
    match String::from_utf8(bytes) {
        Ok(text) => (text, true),
        Err(error) => (
            String::from_utf8_lossy(error.as_bytes()).into_owned(),
            false,
        ),
    }
}

/// A parameter name as an error message may show it: shortened, and hidden
/// when it looks like it carries a password, as a malformed pair such as
/// `password:secret` does.
fn display_name(name: &str) -> String {
    if looks_secret(name) {
        return "(a name containing 'pass', hidden)".to_owned();
    }
    if name.chars().count() > 64 {
        let head: String = name.chars().take(64).collect();
        return format!("{head}...");
    }
    name.to_owned()
}

/// Whether a parameter name other than `password` itself suggests a secret.
fn looks_secret(name: &str) -> bool {
    name != "password"
        && name
            .as_bytes()
            .windows(4)
            .any(|window| window.eq_ignore_ascii_case(b"pass"))
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
    if !value.chars().all(crate::xml::is_xml_char) {
        return Err(invalid(
            "it holds characters that XML 1.0 cannot carry, such as U+FFFE".to_owned(),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// Reads a text parameter that may not be empty when given; an empty or
/// blank value counts as missing, as it does for a required parameter.
pub(crate) fn non_empty_text(
    params: &Params,
    name: &'static str,
    rule: TextRule,
) -> Result<Option<String>, ApiError> {
    match text(params, name, rule)? {
        Some(value) if value.trim().is_empty() => Err(ApiError::MissingParams(vec![name])),
        other => Ok(other),
    }
}

/// Reads a parameter whose value is one of `choices`. Like `action`, every
/// enumeration ignores ASCII case but not surrounding spaces.
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
        .find(|(text, _)| text.eq_ignore_ascii_case(value));
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
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<u64>() {
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
    fn masks_misspelt_secret_names() {
        let params = Params::from_parts(Some("password=a&Passwd=b&title=t"), b"my_pass_word=c&x=y");
        let hidden = "(a name containing 'pass', hidden)".to_owned();
        let stars = "********".to_owned();

        let masked = params.masked();

        assert_eq!(masked[0], ("password".to_owned(), stars.clone()));
        assert_eq!(masked[1], (hidden.clone(), stars.clone()));
        assert_eq!(masked[2], ("title".to_owned(), "t".to_owned()));
        assert_eq!(masked[3], (hidden, stars));
        assert_eq!(masked[4], ("x".to_owned(), "y".to_owned()));
    }

    proptest::proptest! {
        #[test]
        fn decodes_as_form_urlencoded_does(raw in "[a-z+%0-9A-F=&\u{e9}]{0,24}") {
            let params = Params::from_parts(None, raw.as_bytes());
            let expected: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();

            // Pairs whose bytes are not UTF-8 are flagged rather than kept.
            if params.check_shape().is_ok() {
                proptest::prop_assert_eq!(params.pairs, expected);
            }
        }
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
