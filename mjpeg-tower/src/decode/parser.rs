//! The incremental multipart decoder.

use std::fmt;

use bytes::{Buf, BytesMut};
use http::HeaderMap;

use crate::decode::content_type::boundary_param;
use crate::decode::error::{DecodeError, shorten};
use crate::decode::part::{Limits, Part};

mod body;
mod delim;
mod headers;

use self::delim::{Match, Scan};

/// Most spaces/tabs accepted after a delimiter, and most CR/LF/whitespace bytes
/// skipped between a `Content-Length` body and the next delimiter.
const MAX_PADDING: usize = 256;
/// Longest accepted boundary (RFC 2046 allows 70; real servers sometimes exceed it).
const MAX_BOUNDARY_LEN: usize = 256;

/// Incremental parser for `multipart/x-mixed-replace` bodies.
///
/// Feed bytes with [`push`](Self::push), take parts with
/// [`next_part`](Self::next_part) until it returns `Ok(None)`, and call
/// [`finish`](Self::finish) once the input has ended. The decoder never panics on
/// malformed input and its buffer stays bounded by its [`Limits`]. After an error
/// it is poisoned and reports [`DecodeError::Poisoned`].
pub struct Decoder {
    boundary: String,
    /// Accepted delimiter texts (`--B`, and `B` when B starts with `--`), longest first.
    delims: Vec<Box<[u8]>>,
    limits: Limits,
    strict: bool,
    buf: BytesMut,
    state: State,
    eof: bool,
    started: u64,
    parts_seen: u64,
    empty_skipped: u64,
    junk_parts: u64,
    junk_bytes: u64,
}

enum State {
    /// Looking for the first delimiter; `scan` is where to resume.
    Preamble {
        scan: usize,
    },
    /// The buffer starts with a delimiter text.
    DelimLine,
    /// Reading header lines; consumed lines are dropped from the buffer.
    Headers {
        headers: HeaderMap,
        used: usize,
        count: usize,
        scan: usize,
    },
    /// The buffer starts with the body. Without a length, `scan` is where the
    /// delimiter search resumes.
    Body {
        headers: HeaderMap,
        length: Option<usize>,
        scan: usize,
    },
    /// The buffer starts with a complete `Content-Length` body of `len` bytes
    /// followed by junk; `scan` is where the delimiter search resumes.
    Junk {
        headers: HeaderMap,
        len: usize,
        scan: usize,
    },
    Closed,
    Ended,
    Failed,
}

enum Step {
    Continue,
    NeedMore,
    Part(Part),
}

impl Decoder {
    /// Creates a decoder for the given boundary (the `boundary` parameter value,
    /// without the leading `--` of the delimiter line).
    pub fn new(boundary: &str) -> Result<Self, DecodeError> {
        let reason = if boundary.is_empty() {
            Some("it is empty, expected 1 to 256 characters")
        } else if boundary.len() > MAX_BOUNDARY_LEN {
            Some("it is too long, expected at most 256 bytes")
        } else if boundary.bytes().any(|b| b.is_ascii_control()) {
            Some("it contains control characters, expected printable text")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(DecodeError::InvalidBoundary {
                boundary: shorten(boundary),
                reason,
            });
        }
        let mut delims: Vec<Box<[u8]>> = vec![format!("--{boundary}").into_bytes().into()];
        if boundary.len() > 2 && boundary.starts_with("--") {
            delims.push(boundary.as_bytes().into());
        }
        Ok(Self {
            boundary: boundary.to_owned(),
            delims,
            limits: Limits::default(),
            strict: false,
            buf: BytesMut::new(),
            state: State::Preamble { scan: 0 },
            eof: false,
            started: 0,
            parts_seen: 0,
            empty_skipped: 0,
            junk_parts: 0,
            junk_bytes: 0,
        })
    }

    /// Creates a decoder from a `Content-Type` header value such as
    /// `multipart/x-mixed-replace; boundary="frame"`. Any `multipart/*` type is accepted.
    pub fn from_content_type(value: &str) -> Result<Self, DecodeError> {
        Self::new(&boundary_param(value)?)
    }

    /// Replaces the resource limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Enables strict RFC 2046 framing (default: tolerant of common server quirks).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The boundary this decoder looks for.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// Appends input bytes. Chunks may be split anywhere. Bytes pushed after the
    /// close delimiter, after an error or after [`finish`](Self::finish) are ignored.
    pub fn push(&mut self, chunk: &[u8]) {
        if !self.eof && !matches!(self.state, State::Closed | State::Failed | State::Ended) {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// Returns the next complete, non-empty part, or `Ok(None)` if more input is
    /// needed (or the body is closed).
    pub fn next_part(&mut self) -> Result<Option<Part>, DecodeError> {
        loop {
            match self.step() {
                Ok(Step::Continue) => {}
                Ok(Step::NeedMore) => return Ok(None),
                Ok(Step::Part(part)) if part.body.is_empty() => self.empty_skipped += 1,
                Ok(Step::Part(part)) => {
                    self.parts_seen += 1;
                    return Ok(Some(part));
                }
                Err(e) => {
                    self.state = State::Failed;
                    self.buf = BytesMut::new();
                    return Err(e);
                }
            }
        }
    }

    /// Marks the end of input and returns the next remaining part. Call it until it
    /// returns `Ok(None)`. Fails if the input ended inside a part, unless the close
    /// delimiter was seen. A `Content-Length` part that is complete is returned even
    /// if no delimiter follows it.
    pub fn finish(&mut self) -> Result<Option<Part>, DecodeError> {
        self.eof = true;
        self.next_part()
    }

    /// Whether the close delimiter `--boundary--` has been seen.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Number of non-empty parts returned so far.
    pub fn parts_seen(&self) -> u64 {
        self.parts_seen
    }

    /// Number of parts with an empty body that were skipped.
    pub fn empty_parts_skipped(&self) -> u64 {
        self.empty_skipped
    }

    /// Number of parts whose complete `Content-Length` body was followed by junk
    /// before the next delimiter (tolerant mode only).
    ///
    /// A body counts as complete when it is a whole JPEG: it starts with `FF D8`
    /// and ends with `FF D9`. Such a part is returned without the junk, as some
    /// servers (e.g. Go's `hybridgroup/mjpeg`) write stale buffer bytes after
    /// each frame. Other bodies followed by unexpected bytes are taken to have a
    /// wrong `Content-Length` and run up to the delimiter instead.
    pub fn parts_with_junk(&self) -> u64 {
        self.junk_parts
    }

    /// Number of junk bytes skipped after complete `Content-Length` bodies; see
    /// [`parts_with_junk`](Self::parts_with_junk).
    pub fn junk_bytes_skipped(&self) -> u64 {
        self.junk_bytes
    }

    #[cfg(test)]
    pub(crate) fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    fn step(&mut self) -> Result<Step, DecodeError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Preamble { scan } => self.preamble(scan),
            State::DelimLine => self.delim_line(),
            State::Headers {
                headers,
                used,
                count,
                scan,
            } => self.headers(headers, used, count, scan),
            State::Body {
                headers,
                length: Some(n),
                ..
            } => self.body_with_length(headers, n),
            State::Body {
                headers,
                length: None,
                scan,
            } => self.body_search(headers, scan),
            State::Junk { headers, len, scan } => self.junk(headers, len, scan),
            State::Closed => self.stay(State::Closed),
            State::Ended => self.stay(State::Ended),
            State::Failed => Err(DecodeError::Poisoned),
        }
    }

    fn stay(&mut self, state: State) -> Result<Step, DecodeError> {
        self.state = state;
        Ok(Step::NeedMore)
    }

    fn preamble(&mut self, scan: usize) -> Result<Step, DecodeError> {
        let limit = self
            .limits
            .max_header_bytes
            .saturating_add(self.delims[0].len());
        let too_long = || DecodeError::PreambleTooLong {
            boundary: shorten(&self.boundary),
            limit,
        };
        // `resume` never passes the line break before the delimiter, so checking
        // `start - 1` makes the outcome independent of how the input was split.
        match self.scan_for_delim(scan, false) {
            Scan::Found { start, .. } if start.saturating_sub(1) > limit => Err(too_long()),
            Scan::Found { start, .. } => {
                self.buf.advance(start);
                self.state = State::DelimLine;
                Ok(Step::Continue)
            }
            Scan::Wait { resume } if resume > limit => Err(too_long()),
            Scan::Wait { resume } if !self.eof => self.stay(State::Preamble { scan: resume }),
            Scan::Wait { .. } if self.buf.iter().all(u8::is_ascii_whitespace) => {
                self.stay(State::Ended)
            }
            Scan::Wait { .. } => Err(DecodeError::NoDelimiter {
                boundary: shorten(&self.boundary),
            }),
        }
    }

    fn delim_line(&mut self) -> Result<Step, DecodeError> {
        let part = self.started + 1;
        let malformed = |reason| Err(DecodeError::MalformedDelimiter { part, reason });
        let dlen = match self.delim_at(0) {
            Match::Yes(n) => n,
            Match::Pending(n) if self.eof => n,
            Match::Pending(_) | Match::Partial if !self.eof => return self.stay(State::DelimLine),
            _ => return malformed("expected the boundary"),
        };
        let rest = &self.buf[dlen..];
        if rest.starts_with(b"--") {
            self.buf = BytesMut::new();
            return self.stay(State::Closed);
        }
        let pad = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if pad > MAX_PADDING {
            return malformed("expected a line break after the boundary, found too many spaces");
        }
        let consumed = match (rest.get(pad), rest.get(pad + 1)) {
            (Some(b'\n'), _) if self.strict => {
                return malformed("expected CRLF after the boundary, found a bare LF");
            }
            (Some(b'\n'), _) => pad + 1,
            (Some(b'\r'), Some(b'\n')) => pad + 2,
            (Some(b'\r'), Some(_)) => return malformed("expected LF after CR"),
            (None, _) | (Some(b'-' | b'\r'), None) if self.eof => return self.stay(State::Ended),
            (None, _) | (Some(b'-' | b'\r'), None) => return self.stay(State::DelimLine),
            (Some(_), _) => return malformed("expected `--` or a line break after the boundary"),
        };
        self.buf.advance(dlen + consumed);
        self.started += 1;
        self.state = State::Headers {
            headers: HeaderMap::new(),
            used: 0,
            count: 0,
            scan: 0,
        };
        Ok(Step::Continue)
    }
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Preamble { .. } => "preamble",
            State::DelimLine => "delimiter",
            State::Headers { .. } => "headers",
            State::Body { .. } => "body",
            State::Junk { .. } => "junk",
            State::Closed => "closed",
            State::Ended => "ended",
            State::Failed => "failed",
        };
        f.debug_struct("Decoder")
            .field("boundary", &self.boundary)
            .field("limits", &self.limits)
            .field("strict", &self.strict)
            .field("state", &state)
            .field("buffered", &self.buf.len())
            .field("parts_seen", &self.parts_seen)
            .field("empty_parts_skipped", &self.empty_skipped)
            .field("parts_with_junk", &self.junk_parts)
            .field("junk_bytes_skipped", &self.junk_bytes)
            .finish()
    }
}
