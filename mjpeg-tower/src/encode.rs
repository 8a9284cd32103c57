//! The pure part encoder: frames in, wire bytes out.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};

use crate::{Boundary, Frame, Framing};

/// One encoded part, as separate chunks so the payload is never copied.
#[derive(Clone, Debug, Default)]
pub(crate) struct EncodedPart {
    /// Delimiter and headers that must precede the payload (empty when the
    /// header block already went out ahead).
    pub(crate) head: Bytes,
    pub(crate) payload: Bytes,
    /// What follows the payload: delimiter (and advance headers).
    pub(crate) tail: Bytes,
}

impl EncodedPart {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.payload.len() + self.tail.len()
    }

    /// The non-empty chunks in wire order.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = Bytes> + '_ {
        [&self.head, &self.payload, &self.tail]
            .into_iter()
            .filter(|c| !c.is_empty())
            .cloned()
    }
}

/// Encodes frames into parts for one boundary, header set and framing.
///
/// Wire format, with `B` the boundary:
/// - `Standard`: opening `--B\r\n`; each part `<headers with Content-Length>\r\n<payload>\r\n--B\r\n`.
/// - `AdvanceHeaders`: opening `--B\r\n<headers>\r\n`; each part `<payload>\r\n--B\r\n<headers>\r\n`.
/// - close (both): `\r\n--B--\r\n`, which ends the part opened by the last
///   delimiter as an empty part, as RFC 2046 allows.
#[derive(Debug)]
pub(crate) struct PartEncoder {
    id: u64,
    boundary: Boundary,
    framing: Framing,
    part_headers: HeaderMap,
    /// `\r\n--B\r\n`: ends a part and opens the next.
    next_part: Bytes,
    opening: Bytes,
    tail: Bytes,
    close: Bytes,
}

impl PartEncoder {
    /// The encoder for this configuration: one per distinct configuration
    /// alive in the process, so layers configured alike share encodings.
    pub(crate) fn shared(
        boundary: Boundary,
        framing: Framing,
        part_headers: HeaderMap,
    ) -> Arc<Self> {
        static LIVE: Mutex<Vec<Weak<PartEncoder>>> = Mutex::new(Vec::new());
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|weak| weak.strong_count() > 0);
        let existing = live.iter().filter_map(Weak::upgrade).find(|e| {
            e.boundary == boundary && e.framing == framing && e.part_headers == part_headers
        });
        if let Some(existing) = existing {
            return existing;
        }
        let encoder = Arc::new(Self::new(boundary, framing, part_headers));
        live.push(Arc::downgrade(&encoder));
        encoder
    }

    pub(crate) fn new(boundary: Boundary, framing: Framing, part_headers: HeaderMap) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let b = boundary.as_str().as_bytes();
        let mut delimiter = BytesMut::with_capacity(b.len() + 4);
        delimiter.put_slice(b"--");
        delimiter.put_slice(b);
        delimiter.put_slice(b"\r\n");

        let mut opening = delimiter.clone();
        let mut next_part = BytesMut::with_capacity(b.len() + 6);
        next_part.put_slice(b"\r\n");
        next_part.put_slice(&delimiter);
        let mut tail = next_part.clone();
        if framing == Framing::AdvanceHeaders {
            put_headers(&mut opening, &part_headers, None, None);
            opening.put_slice(b"\r\n");
            put_headers(&mut tail, &part_headers, None, None);
            tail.put_slice(b"\r\n");
        }
        let mut close = BytesMut::with_capacity(b.len() + 8);
        close.put_slice(b"\r\n--");
        close.put_slice(b);
        close.put_slice(b"--\r\n");
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            boundary,
            framing,
            part_headers,
            next_part: next_part.freeze(),
            opening: opening.freeze(),
            tail: tail.freeze(),
            close: close.freeze(),
        }
    }

    /// A number no other encoder in this process has: the key under which a
    /// shared frame caches its encoding.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The first bytes of the body.
    pub(crate) fn opening(&self) -> Bytes {
        self.opening.clone()
    }

    /// The close delimiter, sent when the stream ends.
    pub(crate) fn close(&self) -> Bytes {
        self.close.clone()
    }

    /// Encodes one frame into the chunks that follow what was sent before it.
    pub(crate) fn encode(&self, frame: &Frame) -> EncodedPart {
        let head = match self.framing {
            Framing::AdvanceHeaders if self.sent_ahead_fits(frame) => Bytes::new(),
            Framing::AdvanceHeaders => {
                // The header block sent ahead cannot carry this frame's own
                // headers: close that part empty and open a complete one.
                let mut head = BytesMut::with_capacity(256);
                head.put_slice(&self.next_part);
                self.put_full_headers(&mut head, frame);
                head.freeze()
            }
            Framing::Standard => {
                let mut head = BytesMut::with_capacity(128);
                self.put_full_headers(&mut head, frame);
                head.freeze()
            }
        };
        EncodedPart {
            head,
            payload: frame.data().clone(),
            tail: self.tail.clone(),
        }
    }

    /// Whether the header block sent ahead is this frame's: it adds no header,
    /// its content type, if any, is the default one, and its payload does not
    /// contain the delimiter (without `Content-Length`, parsers would cut it there).
    fn sent_ahead_fits(&self, frame: &Frame) -> bool {
        frame.headers().is_empty()
            && frame
                .content_type()
                .is_none_or(|ct| self.part_headers.get(CONTENT_TYPE) == Some(ct))
            && !self.contains_delimiter(frame.data())
    }

    /// Whether a line of `payload` starts with `--B`: at its very start (it
    /// follows the header block's blank line) or after any `\n` (parsers take
    /// `\r\n--B`, and tolerant ones `\n--B`, as a delimiter).
    fn contains_delimiter(&self, payload: &[u8]) -> bool {
        let boundary = self.boundary.as_str().as_bytes();
        let starts_delimiter =
            |line: &[u8]| line.starts_with(b"--") && line[2..].starts_with(boundary);
        if starts_delimiter(payload) {
            return true;
        }
        let mut rest = payload;
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            rest = &rest[at + 1..];
            if starts_delimiter(rest) {
                return true;
            }
        }
        false
    }

    fn put_full_headers(&self, dst: &mut BytesMut, frame: &Frame) {
        put_headers(dst, &self.part_headers, Some(frame), Some(frame.len()));
        dst.put_slice(b"\r\n");
    }
}

/// Writes `Name: value\r\n` lines: the part headers, overridden by the
/// frame's own, then the real `Content-Length` when `len` is given.
fn put_headers(
    dst: &mut BytesMut,
    defaults: &HeaderMap,
    frame: Option<&Frame>,
    len: Option<usize>,
) {
    let content_type = frame
        .and_then(Frame::content_type)
        .or_else(|| defaults.get(CONTENT_TYPE));
    if let Some(value) = content_type {
        put_line(dst, "Content-Type", value);
    }
    if let Some(len) = len {
        // Writing into a BytesMut cannot fail.
        let _ = write!(dst, "Content-Length: {len}\r\n");
    }
    let own = frame.map(Frame::headers);
    for (name, value) in defaults {
        let overridden = own.is_some_and(|h| h.contains_key(name));
        if name != CONTENT_TYPE && name != CONTENT_LENGTH && !overridden {
            put_line(dst, name.as_str(), value);
        }
    }
    for (name, value) in own.into_iter().flatten() {
        put_line(dst, name.as_str(), value);
    }
}

fn put_line(dst: &mut BytesMut, name: &str, value: &HeaderValue) {
    dst.put_slice(name.as_bytes());
    dst.put_slice(b": ");
    dst.put_slice(value.as_bytes());
    dst.put_slice(b"\r\n");
}

/// Distinct encoders whose encodings a shared frame keeps; others encode per viewer.
const CACHED_ENCODINGS: usize = 4;

/// A frame shared by every viewer that receives it, with its encoding cached
/// per encoder: all viewers of layers configured alike share one encoding.
#[derive(Debug)]
pub(crate) struct SharedFrame {
    frame: Frame,
    cached: [OnceLock<(u64, EncodedPart)>; CACHED_ENCODINGS],
}

impl SharedFrame {
    pub(crate) fn new(frame: Frame) -> Self {
        Self {
            frame,
            cached: Default::default(),
        }
    }

    pub(crate) fn frame(&self) -> &Frame {
        &self.frame
    }

    /// The frame as `encoder` puts it on the wire: encoded once per encoder
    /// (the first empty slot takes it), for up to [`CACHED_ENCODINGS`] encoders.
    pub(crate) fn encoded(&self, encoder: &PartEncoder) -> EncodedPart {
        for slot in &self.cached {
            let (id, part) = slot.get_or_init(|| (encoder.id(), encoder.encode(&self.frame)));
            if *id == encoder.id() {
                return part.clone();
            }
        }
        encoder.encode(&self.frame)
    }
}

/// The part headers every layer starts from.
pub(crate) fn default_part_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    headers
}

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "decoder"))]
mod roundtrip;
