//! Junk after a complete `Content-Length` body, as Go's `hybridgroup/mjpeg`
//! server sends it: each write is its whole frame buffer, so stale bytes of
//! earlier, larger frames follow every JPEG up to the next delimiter.

use crate::decode::tests::{
    FRAMES, SEARCH_FRAMES, XorShift, advance_headers, bodies, dec, run, run_with, ustreamer,
};
use crate::decode::{DecodeError, Decoder};

/// A JPEG-shaped frame of `len` bytes (`len >= 4`): SOI, filler, EOI.
fn jpeg(len: usize, fill: u8) -> Vec<u8> {
    let mut f = vec![0xFF, 0xD8];
    f.resize(len - 2, fill);
    f.extend_from_slice(&[0xFF, 0xD9]);
    f
}

/// The bytes that server writes for `frames`, and how many of them are junk.
///
/// Like the server, one buffer is reused: it is reallocated at twice the
/// needed size when a frame does not fit, each frame and its header
/// overwrite its start, and the whole buffer is written every time.
fn hybridgroup(frames: &[Vec<u8>]) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut junk = 0;
    for (i, frame) in frames.iter().enumerate() {
        let head = format!(
            "\r\n--MJPEGBOUNDARY\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\
             X-Timestamp: {i}.{}\r\n\r\n",
            frame.len(),
            i * 50_000,
        );
        let used = head.len() + frame.len();
        if buf.len() < used {
            buf = vec![0; used * 2];
        }
        buf[..head.len()].copy_from_slice(head.as_bytes());
        buf[head.len()..used].copy_from_slice(frame);
        out.extend_from_slice(&buf);
        junk += (buf.len() - used) as u64;
    }
    (out, junk)
}

/// Frames that shrink and grow, so the junk holds tails of older frames
/// (with their own `FF D9`) as well as zeros.
fn frames() -> Vec<Vec<u8>> {
    [300, 120, 700, 90, 90, 2000, 40, 1999]
        .iter()
        .enumerate()
        .map(|(i, &len)| jpeg(len, b'a' + i as u8))
        .collect()
}

fn go_decoder() -> Decoder {
    Decoder::from_content_type("multipart/x-mixed-replace;boundary=MJPEGBOUNDARY").unwrap()
}

#[test]
fn junk_after_a_complete_jpeg_is_skipped_and_counted() {
    let frames = frames();
    let (input, junk) = hybridgroup(&frames);
    assert!(junk > 10_000, "the fixture has junk: {junk}");
    let r = run(go_decoder(), &input);
    r.result.unwrap();
    assert_eq!(
        bodies(&r.parts),
        frames.iter().map(|f| &f[..]).collect::<Vec<_>>()
    );
    assert!(r.parts.iter().all(|p| p.body.ends_with(&[0xFF, 0xD9])));
    assert_eq!(r.decoder.parts_with_junk(), frames.len() as u64);
    assert_eq!(r.decoder.junk_bytes_skipped(), junk);
    assert_eq!(r.decoder.parts_seen(), frames.len() as u64);
}

#[test]
fn junk_skipping_does_not_depend_on_chunking() {
    let frames = frames();
    let (input, junk) = hybridgroup(&frames[..4]);
    let expected: Vec<&[u8]> = frames[..4].iter().map(|f| &f[..]).collect();
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    for max in [1, 7, 100, 5000] {
        let r = run_with(go_decoder(), &input, || 1 + rng.below(max));
        r.result.unwrap();
        assert_eq!(bodies(&r.parts), expected, "chunks up to {max}");
        assert_eq!(r.decoder.junk_bytes_skipped(), junk);
    }
}

#[test]
fn junk_before_the_end_of_input_is_skipped() {
    let mut input = b"--B\r\nContent-Length: 6\r\n\r\n\xFF\xD8ab\xFF\xD9".to_vec();
    input.extend_from_slice(&[0; 50]);
    let r = run_with(dec("B"), &input, || 3);
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), vec![&b"\xFF\xD8ab\xFF\xD9"[..]]);
    assert_eq!(r.decoder.parts_with_junk(), 1);
    assert_eq!(r.decoder.junk_bytes_skipped(), 50);
}

#[test]
fn bodies_that_are_not_whole_jpegs_still_run_to_the_delimiter() {
    // A Content-Length that ends inside a JPEG, or a body that is not one:
    // the length is wrong, not the bytes after it.
    let input = b"--B\r\nContent-Length: 5\r\n\r\n\xFF\xD8ab\xFF\xD9xx\xFF\xD9\r\n--B\r\n\
        Content-Length: 3\r\n\r\nabc junk\r\n--B--";
    let r = run(dec("B"), input);
    r.result.unwrap();
    assert_eq!(
        bodies(&r.parts),
        vec![&b"\xFF\xD8ab\xFF\xD9xx\xFF\xD9"[..], b"abc junk"]
    );
    assert_eq!(r.decoder.parts_with_junk(), 0);
    assert_eq!(r.decoder.junk_bytes_skipped(), 0);
}

#[test]
fn streams_without_junk_count_none() {
    let inputs = [
        (advance_headers(&SEARCH_FRAMES), SEARCH_FRAMES.to_vec()),
        (ustreamer(&FRAMES, false), FRAMES.to_vec()),
    ];
    for (input, expected) in inputs {
        let r = run(dec("B"), &input);
        r.result.unwrap();
        assert_eq!(bodies(&r.parts), expected);
        assert_eq!(r.decoder.parts_with_junk(), 0);
        assert_eq!(r.decoder.junk_bytes_skipped(), 0);
    }
}

#[test]
fn strict_mode_rejects_junk() {
    let (input, _) = hybridgroup(&frames()[..2]);
    let r = run(go_decoder().strict(true), &input);
    assert!(
        matches!(
            r.result,
            Err(DecodeError::ContentLengthMismatch { part: 1, .. })
        ),
        "{:?}",
        r.result
    );
    assert!(r.parts.is_empty());
}

#[test]
fn endless_junk_is_bounded_by_the_part_limit() {
    let limits = crate::decode::Limits {
        max_part_size: 1000,
        ..Default::default()
    };
    let mut input = b"--B\r\nContent-Length: 6\r\n\r\n\xFF\xD8ab\xFF\xD9".to_vec();
    input.extend_from_slice(&[0x55; 5000]);
    input.extend_from_slice(b"\r\n--B--");
    let r = run_with(dec("B").limits(limits), &input, || 64);
    assert!(
        matches!(
            r.result,
            Err(DecodeError::PartTooLarge {
                part: 1,
                limit: 1000,
                ..
            })
        ),
        "{:?}",
        r.result
    );
}
