//! Body-reading states of the decoder.

use bytes::{Buf, BytesMut};
use http::HeaderMap;

use super::{Decoder, MAX_PADDING, Match, Scan, State, Step};
use crate::decode::error::DecodeError;
use crate::decode::part::Part;

impl Decoder {
    pub(super) fn body_with_length(
        &mut self,
        headers: HeaderMap,
        n: usize,
    ) -> Result<Step, DecodeError> {
        let part = self.started;
        if self.buf.len() < n {
            if !self.eof {
                return self.stay(State::Body {
                    headers,
                    length: Some(n),
                    scan: 0,
                });
            }
            if self.strict || self.buf.is_empty() {
                return Err(DecodeError::Truncated {
                    part,
                    context: "inside the body",
                });
            }
            // Tolerant: the length may be a lie, so look for a delimiter instead.
            self.state = State::Body {
                headers,
                length: None,
                scan: 0,
            };
            return Ok(Step::Continue);
        }
        let after = &self.buf[n..];
        let gap = if self.strict {
            if !after.iter().zip(b"\r\n").all(|(a, b)| a == b) {
                return Err(DecodeError::ContentLengthMismatch {
                    part,
                    content_length: n,
                    reason: "expected CRLF right after the body",
                });
            }
            after.len().min(2)
        } else {
            let ws = after
                .iter()
                .take(MAX_PADDING + 1)
                .take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'));
            ws.count()
        };
        let verdict = if gap > MAX_PADDING {
            Match::No
        } else if self.strict && gap < 2 {
            Match::Partial
        } else {
            self.delim_at(n + gap)
        };
        match verdict {
            Match::Yes(_) => Ok(self.emit(headers, n, n + gap)),
            Match::Pending(_) if self.eof => Ok(self.emit(headers, n, n + gap)),
            Match::Partial if self.eof => {
                let body = self.buf.split_to(n).freeze();
                self.buf = BytesMut::new();
                self.state = State::Ended;
                Ok(Step::Part(Part { headers, body }))
            }
            Match::Partial | Match::Pending(_) => self.stay(State::Body {
                headers,
                length: Some(n),
                scan: 0,
            }),
            Match::No if self.strict => Err(DecodeError::ContentLengthMismatch {
                part,
                content_length: n,
                reason: "expected the boundary delimiter after the CRLF",
            }),
            Match::No if is_whole_jpeg(&self.buf[..n]) => {
                // A complete frame followed by junk (stale buffer bytes): keep
                // the frame, skip up to the delimiter.
                self.state = State::Junk {
                    headers,
                    len: n,
                    scan: n,
                };
                Ok(Step::Continue)
            }
            Match::No => {
                // The server lied about the length: look for the delimiter instead.
                self.state = State::Body {
                    headers,
                    length: None,
                    scan: 0,
                };
                Ok(Step::Continue)
            }
        }
    }

    pub(super) fn body_search(
        &mut self,
        headers: HeaderMap,
        scan: usize,
    ) -> Result<Step, DecodeError> {
        let part = self.started;
        let limit = self.limits.max_part_size;
        let too_large = DecodeError::PartTooLarge {
            part,
            content_length: None,
            limit,
        };
        match self.scan_for_delim(scan, self.strict) {
            Scan::Found { end, .. } if end > limit => Err(too_large),
            Scan::Found { end, start } => Ok(self.emit(headers, end, start)),
            Scan::Wait { resume } if resume.saturating_sub(1) > limit => Err(too_large),
            Scan::Wait { resume } if !self.eof => self.stay(State::Body {
                headers,
                length: None,
                scan: resume,
            }),
            Scan::Wait { .. } if self.buf.is_empty() => self.stay(State::Ended),
            Scan::Wait { .. } => Err(DecodeError::Truncated {
                part,
                context: "inside the body",
            }),
        }
    }

    /// Skips the junk after a complete body of `len` bytes up to the next
    /// delimiter (or the end of input), then returns the part.
    pub(super) fn junk(
        &mut self,
        headers: HeaderMap,
        len: usize,
        scan: usize,
    ) -> Result<Step, DecodeError> {
        let part = self.started;
        let limit = self.limits.max_part_size;
        let too_large = DecodeError::PartTooLarge {
            part,
            content_length: None,
            limit,
        };
        let (end, start) = match self.scan_for_delim(scan, false) {
            Scan::Found { end, .. } if end > limit => return Err(too_large),
            Scan::Found { end, start } => (end, start),
            Scan::Wait { resume } if resume.saturating_sub(1) > limit => return Err(too_large),
            Scan::Wait { resume } if !self.eof => {
                return self.stay(State::Junk {
                    headers,
                    len,
                    scan: resume,
                });
            }
            Scan::Wait { .. } => {
                // The input ended: the body is complete, the rest is junk.
                let end = self.buf.len();
                self.count_junk(end - len);
                let body = self.buf.split_to(len).freeze();
                self.buf = BytesMut::new();
                self.state = State::Ended;
                return Ok(Step::Part(Part { headers, body }));
            }
        };
        self.count_junk(end.saturating_sub(len));
        let step = self.emit(headers, len, start);
        Ok(step)
    }

    fn count_junk(&mut self, bytes: usize) {
        self.junk_parts += 1;
        self.junk_bytes = self
            .junk_bytes
            .saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
    }

    /// Splits off a body of `end` bytes, drops the bytes up to the delimiter at
    /// `delim_start` and returns the part.
    pub(super) fn emit(&mut self, headers: HeaderMap, end: usize, delim_start: usize) -> Step {
        let body = self.buf.split_to(end).freeze();
        self.buf.advance(delim_start - end);
        self.state = State::DelimLine;
        Step::Part(Part { headers, body })
    }
}

/// Whether `body` is a whole JPEG: it starts with SOI and ends with EOI.
fn is_whole_jpeg(body: &[u8]) -> bool {
    body.len() >= 4 && body.starts_with(&[0xFF, 0xD8]) && body.ends_with(&[0xFF, 0xD9])
}
