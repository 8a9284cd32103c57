//! Test suite for the decoder, with streams shaped like real servers.

use crate::decode::{DecodeError, Decoder, Part};

/// Deterministic xorshift64 generator for tests.
#[derive(Debug)]
pub(super) struct XorShift(pub(super) u64);

impl XorShift {
    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Everything a decoding run produced.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) parts: Vec<Part>,
    pub(super) result: Result<(), DecodeError>,
    pub(super) decoder: Decoder,
}

/// Feeds `input` in chunks whose sizes come from `sizes`, draining parts after
/// every push, then finishes.
pub(super) fn run_with(
    mut decoder: Decoder,
    input: &[u8],
    mut sizes: impl FnMut() -> usize,
) -> Run {
    let mut parts = Vec::new();
    let mut rest = input;
    let result = (|| {
        while !rest.is_empty() {
            let n = sizes().clamp(1, rest.len());
            decoder.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(part) = decoder.next_part()? {
                parts.push(part);
            }
        }
        while let Some(part) = decoder.finish()? {
            parts.push(part);
        }
        Ok(())
    })();
    Run {
        parts,
        result,
        decoder,
    }
}

pub(super) fn run(decoder: Decoder, input: &[u8]) -> Run {
    run_with(decoder, input, || usize::MAX)
}

pub(super) fn bodies(parts: &[Part]) -> Vec<&[u8]> {
    parts.iter().map(|p| &p.body[..]).collect()
}

pub(super) fn dec(boundary: &str) -> Decoder {
    Decoder::new(boundary).unwrap()
}

pub(super) const FRAMES: [&[u8]; 4] = [
    b"hello",
    b"\xff\xd8\xff\xe0 jpeg \r\n--B\r\n--B--\r\n inside \xff\xd9",
    b"a--Bb --B\n--Bx\r\n--Bx\r\n--B-x\r\n",
    b"\r\nends with crlf\r\n",
];

/// uStreamer-style: Content-Length on every part, delimiter right after the frame.
pub(super) fn ustreamer(frames: &[&[u8]], trailing_empty_part: bool) -> Vec<u8> {
    let mut out = b"--B\r\n".to_vec();
    for (i, frame) in frames.iter().enumerate() {
        let head = format!(
            "Content-Type: image/jpeg\r\nContent-Length: {}\r\nX-Timestamp: {i}.5\r\n\r\n",
            frame.len()
        );
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(frame);
        out.extend_from_slice(b"\r\n--B");
        if i + 1 < frames.len() || trailing_empty_part {
            out.extend_from_slice(b"\r\n");
        }
    }
    if trailing_empty_part {
        out.extend_from_slice(b"\r\n--B");
    }
    out.extend_from_slice(b"--\r\nepilogue \xff garbage");
    out
}

/// Advance headers: the next part's headers are sent right after each frame.
pub(super) fn advance_headers(frames: &[&[u8]]) -> Vec<u8> {
    let mut out = b"preamble text\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    for (i, frame) in frames.iter().enumerate() {
        out.extend_from_slice(frame);
        if i + 1 < frames.len() {
            out.extend_from_slice(b"\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n");
        }
    }
    out.extend_from_slice(b"\r\n--B--\r\n");
    out
}

/// mjpg-streamer style: an extra CRLF between the body and the delimiter.
pub(super) fn mjpg_streamer(frames: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        let head = format!(
            "--boundarydonotcross\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Timestamp: 1.0\r\n\r\n",
            frame.len()
        );
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(frame);
        out.extend_from_slice(b"\r\n\r\n");
    }
    out
}

/// Frames that are safe without Content-Length (no `\n--B` followed by a delimiter char).
pub(super) const SEARCH_FRAMES: [&[u8]; 4] = [
    b"hello",
    b"a--B--B\r\n--Bx\r\n--B-x",
    b"\xff\xd8\r\n\r\n\xff\xd9",
    b"x",
];

#[test]
fn ustreamer_style() {
    for strict in [false, true] {
        let input = ustreamer(&FRAMES, false);
        let r = run(dec("B").strict(strict), &input);
        r.result.unwrap();
        assert_eq!(bodies(&r.parts), FRAMES.to_vec());
        assert_eq!(r.parts[0].content_type(), Some("image/jpeg"));
        assert_eq!(r.parts[1].content_length(), Some(FRAMES[1].len()));
        assert_eq!(r.parts[2].headers["x-timestamp"], "2.5");
        assert!(r.decoder.is_closed());
        assert_eq!(r.decoder.parts_seen(), 4);
        assert_eq!(r.decoder.empty_parts_skipped(), 0);
    }
}

#[test]
fn ustreamer_empty_part_before_close_is_skipped() {
    for strict in [false, true] {
        let r = run(dec("B").strict(strict), &ustreamer(&FRAMES[..2], true));
        r.result.unwrap();
        assert_eq!(bodies(&r.parts), FRAMES[..2].to_vec());
        assert_eq!(r.decoder.empty_parts_skipped(), 1);
        assert!(r.decoder.is_closed());
    }
}

#[test]
fn headers_only_part_before_close_is_skipped() {
    let input =
        b"--B\r\nContent-Length: 1\r\n\r\nx\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n--B--";
    for strict in [false, true] {
        let r = run(dec("B").strict(strict), input);
        r.result.unwrap();
        assert_eq!(bodies(&r.parts), vec![&b"x"[..]]);
        assert_eq!(r.decoder.empty_parts_skipped(), 1);
    }
}

#[test]
fn advance_headers_without_content_length() {
    for strict in [false, true] {
        let r = run(dec("B").strict(strict), &advance_headers(&SEARCH_FRAMES));
        r.result.unwrap();
        assert_eq!(bodies(&r.parts), SEARCH_FRAMES.to_vec());
        assert!(r.parts.iter().all(|p| p.content_length().is_none()));
        assert!(r.decoder.is_closed());
        assert_eq!(r.decoder.empty_parts_skipped(), 0);
    }
}

#[test]
fn advance_headers_stream_cut_after_headers_ends_cleanly() {
    let input = b"--B\r\n\r\nframe\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n";
    let r = run(dec("B"), input);
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), vec![&b"frame"[..]]);
    assert!(!r.decoder.is_closed());
}

#[test]
fn mjpg_streamer_extra_crlf() {
    let input = mjpg_streamer(&FRAMES);
    let r = run(dec("boundarydonotcross"), &input);
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), FRAMES.to_vec());
    assert_eq!(r.parts[0].headers["x-timestamp"], "1.0");

    let r = run(dec("boundarydonotcross").strict(true), &input);
    let err = r.result.unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::ContentLengthMismatch {
                part: 1,
                content_length: 5,
                reason: "expected the boundary delimiter after the CRLF",
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("part 1: content-length 5 but the delimiter does not follow the body")
    );
    assert!(r.parts.is_empty());
}

#[test]
fn dash_prefixed_boundary_parameter() {
    let input = b"--myboundary\r\nContent-Length: 3\r\n\r\none\r\n----myboundary\r\n\r\ntwo\r\n--myboundary\r\n\r\n--myboundary\r\n\r\nthree\n--myboundary--\r\n";
    for ct in [
        "multipart/x-mixed-replace;boundary=--myboundary",
        "multipart/x-mixed-replace; boundary=\"--myboundary\"",
    ] {
        let r = run(Decoder::from_content_type(ct).unwrap(), input);
        r.result.unwrap();
        assert_eq!(bodies(&r.parts), vec![&b"one"[..], b"two", b"three"]);
        assert_eq!(r.decoder.boundary(), "--myboundary");
        assert_eq!(r.decoder.empty_parts_skipped(), 1);
        assert!(r.decoder.is_closed());
    }
    // A plain boundary does not accept the bare boundary as a delimiter.
    let r = run(
        dec("myboundary"),
        b"--myboundary\r\n\r\na\r\nmyboundary\r\n\r\nb\r\n--myboundary--",
    );
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), vec![&b"a\r\nmyboundary\r\n\r\nb"[..]]);
}

#[test]
fn from_content_type_variants() {
    let ok = [
        ("multipart/x-mixed-replace; boundary=\"abc\"", "abc"),
        ("multipart/x-mixed-replace;boundary=abc", "abc"),
        ("Multipart/X-Mixed-Replace; BOUNDARY=abc", "abc"),
        (
            "multipart/x-mixed-replace; Boundary = \"a b\" ; charset=utf-8",
            "a b",
        ),
        (
            "multipart/x-mixed-replace; charset=\"x;y\"; boundary=frame; q=1",
            "frame",
        ),
        ("multipart/mixed; boundary=--ipcamera", "--ipcamera"),
    ];
    for (ct, boundary) in ok {
        assert_eq!(
            Decoder::from_content_type(ct).unwrap().boundary(),
            boundary,
            "{ct}"
        );
    }
    for ct in [
        "multipart/x-mixed-replace",
        "multipart/x-mixed-replace; charset=utf-8",
        "multipart/x-mixed-replace; boundary=",
    ] {
        let err = Decoder::from_content_type(ct).unwrap_err();
        assert!(
            matches!(err, DecodeError::MissingBoundary { .. }),
            "{ct}: {err:?}"
        );
        assert!(err.to_string().contains("no boundary parameter"));
    }
    for ct in ["image/jpeg", "text/html; boundary=abc", "", "multipart"] {
        let err = Decoder::from_content_type(ct).unwrap_err();
        assert!(
            matches!(err, DecodeError::NotMultipart { .. }),
            "{ct}: {err:?}"
        );
    }
}

#[test]
fn invalid_boundaries() {
    for b in ["", "a\r\nb", "tab\there", &"x".repeat(300)] {
        assert!(
            matches!(Decoder::new(b), Err(DecodeError::InvalidBoundary { .. })),
            "{b:?}"
        );
    }
    assert!(Decoder::new("a b").is_ok());
}

/// All the well-formed streams used by the chunking test: boundary, strict, input.
fn sample_streams() -> Vec<(&'static str, bool, Vec<u8>)> {
    vec![
        ("B", false, ustreamer(&FRAMES, false)),
        ("B", true, ustreamer(&FRAMES, true)),
        ("B", false, advance_headers(&SEARCH_FRAMES)),
        ("B", true, advance_headers(&SEARCH_FRAMES)),
        ("boundarydonotcross", false, mjpg_streamer(&FRAMES)),
        (
            "--x",
            false,
            b"--x\n\na\n----x \t\nH: v\n\nb\r\n--x--".to_vec(),
        ),
        ("B", false, LYING.to_vec()),
    ]
}

/// Content-Length too short for the first part and too long for the second.
const LYING: &[u8] = b"--B\r\nContent-Length: 3\r\n\r\nbut longer\r\n--B\r\nContent-Length: 99\r\n\r\nshort\r\n--B--";

#[test]
fn chunking_does_not_matter() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for (boundary, strict, input) in sample_streams() {
        let fresh = || dec(boundary).strict(strict);
        let whole = run(fresh(), &input);
        whole.result.unwrap();
        assert!(!whole.parts.is_empty());
        let expected = bodies(&whole.parts);
        let one = run_with(fresh(), &input, || 1);
        one.result.unwrap();
        assert_eq!(bodies(&one.parts), expected);
        for _ in 0..50 {
            let max = 1 + rng.below(40);
            let r = run_with(fresh(), &input, || 1 + rng.below(max));
            r.result.unwrap();
            assert_eq!(bodies(&r.parts), expected);
            assert_eq!(
                r.decoder.empty_parts_skipped(),
                whole.decoder.empty_parts_skipped()
            );
        }
        for split in 1..input.len() {
            let mut sizes = [split, usize::MAX].into_iter();
            let r = run_with(fresh(), &input, || sizes.next().unwrap_or(usize::MAX));
            r.result.unwrap();
            assert_eq!(bodies(&r.parts), expected, "split at {split}");
        }
    }
}

#[test]
fn lying_content_length_falls_back_to_search() {
    let r = run(dec("B"), LYING);
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), vec![&b"but longer"[..], b"short"]);
    let r = run(dec("B").strict(true), LYING);
    assert!(matches!(
        r.result,
        Err(DecodeError::ContentLengthMismatch {
            part: 1,
            content_length: 3,
            reason: "expected CRLF right after the body",
        })
    ));
    // Too long, but the next part arrives: the delimiter is found inside the claimed length.
    let input =
        b"--B\r\nContent-Length: 12\r\n\r\nabc\r\n--B\r\nContent-Length: 3\r\n\r\ndef\r\n--B--";
    let r = run_with(dec("B"), input, || 1);
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), vec![&b"abc"[..], b"def"]);
}
