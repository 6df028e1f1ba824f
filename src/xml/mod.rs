//! XML writers, one per Qualys document. Each writes straight into the
//! response's byte buffer, with no document tree in between. None of them
//! takes a lock or uses an HTTP type.
//!
//! Every document starts with the XML declaration and an external DOCTYPE that
//! points at the DTD on the mock's own base URL. No document carries an
//! internal DTD subset or entity declaration, which hardened parsers reject.

pub(crate) mod about;
pub(crate) mod auth_records;
pub(crate) mod batch_return;
pub(crate) mod record_list;
pub(crate) mod simple_return;

use compact_str::CompactString;
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::Writer;

/// What every document needs besides its payload.
#[derive(Clone, Debug)]
pub(crate) struct DocContext {
    /// Scheme, host and port the DOCTYPE URLs start with, without a trailing slash.
    pub(crate) base_url: String,
    /// The response time, already formatted as `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) datetime: CompactString,
    /// The REQUEST element to write, when the client sent `echo_request=1`.
    pub(crate) echo: Option<RequestEcho>,
}

/// The REQUEST element of `echo_request=1`.
#[derive(Clone, Debug)]
pub(crate) struct RequestEcho {
    /// The login that made the call.
    pub(crate) user_login: String,
    /// The URL of the call without its query.
    pub(crate) resource: String,
    /// Parameters in the order sent, secrets already masked.
    pub(crate) params: Vec<(String, String)>,
}

/// A document being written.
///
/// Element names come from this crate's writers, never from a request, and
/// are plain ASCII names, so tags go into the buffer as they are. Text goes
/// through [`escape_text`] unless it is printable ASCII without markup
/// characters. quick-xml writes the DOCTYPE and attributes.
pub(crate) struct Doc {
    buf: Vec<u8>,
}

impl Doc {
    /// Starts a document: the declaration, then a DOCTYPE naming `root` and the
    /// DTD at `dtd_path` under the base URL.
    pub(crate) fn new(ctx: &DocContext, root: &str, dtd_path: &str) -> Doc {
        let mut buf = Vec::with_capacity(1024);
        buf.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
        let mut doctype =
            String::with_capacity(root.len() + ctx.base_url.len() + dtd_path.len() + 10);
        for part in [root, " SYSTEM \"", &ctx.base_url, dtd_path, "\""] {
            doctype.push_str(part);
        }
        let mut doc = Doc { buf };
        doc.event(Event::DocType(BytesText::from_escaped(doctype)));
        doc
    }

    /// Opens an element that contains other elements. Every element starts
    /// on a line of its own, with no indentation.
    pub(crate) fn open(&mut self, name: &str) {
        debug_assert!(is_plain_name(name), "element name {name:?}");
        self.buf.extend_from_slice(b"\n<");
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'>');
    }

    /// Closes the element `name`.
    pub(crate) fn close(&mut self, name: &str) {
        self.buf.extend_from_slice(b"\n");
        self.end_tag(name);
    }

    /// Writes `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        if needs_escape(text) {
            self.buf.extend_from_slice(escape_text(text).as_bytes());
        } else {
            self.buf.extend_from_slice(text.as_bytes());
        }
        self.end_tag(name);
    }

    fn end_tag(&mut self, name: &str) {
        self.buf.extend_from_slice(b"</");
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'>');
    }

    /// Writes `<name>number</name>`.
    pub(crate) fn number_leaf(&mut self, name: &str, number: u64) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = number;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.plain_leaf(name, &digits[start..]);
    }

    /// Writes `<name>text</name>` for text that the caller built from ASCII
    /// digits and punctuation, which never needs escaping.
    pub(crate) fn plain_leaf(&mut self, name: &str, text: &[u8]) {
        debug_assert!(!needs_escape_bytes(text), "text {text:?}");
        self.open(name);
        self.buf.extend_from_slice(text);
        self.end_tag(name);
    }

    /// Writes an empty element, such as one that has only attributes.
    pub(crate) fn empty(&mut self, element: BytesStart<'_>) {
        self.buf.push(b'\n');
        self.event(Event::Empty(element));
    }

    /// Writes the REQUEST element when the context carries one.
    pub(crate) fn request_echo(&mut self, ctx: &DocContext) {
        let Some(echo) = &ctx.echo else {
            return;
        };
        self.open("REQUEST");
        self.leaf("DATETIME", &ctx.datetime);
        self.leaf("USER_LOGIN", &echo.user_login);
        self.leaf("RESOURCE", &echo.resource);
        if !echo.params.is_empty() {
            self.open("PARAM_LIST");
            for (key, value) in &echo.params {
                self.open("PARAM");
                self.leaf("KEY", key);
                self.leaf("VALUE", value);
                self.close("PARAM");
            }
            self.close("PARAM_LIST");
        }
        self.close("REQUEST");
    }

    /// Ends the document and returns its bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.push(b'\n');
        self.buf
    }

    fn event(&mut self, event: Event<'_>) {
        // Writing into a Vec cannot fail, so the io::Result carries no information.
        Writer::new(&mut self.buf).write_event(event).ok();
    }
}

/// Returns whether `name` is an ASCII XML name that needs no escaping.
fn is_plain_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Escapes text for element content. Besides the markup characters, it writes
/// a carriage return as `&#13;` so parsers do not fold it into a line feed, and
/// replaces characters that XML 1.0 forbids even when escaped with U+FFFD.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(ch),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Returns whether `text` contains anything [`escape_text`] would change. Printable
/// ASCII without markup characters, tabs and line feeds pass as they are;
/// anything else takes the careful path.
fn needs_escape(text: &str) -> bool {
    needs_escape_bytes(text.as_bytes())
}

fn needs_escape_bytes(text: &[u8]) -> bool {
    text.iter().any(|&b| match b {
        b'&' | b'<' | b'>' => true,
        b'\t' | b'\n' | b' '..=b'~' => false,
        _ => true,
    })
}

/// Whether XML 1.0 allows `ch` in a document.
pub(crate) fn is_xml_char(ch: char) -> bool {
    matches!(ch, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_plain_text_and_numbers_as_they_are() {
        let ctx = DocContext {
            base_url: "http://h".to_owned(),
            datetime: CompactString::default(),
            echo: None,
        };
        let mut doc = Doc::new(&ctx, "R", "/r.dtd");
        doc.open("R");
        doc.leaf("A", "plain text, tab\there");
        doc.leaf("B", "x < y & \u{e9}");
        doc.number_leaf("N", 0);
        doc.number_leaf("M", u64::MAX);
        doc.close("R");
        let text = String::from_utf8(doc.finish()).unwrap();

        assert!(text.contains("<A>plain text, tab\there</A>"), "{text}");
        assert!(text.contains("<B>x &lt; y &amp; \u{e9}</B>"), "{text}");
        assert!(text.contains("<N>0</N>"), "{text}");
        assert!(text.contains("<M>18446744073709551615</M>"), "{text}");
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        let escaped = escape_text("a<b>&c\rd\u{1}e\u{FFFF}");

        assert_eq!(escaped, "a&lt;b&gt;&amp;c&#13;d\u{FFFD}e\u{FFFD}");
    }
}
