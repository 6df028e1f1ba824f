//! Request parameters: the URL query and the urlencoded body merged into one
//! ordered list, and the typed readers that turn values into domain types.
//!
//! Qualys reads parameters from both places whatever the content type, and a
//! repeated parameter takes its last value.

use crate::domain::id_set::IdSet;
use crate::domain::ip_set::IpSet;

use super::error::ApiError;

/// Parameters in the order they arrived: query first, then body.
///
/// Every decoded name and value is kept in one string, and each pair is
/// kept as positions in it, so reading a request's parameters costs two
/// allocations however many it has.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    text: String,
    /// Per pair: where its name and its value are in `text`.
    pairs: Vec<Pair>,
    /// The pairs whose percent-decoded bytes are not UTF-8; they hold U+FFFD
    /// in place of the bad bytes and must be rejected.
    not_utf8: Vec<usize>,
}

/// The positions of one name and its value in [`Params::text`].
#[derive(Clone, Copy, Debug)]
struct Pair {
    key: (usize, usize),
    value: (usize, usize),
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
    pub(crate) fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params {
        let mut params = Params::default();
        for (key, value) in pairs {
            params.push(key.as_ref(), value.as_ref());
        }
        params
    }

    fn push(&mut self, key: &str, value: &str) {
        let key = self.append(key);
        let value = self.append(value);
        self.pairs.push(Pair { key, value });
    }

    /// Appends `text`, returning where it went.
    fn append(&mut self, text: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    /// Reads `key=value` pairs separated by `&`, with `+` for space and
    /// percent escapes. Unlike a lossy decoder, it remembers which names had
    /// bytes that are not UTF-8, so they can be rejected rather than stored
    /// with replacement characters.
    fn parse_form(&mut self, input: &[u8]) {
        if input.is_empty() {
            return;
        }
        if memchr::memchr2(b'+', b'%', input).is_none() {
            if let Ok(input) = std::str::from_utf8(input) {
                return self.parse_plain_form(input);
            }
        }
        // Decoding never makes a component longer, except for the rare
        // replacement characters.
        self.text.reserve(input.len());
        // One slot per `&`-separated piece, up to the most a request may send.
        let pieces = input.iter().filter(|&&b| b == b'&').count() + 1;
        self.pairs.reserve(pieces.min(MAX_PARAMS + 1));
        let mut scratch = Vec::new();
        for piece in input
            .split(|&b| b == b'&')
            .filter(|piece| !piece.is_empty())
        {
            let (key, value) = match piece.iter().position(|&b| b == b'=') {
                Some(at) => (&piece[..at], &piece[at + 1..]),
                None => (piece, &b""[..]),
            };
            let key_start = self.text.len();
            let key_ok = decode_component(key, &mut self.text, &mut scratch);
            let value_start = self.text.len();
            let value_ok = decode_component(value, &mut self.text, &mut scratch);
            if !(key_ok && value_ok) {
                self.not_utf8.push(self.pairs.len());
            }
            self.pairs.push(Pair {
                key: (key_start, value_start),
                value: (value_start, self.text.len()),
            });
        }
    }

    /// Reads a form with no escapes, the usual case: its text is kept as it
    /// is, and only the positions of the pairs are worked out.
    fn parse_plain_form(&mut self, input: &str) {
        let base = self.text.len();
        self.text.push_str(input);
        let bytes = input.as_bytes();
        let pieces = memchr::memchr_iter(b'&', bytes).count() + 1;
        self.pairs.reserve(pieces.min(MAX_PARAMS + 1));
        let ends = memchr::memchr_iter(b'&', bytes).chain([bytes.len()]);
        let mut start = 0;
        for end in ends {
            let piece = &bytes[start..end];
            if !piece.is_empty() {
                let equals = memchr::memchr(b'=', piece).map_or(end, |at| start + at);
                let value_start = (equals + 1).min(end);
                self.pairs.push(Pair {
                    key: (base + start, base + equals),
                    value: (base + value_start, base + end),
                });
            }
            start = end + 1;
        }
    }

    /// Rejects a request with too many parameters or with bytes that are
    /// not UTF-8.
    pub(crate) fn check_shape(&self) -> Result<(), ApiError> {
        if self.pairs.len() > MAX_PARAMS {
            return Err(ApiError::TooManyParams(MAX_PARAMS));
        }
        match self.not_utf8.first() {
            Some(&index) => Err(ApiError::NotUtf8(display_name(self.pair(index).0))),
            None => Ok(()),
        }
    }

    fn pair(&self, index: usize) -> (&str, &str) {
        let pair = self.pairs[index];
        (self.slice(pair.key), self.slice(pair.value))
    }

    fn slice(&self, (start, end): (usize, usize)) -> &str {
        &self.text[start..end]
    }

    /// Returns whether the name of `pair` is `name`, compared as bytes.
    fn named(&self, pair: &Pair, name: &str) -> bool {
        let (start, end) = pair.key;
        self.text.as_bytes()[start..end] == *name.as_bytes()
    }

    /// Returns the pairs in the order sent.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|pair| (self.slice(pair.key), self.slice(pair.value)))
    }

    /// Returns whether no parameter was sent.
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Returns the last value sent for `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|pair| self.named(pair, name))
            .map(|pair| self.slice(pair.value))
    }

    /// Returns whether `name` was sent, even with an empty value.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|pair| self.named(pair, name))
    }

    /// Returns the pairs as sent, with secrets masked, for echoes.
    pub(crate) fn masked(&self) -> Vec<(String, String)> {
        self.clone().into_masked().to_pairs()
    }

    /// Returns the pairs as owned strings.
    pub(crate) fn to_pairs(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    /// Masks the secrets, for journals. The secret bytes are overwritten,
    /// not just hidden from view.
    pub(crate) fn into_masked(mut self) -> Params {
        let secret = |params: &Params, pair: &Pair| needs_mask(params.slice(pair.key));
        if !self.pairs.iter().any(|pair| secret(&self, pair)) {
            return self;
        }
        let mask = self.append(MASK);
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        let mut renamed = Vec::new();
        for (index, pair) in self.pairs.iter_mut().enumerate() {
            // Each name is read before its own bytes are overwritten.
            let key = std::str::from_utf8(&bytes[pair.key.0..pair.key.1]).unwrap_or("");
            if !needs_mask(key) {
                continue;
            }
            if looks_secret(key) {
                // A misspelt or malformed name (`passwd`, a JSON body read
                // as a form) may carry a password in name or value.
                renamed.push((index, display_name(key)));
                bytes[pair.key.0..pair.key.1].fill(b'*');
            }
            bytes[pair.value.0..pair.value.1].fill(b'*');
            pair.value = mask;
        }
        // Whole characters were replaced by ASCII, so the text is still UTF-8.
        self.text = String::from_utf8(bytes).unwrap_or_default();
        for (index, name) in renamed {
            self.pairs[index].key = self.append(&name);
        }
        self
    }

    /// Rejects every parameter in none of the `allowed` groups, naming each
    /// once (up to a limit, so the message stays short).
    pub(crate) fn reject_unknown(&self, allowed: &[&[&str]]) -> Result<(), ApiError> {
        let mut seen = std::collections::HashSet::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut more = 0usize;
        for (key, _) in self.iter() {
            if allowed.iter().any(|group| group.contains(&key)) || !seen.insert(key) {
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
        self.iter().filter(move |(key, _)| *key != skip)
    }
}

/// Decodes one form component onto the end of `out`. Returns false when its
/// bytes are not UTF-8, and then U+FFFD replaces each bad sequence.
/// `scratch` is room for the decoded bytes, reused from one component to the
/// next.
fn decode_component(raw: &[u8], out: &mut String, scratch: &mut Vec<u8>) -> bool {
    if !raw.iter().any(|&b| b == b'+' || b == b'%') {
        if let Ok(text) = std::str::from_utf8(raw) {
            out.push_str(text);
            return true;
        }
    }
    // `+` is a space, but an escaped `%2B` is a plus sign: decode the
    // escapes of each piece between the `+` signs.
    let bytes = scratch;
    bytes.clear();
    for (i, piece) in raw.split(|&b| b == b'+').enumerate() {
        if i > 0 {
            bytes.push(b' ');
        }
        bytes.extend(percent_encoding::percent_decode(piece));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            out.push_str(text);
            true
        }
        Err(_) => {
            out.push_str(&String::from_utf8_lossy(bytes));
            false
        }
    }
}

/// The text a masked secret shows instead of its value.
const MASK: &str = "********";

/// Returns whether a parameter name is a secret, or suggests one.
fn needs_mask(name: &str) -> bool {
    SECRET_PARAMS.contains(&name) || looks_secret(name)
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
    let len = if value.is_ascii() {
        value.len()
    } else {
        value.chars().count()
    };
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
    // Every ASCII character but the controls just ruled out is an XML one.
    if !value.is_ascii() && !value.chars().all(crate::xml::is_xml_char) {
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
                proptest::prop_assert_eq!(params.to_pairs(), expected);
            }
        }
    }

    /// Masks pairs one by one, the obvious way.
    fn masked_one_by_one(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
        pairs
            .into_iter()
            .map(|(key, value)| match key.as_str() {
                "password" => (key, MASK.to_owned()),
                _ if looks_secret(&key) => (display_name(&key), MASK.to_owned()),
                _ => (key, value),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn masking_in_place_matches_masking_one_by_one(
            pairs in proptest::collection::vec(
                ("password|passwd|title|ips|[a-zP\u{e9}]{0,6}", "[a-z0-9\u{e9}\u{1F600}*]{0,8}"),
                0..8,
            )
        ) {
            let params = Params::from_pairs(pairs.clone());
            let expected = masked_one_by_one(pairs.clone());

            // Where the secrets are before masking: secret values, and the
            // names that suggest one.
            let mut secret_ranges = Vec::new();
            for pair in &params.pairs {
                let key = params.slice(pair.key);
                if needs_mask(key) {
                    secret_ranges.push(pair.value);
                }
                if looks_secret(key) {
                    secret_ranges.push(pair.key);
                }
            }

            let masked = params.into_masked();

            proptest::prop_assert_eq!(masked.to_pairs(), expected);
            // The secret bytes are overwritten, not only hidden.
            for (start, end) in secret_ranges {
                proptest::prop_assert!(masked.text.as_bytes()[start..end].iter().all(|&b| b == b'*'));
            }
        }
    }

    #[test]
    fn names_unknown_parameters_once() {
        let params = Params::from_parts(Some("a=1&b=2&a=3"), b"");

        let error = params.reject_unknown(&[&["b"]]).unwrap_err();

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
