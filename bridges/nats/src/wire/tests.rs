use async_nats::HeaderMap;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use mjpeg_tower::Frame;

use super::decode::{Broken, Reassembler, Step};
use super::encode::{Piece, encode};

const MB: usize = 1024 * 1024;

/// The size of the `NATS/1.0` header block as the client writes it.
fn head_len(headers: &HeaderMap) -> usize {
    let lines: usize = headers
        .iter()
        .flat_map(|(name, values)| {
            let name: &str = name.as_ref();
            values
                .iter()
                .map(move |v| name.len() + 2 + v.as_str().len() + 2)
        })
        .sum();
    "NATS/1.0\r\n".len() + lines + 2
}

fn frame(len: usize) -> Frame {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    Frame::jpeg(data).with_header(
        HeaderName::from_static("x-seq"),
        HeaderValue::from_static("42"),
    )
}

fn join(pieces: Vec<Piece>) -> Vec<Step> {
    let mut r = Reassembler::new(64 * MB);
    pieces
        .into_iter()
        .map(|p| r.push(Some(&p.headers), p.payload))
        .collect()
}

fn only_frame(steps: Vec<Step>) -> Frame {
    let mut frames: Vec<Frame> = steps
        .into_iter()
        .filter_map(|s| match s {
            Step::Frame(r) => Some(r.frame),
            Step::Pending => None,
            Step::Broken(b) => panic!("broken: {b:?}"),
        })
        .collect();
    assert_eq!(frames.len(), 1, "exactly one frame comes out");
    frames.remove(0)
}

#[test]
fn small_frame_is_one_message_and_round_trips_with_its_headers() {
    let f = frame(50_000);
    let (pieces, report) = encode(&f, "o.1", 7, MB).expect("fits");
    assert_eq!(pieces.len(), 1);
    assert_eq!(report.headers_skipped, 0);
    assert_eq!(only_frame(join(pieces)), f);
}

#[test]
fn two_megabyte_frame_is_split_under_the_limit_and_joined_again() {
    let f = frame(2 * MB);
    let (pieces, _) = encode(&f, "origin-id.123456", 7, MB).expect("fits");
    assert_eq!(pieces.len(), 3, "2 MiB in messages of at most 1 MiB");
    for p in &pieces {
        let total = head_len(&p.headers) + p.payload.len();
        assert!(total <= MB, "message of {total} bytes exceeds {MB}");
    }
    assert_eq!(only_frame(join(pieces)), f);
}

#[test]
fn a_lost_piece_drops_the_frame_and_the_next_frame_still_arrives() {
    let (mut first, _) = encode(&frame(3000), "o.1", 0, 1200).expect("fits");
    assert!(first.len() >= 3);
    first.remove(1);
    let (second, _) = encode(&frame(3000), "o.2", 0, 1200).expect("fits");
    let steps = join(first.into_iter().chain(second).collect());
    assert!(steps.iter().any(|s| matches!(s, Step::Broken(Broken::Gap))));
    let frames = steps.iter().filter(|s| matches!(s, Step::Frame(_))).count();
    assert_eq!(frames, 1, "only the complete second frame comes out");
}

#[test]
fn message_from_another_publisher_is_a_whole_frame() {
    let mut headers = HeaderMap::new();
    headers.insert("Content-Type", "image/png");
    let mut r = Reassembler::new(MB);
    let Step::Frame(got) = r.push(Some(&headers), Bytes::from_static(b"png")) else {
        panic!("expected a frame");
    };
    assert_eq!(got.id, None);
    assert_eq!(got.frame.content_type().expect("set"), "image/png");
    assert_eq!(got.frame.data().as_ref(), b"png");
}

#[test]
fn bridge_headers_are_not_part_headers_and_cannot_be_spoofed() {
    let f = Frame::jpeg(&b"x"[..]).with_header(
        HeaderName::from_static("mjpeg-chunk"),
        HeaderValue::from_static("9/9"),
    );
    let (pieces, report) = encode(&f, "o.1", 0, MB).expect("fits");
    assert_eq!(report.headers_skipped, 1);
    let got = only_frame(join(pieces));
    assert!(got.headers().is_empty(), "{:?}", got.headers());
}

#[test]
fn oversized_frame_is_refused_not_buffered() {
    let (pieces, _) = encode(&frame(5000), "o.1", 0, 1200).expect("fits");
    let mut r = Reassembler::new(2000);
    let steps: Vec<Step> = pieces
        .into_iter()
        .map(|p| r.push(Some(&p.headers), p.payload))
        .collect();
    assert!(
        steps
            .iter()
            .any(|s| matches!(s, Step::Broken(Broken::TooLarge)))
    );
    assert!(!steps.iter().any(|s| matches!(s, Step::Frame(_))));
}

#[test]
fn limit_too_small_for_the_headers_is_refused() {
    assert!(encode(&frame(10), "o.1", 0, 40).is_none());
}
