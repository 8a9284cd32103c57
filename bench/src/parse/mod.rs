//! The load generator's incremental parser: HTTP/1.1 response head, chunked or
//! identity body, then multipart parts.
//!
//! It never keeps a payload: with a part `Content-Length` (the benchmark's
//! `Framing::Standard`) the payload is only counted and skipped; without one
//! the next delimiter is searched with `memchr::memmem`, carrying at most a
//! delimiter's length over between reads. Per part it reports the payload
//! length and its publish sequence number and time: from the payload's stamp
//! (`crate::stamp`, what the benchmark's servers send), or from `X-Seq` /
//! `X-Ts` part headers.
//!
//! - `head`: the status line and the headers that matter (transfer coding,
//!   boundary);
//! - `chunked`: `Transfer-Encoding: chunked`;
//! - `multipart`: parts and their payloads;
//! - `block`: one delimiter line and the part headers after it.

mod block;
mod chunked;
mod head;
mod multipart;
#[cfg(test)]
mod tests;

use memchr::memmem;

use chunked::Chunked;
use head::{boundary_of, parse_head};
use multipart::Multipart;

/// Largest response head or part header block accepted.
const MAX_BLOCK: usize = 64 * 1024;

/// One complete part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    /// Payload bytes.
    pub(crate) len: usize,
    /// The server's publish sequence number (stamp or `X-Seq` header).
    pub(crate) seq: Option<u64>,
    /// Publish time, unix nanoseconds (stamp or `X-Ts` header).
    pub(crate) ts: Option<u64>,
}

/// Why a stream could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// Parses one response: head, transfer coding, multipart body.
#[derive(Debug)]
pub(crate) struct StreamParser {
    head: Option<Vec<u8>>,
    chunks: Option<Chunked>,
    multipart: Option<Multipart>,
    /// Set once the close delimiter (or the last chunk) arrived.
    closed: bool,
}

impl Default for StreamParser {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamParser {
    pub(crate) fn new() -> Self {
        Self {
            head: Some(Vec::with_capacity(512)),
            chunks: None,
            multipart: None,
            closed: false,
        }
    }

    /// A parser for a body whose head came separately (HTTP/2): its content
    /// type gives the boundary; no transfer coding.
    pub(crate) fn for_body(content_type: &str) -> Result<Self, ParseError> {
        Ok(Self {
            head: None,
            chunks: None,
            multipart: Some(Multipart::new(&boundary_of(content_type)?)),
            closed: false,
        })
    }

    /// Whether the stream ended on purpose (close delimiter or final chunk).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed || self.multipart.as_ref().is_some_and(|m| m.closed)
    }

    /// Feeds the next bytes read from the socket; calls `on_part` for every
    /// part completed by them.
    pub(crate) fn feed(
        &mut self,
        mut data: &[u8],
        on_part: &mut impl FnMut(Part),
    ) -> Result<(), ParseError> {
        if let Some(head) = &mut self.head {
            // Append only what is needed: find the end of the head across reads.
            let start = head.len().saturating_sub(3);
            let take = data.len().min(MAX_BLOCK + 4 - head.len());
            head.extend_from_slice(&data[..take]);
            let Some(end) = memmem::find(&head[start..], b"\r\n\r\n").map(|i| start + i + 4) else {
                if head.len() > MAX_BLOCK {
                    return err("response head too large");
                }
                return Ok(());
            };
            let used_of_data = take - (head.len() - end);
            let (chunked, boundary) = parse_head(&head[..end])?;
            self.chunks = chunked.then(Chunked::new);
            self.multipart = Some(Multipart::new(&boundary));
            self.head = None;
            data = &data[used_of_data..];
        }
        let Some(mp) = &mut self.multipart else {
            return Ok(());
        };
        match &mut self.chunks {
            None => mp.feed(data, on_part),
            Some(chunks) => {
                while let Some(piece) = chunks.next(&mut data)? {
                    mp.feed(piece, on_part)?;
                }
                if chunks.done {
                    self.closed = true;
                }
                Ok(())
            }
        }
    }
}
