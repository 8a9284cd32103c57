//! Property: whatever the frames, framing and chunking, the strict decoder
//! gets back what was encoded, in order, and never an empty part: a part
//! may only repeat the one before it (an announced part filled with the
//! previous frame).

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use proptest::prelude::*;

use crate::decode::Decoder;
use crate::wire::boundary::Boundary;
use crate::wire::cursor::Cursor;
use crate::wire::encoder::{PartEncoder, default_part_headers};
use crate::wire::frame::Frame;
use crate::wire::framing::Framing;

fn frame() -> impl Strategy<Value = Frame> {
    let payload = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..2000),
        // Payloads built to contain delimiter look-alikes and the delimiter itself.
        proptest::collection::vec(
            prop_oneof![
                Just(&b"\\r\\n--B"[..]),
                Just(&b"--B--"[..]),
                Just(&b"\\r\\n"[..]),
                Just(&b"x"[..])
            ],
            1..20
        )
        .prop_map(|pieces| pieces.concat()),
    ];
    let content_type = proptest::option::of(prop_oneof![
        Just("image/jpeg"),
        Just("image/png"),
        Just("application/json")
    ]);
    let extra = proptest::option::of("[a-z0-9 .:]{0,20}");
    (payload, content_type, extra).prop_map(|(payload, ct, extra)| {
        let mut frame = Frame::new(payload);
        if let Some(ct) = ct {
            frame = frame.with_content_type(HeaderValue::from_static(ct));
        }
        if let Some(extra) = extra {
            if let Ok(value) = HeaderValue::from_str(extra.trim()) {
                frame = frame.with_header(HeaderName::from_static("x-extra"), value);
            }
        }
        frame
    })
}

proptest! {
    #[test]
    fn encoded_frames_decode_exactly(
        frames in proptest::collection::vec(frame(), 0..8),
        standard in any::<bool>(),
        cuts in proptest::collection::vec(1usize..300, 1..50),
    ) {
        let framing = if standard { Framing::Standard } else { Framing::AdvanceHeaders };
        let enc = PartEncoder::new(Boundary::new("B").unwrap(), framing, default_part_headers());
        // Frames whose payload contains the delimiter are never sent.
        let frames: Vec<Frame> = frames
            .into_iter()
            .filter(|f| !enc.encode(f).contains_delimiter)
            .collect();
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut cursor = Cursor::default();
        cursor.opening(&enc, &mut chunks);
        for frame in &frames {
            cursor.frame(&enc, Arc::new(enc.encode(frame)), &mut chunks);
        }
        cursor.close(&enc, &mut chunks);
        let wire = chunks.concat();

        let mut decoder = Decoder::new("B").unwrap().strict(true);
        let mut parts = Vec::new();
        let mut rest = &wire[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at((*cut).min(rest.len()));
            decoder.push(now);
            rest = later;
            while let Some(part) = decoder.next_part().unwrap() {
                parts.push(part);
            }
        }
        while let Some(part) = decoder.finish().unwrap() {
            parts.push(part);
        }
        prop_assert!(decoder.is_closed());
        // A part is never left empty, but in a stream with no frame at all.
        prop_assert_eq!(decoder.empty_parts_skipped(), u64::from(frames.is_empty()));
        // Drop parts that repeat the one before, on both sides.
        parts.dedup_by(|b, a| a.body == b.body && a.headers == b.headers);
        // Frames that differ only in a content type left out or given as
        // the default, image/jpeg, are the same part on the wire.
        let wire_type = |f: &Frame| f.content_type().map_or("image/jpeg", |v| v.to_str().unwrap()).to_owned();
        let mut frames = frames;
        frames.dedup_by(|b, a| {
            a.data() == b.data()
                && wire_type(a) == wire_type(b)
                && a.headers().get("x-extra") == b.headers().get("x-extra")
        });
        prop_assert_eq!(parts.len(), frames.len());
        for (part, frame) in parts.iter().zip(&frames) {
            prop_assert_eq!(&part.body, frame.data());
            let want_ct = frame.content_type().map_or("image/jpeg", |v| v.to_str().unwrap());
            prop_assert_eq!(part.content_type(), Some(want_ct));
            prop_assert_eq!(part.headers.get("x-extra"), frame.headers().get("x-extra"));
            if standard {
                prop_assert_eq!(part.content_length(), Some(frame.len()));
            }
        }
    }
}
