//! The error type of the multipart decoder.

use std::error::Error as StdError;
use std::fmt;

/// Everything that can go wrong while decoding a `multipart/x-mixed-replace` body.
///
/// `part` fields are 1-based and count every part whose delimiter line was seen,
/// including empty parts that were skipped.
///
/// After a decoding error the [`Decoder`](crate::decode::Decoder) is poisoned:
/// later calls report [`DecodeError::Poisoned`].
#[non_exhaustive]
#[derive(Debug)]
pub enum DecodeError {
    /// The boundary given to [`Decoder::new`](crate::decode::Decoder::new) cannot be used.
    InvalidBoundary {
        /// The rejected boundary (shortened if very long).
        boundary: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `Content-Type` value is not a `multipart/*` media type.
    NotMultipart {
        /// The rejected value (shortened if very long).
        content_type: String,
    },
    /// The `Content-Type` value has no (or an empty) `boundary` parameter.
    MissingBoundary {
        /// The rejected value (shortened if very long).
        content_type: String,
    },
    /// No delimiter line was found within the preamble size limit.
    PreambleTooLong {
        /// The boundary that was searched for.
        boundary: String,
        /// Maximum number of preamble bytes that were allowed.
        limit: usize,
    },
    /// The input ended before any delimiter line was seen.
    NoDelimiter {
        /// The boundary that was searched for.
        boundary: String,
    },
    /// A delimiter line has unexpected bytes after the boundary.
    MalformedDelimiter {
        /// The part that this delimiter line starts.
        part: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// The header block of a part is larger than `Limits::max_header_bytes`.
    HeadersTooLarge {
        /// The offending part.
        part: u64,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A part has more header lines than `Limits::max_headers`.
    TooManyHeaders {
        /// The offending part.
        part: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A header line is malformed (strict mode only; tolerant mode skips such lines).
    InvalidHeader {
        /// The offending part.
        part: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// The `Content-Length` header is not a decimal number, or several disagree
    /// (strict mode only; tolerant mode ignores it and searches for the delimiter).
    InvalidContentLength {
        /// The offending part.
        part: u64,
    },
    /// A part body is larger than `Limits::max_part_size`.
    PartTooLarge {
        /// The offending part.
        part: u64,
        /// The declared `Content-Length`, if the size was known up front.
        content_length: Option<usize>,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// Strict mode: the bytes after a `Content-Length` body are not `\r\n--boundary`.
    ContentLengthMismatch {
        /// The offending part.
        part: u64,
        /// The declared `Content-Length`.
        content_length: usize,
        /// What was found instead.
        reason: &'static str,
    },
    /// The input ended in the middle of a part.
    Truncated {
        /// The unfinished part.
        part: u64,
        /// Where the input ended (e.g. "inside the headers").
        context: &'static str,
    },
    /// The underlying byte stream failed.
    Transport(Box<dyn StdError + Send + Sync>),
    /// An earlier error left the decoder unusable.
    Poisoned,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBoundary { boundary, reason } => {
                write!(f, "invalid multipart boundary {boundary:?}: {reason}")
            }
            Self::NotMultipart { content_type } => write!(
                f,
                "content type {content_type:?} is not multipart, expected multipart/x-mixed-replace"
            ),
            Self::MissingBoundary { content_type } => write!(
                f,
                "content type {content_type:?} has no boundary parameter, expected one such as \
                 `multipart/x-mixed-replace; boundary=frame`"
            ),
            Self::PreambleTooLong { boundary, limit } => write!(
                f,
                "no delimiter line `--{boundary}` in the first {limit} bytes of the body, expected one sooner"
            ),
            Self::NoDelimiter { boundary } => write!(
                f,
                "input ended without any delimiter line, expected a multipart body with `--{boundary}`"
            ),
            Self::MalformedDelimiter { part, reason } => {
                write!(f, "part {part}: malformed delimiter line, {reason}")
            }
            Self::HeadersTooLarge { part, limit } => write!(
                f,
                "part {part}: header block is larger than {limit} bytes, expected an empty line sooner"
            ),
            Self::TooManyHeaders { part, limit } => write!(
                f,
                "part {part}: more than {limit} header lines, expected an empty line sooner"
            ),
            Self::InvalidHeader { part, reason } => {
                write!(f, "part {part}: invalid header line, {reason}")
            }
            Self::InvalidContentLength { part } => write!(
                f,
                "part {part}: invalid content-length, expected a single decimal number"
            ),
            Self::PartTooLarge {
                part,
                content_length: Some(n),
                limit,
            } => write!(
                f,
                "part {part}: content-length {n} is too large, expected at most {limit} bytes"
            ),
            Self::PartTooLarge {
                part,
                content_length: None,
                limit,
            } => write!(
                f,
                "part {part}: no delimiter after {limit} body bytes, expected at most {limit} bytes"
            ),
            Self::ContentLengthMismatch {
                part,
                content_length,
                reason,
            } => write!(
                f,
                "part {part}: content-length {content_length} but the delimiter does not follow \
                 the body, {reason}"
            ),
            Self::Truncated { part, context } => write!(
                f,
                "part {part}: input ended {context}, expected the rest of the part and a delimiter"
            ),
            Self::Transport(e) => write!(f, "transport error while reading the body: {e}"),
            Self::Poisoned => write!(
                f,
                "decoder cannot continue after an earlier error, expected a fresh decoder"
            ),
        }
    }
}

impl StdError for DecodeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Transport(e) => Some(&**e),
            _ => None,
        }
    }
}

/// Shortens untrusted text that is copied into an error message.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 100;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_without_period() {
        let text = || String::from("x");
        let errors = [
            DecodeError::InvalidBoundary {
                boundary: text(),
                reason: "it is empty, expected 1 to 256 characters",
            },
            DecodeError::NotMultipart {
                content_type: text(),
            },
            DecodeError::MissingBoundary {
                content_type: text(),
            },
            DecodeError::PreambleTooLong {
                boundary: text(),
                limit: 1,
            },
            DecodeError::NoDelimiter { boundary: text() },
            DecodeError::MalformedDelimiter {
                part: 1,
                reason: "expected LF after CR",
            },
            DecodeError::HeadersTooLarge { part: 1, limit: 1 },
            DecodeError::TooManyHeaders { part: 1, limit: 1 },
            DecodeError::InvalidHeader {
                part: 1,
                reason: "expected `name: value`",
            },
            DecodeError::InvalidContentLength { part: 1 },
            DecodeError::PartTooLarge {
                part: 1,
                content_length: None,
                limit: 10,
            },
            DecodeError::PartTooLarge {
                part: 1,
                content_length: Some(11),
                limit: 10,
            },
            DecodeError::ContentLengthMismatch {
                part: 3,
                content_length: 100,
                reason: "expected CRLF right after the body",
            },
            DecodeError::Truncated {
                part: 1,
                context: "inside the body",
            },
            DecodeError::Transport("boom".into()),
            DecodeError::Poisoned,
        ];
        for e in errors {
            let s = e.to_string();
            assert!(s.chars().next().unwrap().is_lowercase(), "{s}");
            assert!(!s.ends_with('.') && !s.contains(". "), "{s}");
            assert!(
                s.contains("expected") || matches!(e, DecodeError::Transport(_)),
                "{s}"
            );
        }
    }

    #[test]
    fn content_length_mismatch_message() {
        let e = DecodeError::ContentLengthMismatch {
            part: 3,
            content_length: 100,
            reason: "expected CRLF right after the body",
        };
        assert!(
            e.to_string().starts_with(
                "part 3: content-length 100 but the delimiter does not follow the body"
            )
        );
    }

    #[test]
    fn transport_has_source() {
        let e = DecodeError::Transport("boom".into());
        assert_eq!(e.source().unwrap().to_string(), "boom");
        assert!(DecodeError::Poisoned.source().is_none());
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        let long = "é".repeat(80);
        let s = shorten(&long);
        assert!(s.len() <= 103);
        assert!(s.ends_with("..."));
        assert_eq!(shorten("abc"), "abc");
    }
}
