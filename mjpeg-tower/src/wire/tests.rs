//! Byte-for-byte tests of the part encoder.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::wire::boundary::Boundary;
use crate::wire::cursor::Cursor;
use crate::wire::encoder::{PartEncoder, default_part_headers};
use crate::wire::frame::Frame;
use crate::wire::framing::Framing;

fn encoder(framing: Framing) -> PartEncoder {
    PartEncoder::new(Boundary::new("B").unwrap(), framing, default_part_headers())
}

/// The whole body a viewer gets for `frames`, as text.
fn wire(encoder: &PartEncoder, frames: &[Frame]) -> String {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut cursor = Cursor::default();
    cursor.opening(encoder, &mut chunks);
    for frame in frames {
        cursor.frame(encoder, Arc::new(encoder.encode(frame)), &mut chunks);
    }
    cursor.close(encoder, &mut chunks);
    String::from_utf8(chunks.concat()).unwrap()
}

fn stamped(payload: &'static str, stamp: &'static str) -> Frame {
    Frame::new(payload).with_header(
        HeaderName::from_static("x-ts"),
        HeaderValue::from_static(stamp),
    )
}

#[test]
fn standard_framing_byte_for_byte() {
    let enc = encoder(Framing::Standard);
    assert_eq!(
        wire(&enc, &[Frame::new(&b"hello"[..]), Frame::new(&b"hi"[..])]),
        "--B\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 5\r\n\r\nhello\r\n--B\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nhi\r\n--B\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nhi\
         \r\n--B--\r\n",
        "the part opened by the last delimiter holds the last frame again, never nothing"
    );
}

#[test]
fn advance_headers_framing_byte_for_byte_ends_on_the_last_frame() {
    let enc = encoder(Framing::AdvanceHeaders);
    assert_eq!(
        wire(&enc, &[Frame::new(&b"hello"[..]), Frame::new(&b"hi"[..])]),
        "--B\r\nContent-Type: image/jpeg\r\n\r\n\
         hello\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n\
         hi\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n\
         hi\r\n--B--\r\n",
        "the part announced after the last frame holds that frame again, never nothing"
    );
}

#[test]
fn close_delimiter_alone_for_an_empty_stream() {
    for framing in [Framing::Standard, Framing::AdvanceHeaders] {
        assert_eq!(wire(&encoder(framing), &[]), "--B\r\n\r\n--B--\r\n");
    }
}

#[test]
fn custom_part_headers_and_frame_overrides() {
    let mut headers = default_part_headers();
    headers.insert(
        HeaderName::from_static("x-camera"),
        HeaderValue::from_static("front"),
    );
    headers.insert(
        HeaderName::from_static("x-seq"),
        HeaderValue::from_static("default"),
    );
    let enc = PartEncoder::new(Boundary::new("B").unwrap(), Framing::Standard, headers);
    let frame = Frame::new(&b"{}"[..])
        .with_content_type(HeaderValue::from_static("application/json"))
        .with_header(
            HeaderName::from_static("x-seq"),
            HeaderValue::from_static("7"),
        );
    let part = enc.encode(&frame);
    assert_eq!(
        std::str::from_utf8(&part.head).unwrap(),
        "Content-Type: application/json\r\nContent-Length: 2\r\nx-camera: front\r\nx-seq: 7\r\n\r\n"
    );
}

#[test]
fn advance_headers_frame_with_own_headers_goes_out_complete_without_an_empty_part() {
    let enc = encoder(Framing::AdvanceHeaders);
    let png = Frame::new(&b"png!"[..]).with_content_type(HeaderValue::from_static("image/png"));
    assert_eq!(
        wire(&enc, &[png]),
        "--B\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\npng!\r\n--B\r\n\
         Content-Type: image/png\r\nContent-Length: 4\r\n\r\npng!\r\n--B--\r\n"
    );
}

#[test]
fn advance_headers_fills_the_announced_part_with_the_previous_frame() {
    let enc = encoder(Framing::AdvanceHeaders);
    assert_eq!(
        wire(&enc, &[Frame::new("A"), stamped("B", "1"), Frame::new("C")]),
        "--B\r\nContent-Type: image/jpeg\r\n\r\nA\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n\
         A\r\n--B\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 1\r\nx-ts: 1\r\n\r\nB\r\n--B\r\n\
         Content-Type: image/jpeg\r\n\r\nC\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n\
         C\r\n--B--\r\n"
    );
}

#[test]
fn frames_that_all_carry_their_own_headers_are_framed_as_standard() {
    let stamped_frames = [stamped("A", "1"), stamped("B", "2")];
    assert_eq!(
        wire(&encoder(Framing::AdvanceHeaders), &stamped_frames),
        wire(&encoder(Framing::Standard), &stamped_frames),
    );
}

#[test]
fn advance_headers_frame_whose_headers_match_the_defaults_uses_the_announced_block() {
    let enc = encoder(Framing::AdvanceHeaders);
    assert!(enc.encode(&Frame::jpeg(&b"x"[..])).fits_announced);
    assert!(enc.encode(&Frame::new(&b"x"[..])).fits_announced);
}

#[test]
fn a_payload_containing_the_delimiter_is_flagged_in_both_framings() {
    let enc = encoder(Framing::AdvanceHeaders);
    let sneaky = Frame::new(&b"text\r\n--B\r\nmore"[..]);
    let part = enc.encode(&sneaky);
    assert!(part.contains_delimiter, "never sent: browsers would cut it");
    assert!(!part.fits_announced);
    assert!(
        std::str::from_utf8(&part.head)
            .unwrap()
            .contains("Content-Length: 15\r\n")
    );
    assert!(
        enc.encode(&Frame::new(&b"--B at the start"[..]))
            .contains_delimiter
    );
    assert!(
        encoder(Framing::Standard)
            .encode(&Frame::new(&b"x\n--B"[..]))
            .contains_delimiter
    );
    let harmless = enc.encode(&Frame::new(&b"text\r\n--C"[..]));
    assert!(harmless.fits_announced && !harmless.contains_delimiter);
}

#[test]
fn payload_is_shared_not_copied() {
    let frame = Frame::new(vec![7u8; 50_000]);
    let part = encoder(Framing::AdvanceHeaders).encode(&frame);
    assert_eq!(part.payload.as_ptr(), frame.data().as_ptr());
}

#[test]
fn fingerprints_are_equal_exactly_when_the_bytes_would_be() {
    let fp = |boundary: &str, framing, headers: HeaderMap| {
        PartEncoder::new(Boundary::new(boundary).unwrap(), framing, headers)
            .fingerprint()
            .clone()
    };
    let base = fp("B", Framing::Standard, default_part_headers());
    assert_eq!(base, fp("B", Framing::Standard, default_part_headers()));
    assert_ne!(base, fp("C", Framing::Standard, default_part_headers()));
    assert_ne!(
        base,
        fp("B", Framing::AdvanceHeaders, default_part_headers())
    );
    let mut camera = default_part_headers();
    camera.insert(
        HeaderName::from_static("x-camera"),
        HeaderValue::from_static("front"),
    );
    assert_ne!(base, fp("B", Framing::Standard, camera));
    // A boundary that ends like a header line must not alias another configuration.
    assert_ne!(
        fp("Bx", Framing::Standard, HeaderMap::new()),
        fp("B", Framing::Standard, HeaderMap::new())
    );
}
