//! Header-block parsing state of the decoder.

use bytes::Buf;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{Decoder, State, Step};
use crate::decode::error::DecodeError;
use crate::decode::part::{parse_decimal, trim_ws};

impl Decoder {
    pub(super) fn headers(
        &mut self,
        mut headers: HeaderMap,
        mut used: usize,
        mut count: usize,
        mut scan: usize,
    ) -> Result<Step, DecodeError> {
        let part = self.started;
        let max_bytes = self.limits.max_header_bytes;
        let too_large = DecodeError::HeadersTooLarge {
            part,
            limit: max_bytes,
        };
        loop {
            let Some(off) = self.buf[scan..].iter().position(|&b| b == b'\n') else {
                if used.saturating_add(self.buf.len()) > max_bytes {
                    return Err(too_large);
                }
                if !self.eof {
                    let scan = self.buf.len();
                    return self.stay(State::Headers {
                        headers,
                        used,
                        count,
                        scan,
                    });
                }
                if used == 0 && self.buf.is_empty() {
                    return self.stay(State::Ended);
                }
                return Err(DecodeError::Truncated {
                    part,
                    context: "inside the headers",
                });
            };
            let end = scan + off;
            used = used.saturating_add(end + 1);
            if used > max_bytes {
                return Err(too_large);
            }
            let line = &self.buf[..end];
            let line = match line.strip_suffix(b"\r") {
                Some(line) => line,
                None if self.strict => {
                    let reason = "expected CRLF line endings, found a bare LF";
                    return Err(DecodeError::InvalidHeader { part, reason });
                }
                None => line,
            };
            if line.is_empty() {
                self.buf.advance(end + 1);
                return self.start_body(headers);
            }
            count += 1;
            if count > self.limits.max_headers {
                return Err(DecodeError::TooManyHeaders {
                    part,
                    limit: self.limits.max_headers,
                });
            }
            match parse_header_line(line) {
                Ok((name, value)) => {
                    if headers.try_append(name, value).is_err() {
                        return Err(DecodeError::TooManyHeaders {
                            part,
                            limit: count - 1,
                        });
                    }
                }
                Err(reason) if self.strict => {
                    return Err(DecodeError::InvalidHeader { part, reason });
                }
                Err(_) => {}
            }
            self.buf.advance(end + 1);
            scan = 0;
        }
    }

    pub(super) fn start_body(&mut self, headers: HeaderMap) -> Result<Step, DecodeError> {
        let part = self.started;
        let mut length = None;
        let mut invalid = false;
        for value in headers.get_all(CONTENT_LENGTH) {
            match parse_decimal(value.as_bytes()) {
                Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                _ => invalid = true,
            }
        }
        if invalid {
            if self.strict {
                return Err(DecodeError::InvalidContentLength { part });
            }
            length = None;
        }
        if let Some(n) = length
            && n > self.limits.max_part_size
        {
            let limit = self.limits.max_part_size;
            return Err(DecodeError::PartTooLarge {
                part,
                content_length: Some(n),
                limit,
            });
        }
        self.state = State::Body {
            headers,
            length,
            scan: 0,
        };
        Ok(Step::Continue)
    }
}

/// Parses `Name: value`; returns a reason on failure.
fn parse_header_line(line: &[u8]) -> Result<(HeaderName, HeaderValue), &'static str> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return Err("found a folded continuation line, expected `name: value`");
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or("expected `name: value`")?;
    let name = HeaderName::from_bytes(&line[..colon])
        .map_err(|_| "expected a header name made of token characters")?;
    let value = HeaderValue::from_bytes(trim_ws(&line[colon + 1..]))
        .map_err(|_| "expected a header value without control characters")?;
    Ok((name, value))
}
