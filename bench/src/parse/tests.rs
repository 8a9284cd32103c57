use super::*;

const B: &str = "frame";

fn standard_part(payload: &[u8], seq: u64, ts: u64) -> Vec<u8> {
    let mut v = format!(
        "Content-Type: image/jpeg\r\nContent-Length: {}\r\nx-seq: {seq}\r\nX-Ts: {ts}\r\n\r\n",
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v.extend_from_slice(format!("\r\n--{B}\r\n").as_bytes());
    v
}

fn body(parts: &[Vec<u8>], close: bool) -> Vec<u8> {
    let mut v = format!("--{B}\r\n").into_bytes();
    for p in parts {
        v.extend_from_slice(p);
    }
    if close {
        // Close delimiter after an empty part, as the library ends streams.
        v.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
    }
    v
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut v = format!("{:X}\r\n", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\r\n");
    v
}

fn head(chunked: bool) -> Vec<u8> {
    let te = if chunked {
        "transfer-encoding: chunked\r\n"
    } else {
        ""
    };
    format!("HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary={B}\r\n{te}\r\n")
        .into_bytes()
}

/// Feeds `wire` split into pieces of `step` bytes.
fn run(wire: &[u8], step: usize) -> (Vec<Part>, StreamParser) {
    let mut parser = StreamParser::new();
    let mut parts = Vec::new();
    for piece in wire.chunks(step) {
        parser
            .feed(piece, &mut |p| parts.push(p))
            .unwrap_or_else(|e| panic!("step {step}: {e}"));
    }
    (parts, parser)
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

#[test]
fn identity_body_parts_split_across_reads() {
    let parts = [
        standard_part(&payload(1000, 1), 7, 111),
        standard_part(&payload(5, 2), 8, 222),
        standard_part(&payload(3000, 3), 9, 333),
    ];
    let mut wire = head(false);
    wire.extend(body(&parts, true));
    for step in [1, 2, 3, 7, 64, 999, 1001, wire.len()] {
        let (got, parser) = run(&wire, step);
        let want = [(1000, 7, 111), (5, 8, 222), (3000, 9, 333)]
            .map(|(len, s, t)| Part {
                len,
                seq: Some(s),
                ts: Some(t),
            })
            .to_vec();
        assert_eq!(got, want, "step {step}");
        assert!(parser.is_closed());
    }
}

#[test]
fn chunked_body_as_hyper_writes_it() {
    // hyper sends each body frame as its own chunk: head, payload, tail.
    let mut wire = head(true);
    wire.extend(chunk(format!("--{B}\r\n").as_bytes()));
    for (seq, len) in [(1u64, 2000usize), (2, 10), (3, 70_000)] {
        let p = payload(len, seq as u8);
        let hdr = format!(
            "Content-Type: image/jpeg\r\nContent-Length: {len}\r\nx-seq: {seq}\r\nx-ts: {}\r\n\r\n",
            seq * 1000
        );
        wire.extend(chunk(hdr.as_bytes()));
        wire.extend(chunk(&p));
        wire.extend(chunk(format!("\r\n--{B}\r\n").as_bytes()));
    }
    wire.extend(chunk(format!("\r\n--{B}--\r\n").as_bytes()));
    wire.extend_from_slice(b"0\r\n\r\n");
    for step in [1, 5, 17, 4096, wire.len()] {
        let (got, parser) = run(&wire, step);
        assert_eq!(got.len(), 3, "step {step}");
        assert_eq!(
            got.iter().map(|p| p.len).collect::<Vec<_>>(),
            [2000, 10, 70_000]
        );
        assert_eq!(
            got.iter().map(|p| (p.seq, p.ts)).collect::<Vec<_>>(),
            [
                (Some(1), Some(1000)),
                (Some(2), Some(2000)),
                (Some(3), Some(3000))
            ]
        );
        assert!(parser.is_closed());
    }
}

#[test]
fn parts_without_content_length_are_found_by_delimiter() {
    // AdvanceHeaders-style: headers sent ahead, no Content-Length,
    // and payloads that contain near-miss delimiters.
    let mut wire = head(false);
    wire.extend_from_slice(format!("--{B}\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
    let p1 = b"abc\r\n--framX\r\n--fram".to_vec();
    let p2 = payload(5000, 9);
    for p in [&p1, &p2] {
        wire.extend_from_slice(p);
        wire.extend_from_slice(
            format!("\r\n--{B}\r\nContent-Type: image/jpeg\r\nx-ts: 5\r\n\r\n").as_bytes(),
        );
    }
    wire.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
    for step in [1, 2, 3, 6, 7, 8, 100, wire.len()] {
        let (got, parser) = run(&wire, step);
        assert_eq!(
            got.iter().map(|p| p.len).collect::<Vec<_>>(),
            [p1.len(), p2.len()],
            "step {step}"
        );
        assert_eq!(got[0].ts, None);
        assert_eq!(got[1].ts, Some(5));
        assert!(parser.is_closed(), "step {step}");
    }
}

#[test]
fn every_two_way_split_gives_the_same_parts() {
    let mut chunked = head(true);
    chunked.extend(chunk(format!("--{B}\r\n").as_bytes()));
    let mut identity = head(false);
    identity.extend(body(
        &[
            standard_part(b"0123456789", 1, 10),
            standard_part(b"xy", 2, 20),
        ],
        true,
    ));
    for p in [
        standard_part(b"0123456789", 1, 10),
        standard_part(b"xy", 2, 20),
    ] {
        chunked.extend(chunk(&p));
    }
    chunked.extend(chunk(format!("\r\n--{B}--\r\n").as_bytes()));
    chunked.extend_from_slice(b"0\r\n\r\n");
    for wire in [identity, chunked] {
        let (want, _) = run(&wire, wire.len());
        assert_eq!(want.len(), 2);
        for cut in 0..=wire.len() {
            let mut parser = StreamParser::new();
            let mut got = Vec::new();
            parser.feed(&wire[..cut], &mut |p| got.push(p)).unwrap();
            parser.feed(&wire[cut..], &mut |p| got.push(p)).unwrap();
            assert_eq!(got, want, "cut at {cut}");
            assert!(parser.is_closed());
        }
    }
}

#[test]
fn bad_status_and_garbage_are_errors() {
    let mut p = StreamParser::new();
    let e = p
        .feed(b"HTTP/1.1 503 Service Unavailable\r\n\r\n", &mut |_| {})
        .unwrap_err();
    assert!(e.0.contains("503"), "{e}");

    let mut p = StreamParser::new();
    let mut wire = head(false);
    wire.extend_from_slice(b"not a delimiter at all\r\n\r\n");
    assert!(p.feed(&wire, &mut |_| {}).is_err());

    let mut p = StreamParser::new();
    let mut wire = head(true);
    wire.extend_from_slice(b"zz\r\n");
    assert!(p.feed(&wire, &mut |_| {}).is_err());
}

#[test]
fn quoted_and_dashed_boundaries() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=\"--frame\"\r\n\r\n--frame\r\nContent-Length: 2\r\n\r\nhi\r\n--frame\r\n";
    let (got, _) = run(wire, 3);
    assert_eq!(
        got,
        [Part {
            len: 2,
            seq: None,
            ts: None
        }]
    );
}

/// `Framing::AdvanceHeaders` as the layer writes it: the opening delimiter and
/// header block, then per frame `<payload>\r\n--B\r\n<block>`, no part
/// `Content-Length`; at the end the last frame again and the close delimiter.
fn advance_wire(chunked: bool, payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let block = "Content-Type: image/jpeg\r\n\r\n";
    let mut pieces = vec![format!("--{B}\r\n{block}").into_bytes()];
    for p in payloads {
        pieces.push(p.clone());
        pieces.push(format!("\r\n--{B}\r\n{block}").into_bytes());
    }
    let last = payloads.last().cloned().unwrap_or_default();
    pieces.push(last);
    pieces.push(format!("\r\n--{B}--\r\n").into_bytes());
    let mut wire = head(chunked);
    // Where each frame's delimiter is complete: its part is done there.
    let mut frame_ends = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        if chunked {
            wire.extend(chunk(piece));
        } else {
            wire.extend_from_slice(piece);
        }
        if i % 2 == 0 && i > 0 {
            // piece i is the tail after frame i/2 - 1; `\r\n--B` is its start.
            let tail_start = wire.len() - piece.len() - if chunked { 2 } else { 0 };
            frame_ends.push(tail_start + 2 + 2 + B.len());
        }
    }
    if chunked {
        wire.extend_from_slice(b"0\r\n\r\n");
    }
    (wire, frame_ends)
}

#[test]
fn advance_headers_frames_are_counted_with_their_stamps() {
    let payloads: Vec<Vec<u8>> = (0..4u64)
        .map(|seq| {
            crate::stamp::stamped(&payload(3000 + seq as usize * 7, 5), 100 + seq, 9_000 + seq)
                .to_vec()
        })
        .collect();
    for chunked in [false, true] {
        let (wire, frame_ends) = advance_wire(chunked, &payloads);
        // Each frame, then the last frame repeated before the close.
        let mut want: Vec<Part> = (0..4u64)
            .map(|s| Part {
                len: payloads[s as usize].len(),
                seq: Some(100 + s),
                ts: Some(9_000 + s),
            })
            .collect();
        want.push(want[3]);
        for step in [1, 2, 5, 13, 1000, wire.len()] {
            let (got, parser) = run(&wire, step);
            assert_eq!(got, want, "chunked {chunked}, step {step}");
            assert!(parser.is_closed());
        }
        // A frame is reported as soon as its delimiter is in, while the next
        // payload has not started: the header block sent ahead must not hold
        // it back.
        for (i, &end) in frame_ends.iter().take(4).enumerate() {
            let mut parser = StreamParser::new();
            let mut got = Vec::new();
            parser.feed(&wire[..end], &mut |p| got.push(p)).unwrap();
            assert_eq!(got.len(), i + 1, "chunked {chunked}, frame {i}");
            parser
                .feed(&wire[end..end + 40], &mut |p| got.push(p))
                .unwrap();
            assert_eq!(got.len(), i + 1, "chunked {chunked}, frame {i}");
        }
    }
}

#[test]
fn a_payload_shorter_than_a_stamp_is_not_read_as_stamped() {
    let stamped = crate::stamp::stamped(&payload(64, 1), 3, 4).to_vec();
    let (wire, _) = advance_wire(false, &[stamped[..10].to_vec(), stamped.clone()]);
    let (got, _) = run(&wire, 3);
    assert_eq!(
        got[0],
        Part {
            len: 10,
            seq: None,
            ts: None
        }
    );
    assert_eq!(got[1].seq, Some(3));
}
