//! Frame -> NATS messages.

use async_nats::HeaderMap;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use mjpeg_tower::Frame;

use super::{CHUNK, FRAME_ID, SENT, is_reserved};

/// Room kept in each message for the headers of the `NATS/1.0` block that
/// are not counted exactly: the block's first and last line.
const HEAD_SLACK: usize = 64;

/// One NATS message of a frame: headers and a piece of the payload.
#[derive(Debug)]
pub(crate) struct Piece {
    pub(crate) headers: HeaderMap,
    pub(crate) payload: Bytes,
}

/// What [`encode`] did with a frame's part headers.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// Part headers left out: not text, or named like the bridge's own.
    pub(crate) headers_skipped: usize,
}

/// Splits `frame` into messages no larger than `max_payload` bytes each
/// (headers included), all tagged with `frame_id`.
///
/// Returns `None` when `max_payload` cannot even hold the first message's
/// headers.
pub(crate) fn encode(
    frame: &Frame,
    frame_id: &str,
    sent_micros: u64,
    max_payload: usize,
) -> Option<(Vec<Piece>, Encoded)> {
    let mut report = Encoded::default();
    let mut first = HeaderMap::new();
    if let Some(ct) = frame.content_type().and_then(|v| v.to_str().ok()) {
        first.insert(CONTENT_TYPE.as_str(), ct);
    }
    let mut part_len = 0;
    for (name, value) in frame.headers() {
        match value.to_str() {
            Ok(v) if !is_reserved(name.as_str()) => {
                part_len += name.as_str().len() + v.len() + 4;
                first.append(name.as_str(), v);
            }
            _ => report.headers_skipped += 1,
        }
    }
    first.insert(SENT, async_nats::HeaderValue::from(sent_micros));
    // Every message: frame id + chunk index, at most "<20 digits>/<20 digits>".
    let common = FRAME_ID.len() + frame_id.len() + CHUNK.len() + 41 + 8 + HEAD_SLACK;
    let ct_len = frame.content_type().map_or(0, |v| v.len() + 16);
    let first_head = common + part_len + ct_len + SENT.len() + 24;
    let first_room = max_payload.checked_sub(first_head).filter(|&r| r > 0)?;
    let room = max_payload.checked_sub(common).filter(|&r| r > 0)?;

    let data = frame.data();
    let mut cuts = vec![0, first_room.min(data.len())];
    while cuts.last().is_some_and(|&end| end < data.len()) {
        let start = cuts[cuts.len() - 1];
        cuts.push((start + room).min(data.len()));
    }
    let count = cuts.len() - 1;
    let pieces = cuts
        .windows(2)
        .enumerate()
        .map(|(index, w)| {
            let mut headers = if index == 0 {
                std::mem::take(&mut first)
            } else {
                HeaderMap::new()
            };
            headers.insert(FRAME_ID, frame_id);
            headers.insert(CHUNK, format!("{index}/{count}").as_str());
            Piece {
                headers,
                payload: data.slice(w[0]..w[1]),
            }
        })
        .collect();
    Some((pieces, report))
}
