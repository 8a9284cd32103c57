//! Decoded parts and decoder limits.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};

/// Resource limits that keep the decoder's memory use bounded.
///
/// Whenever [`Decoder::next_part`](crate::decode::Decoder::next_part) has returned
/// `Ok(None)`, the decoder buffers at most about
/// `max(max_part_size, max_header_bytes) + 2 * boundary length + 300` bytes; consumed
/// bytes are released (part bodies share the buffer's allocation without copying).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted part body in bytes (default 16 MiB).
    pub max_part_size: usize,
    /// Largest accepted header block of a part, including line endings and the
    /// empty line that ends it (default 8 KiB). Also bounds the preamble.
    pub max_header_bytes: usize,
    /// Largest accepted number of header lines in a part, counting malformed lines
    /// that tolerant mode skips (default 32).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_part_size: 16 * 1024 * 1024,
            max_header_bytes: 8 * 1024,
            max_headers: 32,
        }
    }
}

/// One part of a multipart body: its headers and its body bytes.
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// The part's headers (names are lowercased by [`http::HeaderName`]).
    pub headers: HeaderMap,
    /// The part's body, without the CRLF that precedes the next delimiter.
    pub body: Bytes,
}

impl Part {
    /// The `Content-Type` header, if present and valid visible ASCII.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE)?.to_str().ok()
    }

    /// The `Content-Length` header, if present and a decimal number.
    pub fn content_length(&self) -> Option<usize> {
        parse_decimal(self.headers.get(CONTENT_LENGTH)?.as_bytes())
    }
}

/// Parses a decimal number surrounded by optional spaces or tabs.
pub(crate) fn parse_decimal(value: &[u8]) -> Option<usize> {
    let digits = trim_ws(value);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0usize, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(usize::from(b - b'0'))
    })
}

/// Strips leading and trailing spaces and tabs.
pub(crate) fn trim_ws(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn decimal() {
        assert_eq!(parse_decimal(b" 42\t"), Some(42));
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b""), None);
        assert_eq!(parse_decimal(b"  "), None);
        assert_eq!(parse_decimal(b"+5"), None);
        assert_eq!(parse_decimal(b"5 5"), None);
        assert_eq!(parse_decimal(b"99999999999999999999999999"), None);
    }

    #[test]
    fn accessors() {
        let mut part = Part::default();
        assert_eq!(part.content_type(), None);
        assert_eq!(part.content_length(), None);
        part.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
        part.headers
            .insert(CONTENT_LENGTH, HeaderValue::from_static("12"));
        assert_eq!(part.content_type(), Some("image/jpeg"));
        assert_eq!(part.content_length(), Some(12));
    }

    #[test]
    fn default_limits() {
        let l = Limits::default();
        assert_eq!(l.max_part_size, 16 << 20);
        assert_eq!(l.max_header_bytes, 8192);
        assert_eq!(l.max_headers, 32);
    }
}
