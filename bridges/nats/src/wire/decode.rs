//! NATS messages -> frame, one frame at a time.

use async_nats::HeaderMap;
use bytes::{Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue};
use mjpeg_tower::Frame;

use super::{CHUNK, FRAME_ID, SENT, is_reserved};

/// A frame put back together.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) frame: Frame,
    /// The origin's frame id, `None` for a message from another publisher.
    pub(crate) id: Option<String>,
    /// The origin's send time in microseconds since the Unix epoch.
    pub(crate) sent_micros: Option<u64>,
    /// Headers that could not be part headers here.
    pub(crate) headers_skipped: usize,
}

/// What one message did.
#[derive(Debug)]
pub(crate) enum Step {
    /// A frame is complete.
    Frame(Box<Received>),
    /// A piece was taken; more are needed.
    Pending,
    /// The message could not be used; what was collected of its frame is dropped.
    Broken(Broken),
}

/// Why a message could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Broken {
    /// A piece arrived out of order or for another frame: one was lost.
    Gap,
    /// The `Mjpeg-Chunk` header is not `<index>/<count>` with index < count.
    BadChunkHeader,
    /// The frame would be larger than the edge accepts.
    TooLarge,
}

/// Joins the pieces of one frame at a time; a gap drops the frame.
#[derive(Debug)]
pub(crate) struct Reassembler {
    max_frame: usize,
    partial: Option<Partial>,
}

#[derive(Debug)]
struct Partial {
    id: String,
    count: usize,
    next: usize,
    first: HeaderMap,
    data: BytesMut,
}

impl Reassembler {
    /// Accepts frames of at most `max_frame` payload bytes.
    pub(crate) fn new(max_frame: usize) -> Self {
        Self {
            max_frame,
            partial: None,
        }
    }

    /// Takes one message.
    pub(crate) fn push(&mut self, headers: Option<&HeaderMap>, payload: Bytes) -> Step {
        let empty = HeaderMap::new();
        let headers = headers.unwrap_or(&empty);
        let Some(chunk) = headers.get(CHUNK) else {
            // Not from an origin of this crate: the message is the frame.
            self.partial = None;
            return self.whole(headers, None, payload);
        };
        let Some((index, count)) = parse_chunk(chunk.as_str()) else {
            self.partial = None;
            return Step::Broken(Broken::BadChunkHeader);
        };
        let id = headers.get(FRAME_ID).map(|v| v.as_str().to_owned());
        if index == 0 {
            // A new frame starts; an unfinished one can no longer complete.
            let dropped = self.partial.take().is_some();
            if count == 1 {
                return self.whole(headers, id, payload);
            }
            if payload.len().saturating_mul(count) > self.max_frame.saturating_mul(2) {
                return Step::Broken(Broken::TooLarge);
            }
            let mut data = BytesMut::with_capacity(payload.len() * count);
            data.extend_from_slice(&payload);
            self.partial = Some(Partial {
                id: id.unwrap_or_default(),
                count,
                next: 1,
                first: headers.clone(),
                data,
            });
            return if dropped {
                Step::Broken(Broken::Gap)
            } else {
                Step::Pending
            };
        }
        let Some(mut partial) = self.partial.take() else {
            return Step::Broken(Broken::Gap);
        };
        if id.as_deref() != Some(partial.id.as_str())
            || index != partial.next
            || count != partial.count
        {
            return Step::Broken(Broken::Gap);
        }
        if partial.data.len() + payload.len() > self.max_frame {
            return Step::Broken(Broken::TooLarge);
        }
        partial.data.extend_from_slice(&payload);
        partial.next += 1;
        if partial.next < partial.count {
            self.partial = Some(partial);
            return Step::Pending;
        }
        let id = Some(partial.id);
        self.whole(&partial.first, id, partial.data.freeze())
    }

    fn whole(&self, headers: &HeaderMap, id: Option<String>, payload: Bytes) -> Step {
        if payload.len() > self.max_frame {
            return Step::Broken(Broken::TooLarge);
        }
        let (frame, headers_skipped) = frame_from(headers, payload);
        Step::Frame(Box::new(Received {
            frame,
            id,
            sent_micros: headers.get(SENT).and_then(|v| v.as_str().parse().ok()),
            headers_skipped,
        }))
    }
}

/// `"<index>/<count>"` with `index < count`.
fn parse_chunk(value: &str) -> Option<(usize, usize)> {
    let (index, count) = value.split_once('/')?;
    let (index, count) = (index.parse().ok()?, count.parse().ok()?);
    (index < count).then_some((index, count))
}

/// The frame: payload, content type and part headers from the message headers.
fn frame_from(headers: &HeaderMap, payload: Bytes) -> (Frame, usize) {
    let mut frame = Frame::new(payload);
    let mut skipped = 0;
    for (name, values) in headers.iter() {
        let name: &str = name.as_ref();
        if is_reserved(name) {
            continue;
        }
        for value in values {
            let parsed = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value.as_str()),
            );
            match parsed {
                (Ok(n), Ok(v)) if n == CONTENT_TYPE => frame = frame.with_content_type(v),
                (Ok(n), Ok(v)) => frame = frame.with_header(n, v),
                _ => skipped += 1,
            }
        }
    }
    (frame, skipped)
}
