//! Tests for limits, truncated input, malformed framing and poisoning.

use crate::decode::tests::{bodies, dec, run, run_with};
use crate::decode::{DecodeError, Limits};

/// Recognizes the expected error of a test case.
type ErrorCheck = fn(&DecodeError) -> bool;

fn small_limits() -> Limits {
    Limits {
        max_part_size: 100,
        max_header_bytes: 64,
        max_headers: 3,
    }
}

#[test]
fn limits_are_enforced() {
    let huge = run(
        dec("B"),
        b"--B\r\nContent-Length: 18446744073709551615\r\n\r\n",
    );
    assert!(matches!(
        huge.result,
        Err(DecodeError::PartTooLarge {
            part: 1,
            content_length: Some(_),
            ..
        })
    ));
    let big = run(
        dec("B").limits(small_limits()),
        b"--B\r\nContent-Length: 101\r\n\r\n",
    );
    assert!(matches!(
        big.result,
        Err(DecodeError::PartTooLarge {
            content_length: Some(101),
            limit: 100,
            ..
        })
    ));
    let at_limit = run(
        dec("B").limits(small_limits()),
        &[&b"--B\r\n\r\n"[..], &[b'a'; 100], b"\r\n--B--"].concat(),
    );
    assert_eq!(at_limit.parts[0].body.len(), 100);

    let cases: [(&str, Vec<u8>, ErrorCheck); 5] = [
        (
            "endless body",
            [&b"--B\r\n\r\n"[..], &[b'a'; 1000]].concat(),
            |e| {
                matches!(
                    e,
                    DecodeError::PartTooLarge {
                        part: 1,
                        content_length: None,
                        limit: 100
                    }
                )
            },
        ),
        (
            "too many headers",
            b"--B\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\nx".to_vec(),
            |e| matches!(e, DecodeError::TooManyHeaders { part: 1, limit: 3 }),
        ),
        (
            "long header line",
            [&b"--B\r\nX: "[..], &[b'v'; 1000]].concat(),
            |e| matches!(e, DecodeError::HeadersTooLarge { part: 1, limit: 64 }),
        ),
        ("endless preamble", [b'p'; 1000].to_vec(), |e| {
            matches!(e, DecodeError::PreambleTooLong { .. })
        }),
        ("endless preamble lines", b"line\r\n".repeat(100), |e| {
            matches!(e, DecodeError::PreambleTooLong { .. })
        }),
    ];
    for (name, input, check) in cases {
        for chunk in [1, 7, usize::MAX] {
            let r = run_with(dec("B").limits(small_limits()), &input, || chunk);
            let err = r.result.as_ref().unwrap_err();
            assert!(check(err), "{name}: {err:?}");
            assert!(
                r.decoder.buffered_len() == 0,
                "{name}: buffer released after error"
            );
        }
    }
    // Many short header lines hit the byte limit even below the count limit.
    let limits = Limits {
        max_headers: 1000,
        ..small_limits()
    };
    let r = run(
        dec("B").limits(limits),
        &[&b"--B\r\n"[..], &b"a: b\r\n".repeat(20)].concat(),
    );
    assert!(matches!(r.result, Err(DecodeError::HeadersTooLarge { .. })));
}

#[test]
fn body_limit_error_comes_early() {
    let mut d = dec("B").limits(small_limits());
    d.push(b"--B\r\n\r\n");
    let mut fed = 0;
    let err = loop {
        d.push(b"0123456789");
        fed += 10;
        if let Err(e) = d.next_part() {
            break e;
        }
        assert!(d.buffered_len() <= 100 + 8);
    };
    assert!(fed <= 110, "fed {fed}");
    assert!(matches!(err, DecodeError::PartTooLarge { .. }));
}

#[test]
fn truncated_input() {
    let cases: [&[u8]; 5] = [
        b"--B\r\nContent-Length: 10\r\n\r\nhello",
        b"--B\r\n\r\nhello",
        b"--B\r\nContent-Ty",
        b"--B\r\n\r\nhello\r\n--",
        b"--B\r\nContent-Length: 5\r\n\r\nhello\r\n--B\r\nContent-Length: 5\r\n\r\n",
    ];
    for input in cases {
        for strict in [false, true] {
            let r = run(dec("B").strict(strict), input);
            let err = r.result.unwrap_err();
            assert!(matches!(err, DecodeError::Truncated { .. }), "{err:?}");
            assert!(err.to_string().contains("input ended"));
        }
    }
    let r = run(dec("B"), b"<html>not a multipart body</html>");
    assert!(matches!(r.result, Err(DecodeError::NoDelimiter { .. })));
    for ok in [
        &b""[..],
        b"\r\n",
        b"--B\r\n",
        b"--B",
        b"--B\r\n\r\nlast\r\n--B",
        b"--B--",
        b"--B\r\n\r\nx\r\n--B--\r\n--B\r\n\r\nmore",
    ] {
        let r = run(dec("B"), ok);
        r.result
            .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(ok)));
    }
}

#[test]
fn complete_content_length_part_at_eof_is_returned() {
    for tail in [&b""[..], b"\r\n", b"\r\n--", b"\r\n--B"] {
        for strict in [false, true] {
            let input = [&b"--B\r\nContent-Length: 5\r\n\r\nhello"[..], tail].concat();
            let r = run(dec("B").strict(strict), &input);
            r.result.unwrap();
            assert_eq!(bodies(&r.parts), vec![&b"hello"[..]], "{tail:?} {strict}");
        }
    }
}

#[test]
fn boundary_lookalikes_in_payload() {
    let payload = b"x--B\r\n--Bx\r\n--B-x\n--Bad\r\n --B\r\n--B\x00";
    let with_cl = [
        format!("--B\r\nContent-Length: {}\r\n\r\n", payload.len()).as_bytes(),
        payload,
        b"\r\n--B--",
    ]
    .concat();
    let without = [&b"--B\r\n\r\n"[..], payload, b"\r\n--B--"].concat();
    for input in [with_cl, without] {
        for strict in [false, true] {
            let r = run_with(dec("B").strict(strict), &input, || 3);
            r.result.unwrap();
            assert_eq!(bodies(&r.parts), vec![&payload[..]]);
        }
    }
}

#[test]
fn tolerant_and_strict_line_endings() {
    let lf = b"--B\nContent-Type: image/jpeg\n\nframe\n--B\n\nsecond\n--B--\n";
    let r = run(dec("B"), lf);
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), vec![&b"frame"[..], b"second"]);
    let r = run(dec("B").strict(true), lf);
    assert!(matches!(
        r.result,
        Err(DecodeError::MalformedDelimiter { part: 1, .. })
    ));
    let r = run(dec("B").strict(true), b"--B\r\nA: b\n\r\nx\r\n--B--");
    assert!(matches!(
        r.result,
        Err(DecodeError::InvalidHeader { part: 1, .. })
    ));
    // Strict mode ignores `\n--B` without CR inside a body.
    let r = run(dec("B").strict(true), b"--B\r\n\r\na\n--B\r\nb\r\n--B--");
    assert_eq!(bodies(&r.parts), vec![&b"a\n--B\r\nb"[..]]);
}

#[test]
fn malformed_headers_and_delimiters() {
    let bad_header =
        b"--B\r\nno colon here\r\n bad: fold\r\nGood: yes\r\nBad\x01: x\r\n\r\nbody\r\n--B--";
    let r = run(dec("B"), bad_header);
    r.result.unwrap();
    assert_eq!(r.parts[0].headers.len(), 1);
    assert_eq!(r.parts[0].headers["good"], "yes");
    let r = run(dec("B").strict(true), bad_header);
    assert!(matches!(
        r.result,
        Err(DecodeError::InvalidHeader { part: 1, .. })
    ));

    let r = run(
        dec("B"),
        b"--B \t \r\n\r\nok\r\n--B  trailing junk\r\n\r\nx\r\n--B--",
    );
    let err = r.result.unwrap_err();
    assert!(
        matches!(err, DecodeError::MalformedDelimiter { part: 2, .. }),
        "{err:?}"
    );
    assert_eq!(bodies(&r.parts), vec![&b"ok"[..]]);

    let cl = b"--B\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\r\n--B--";
    let r = run(dec("B"), cl);
    assert_eq!(bodies(&r.parts), vec![&b"ab"[..]]);
    let r = run(dec("B").strict(true), cl);
    assert!(matches!(
        r.result,
        Err(DecodeError::InvalidContentLength { part: 1 })
    ));
}

#[test]
fn poisoned_after_error_and_closed_ignores_input() {
    let mut d = dec("B").limits(small_limits());
    d.push(&[b'z'; 500]);
    assert!(matches!(
        d.next_part(),
        Err(DecodeError::PreambleTooLong { .. })
    ));
    d.push(b"--B\r\n\r\nx\r\n--B--");
    assert!(matches!(d.next_part(), Err(DecodeError::Poisoned)));
    assert!(matches!(d.finish(), Err(DecodeError::Poisoned)));
    assert_eq!(d.buffered_len(), 0);

    let mut d = dec("B");
    d.push(b"--B\r\n\r\nx\r\n--B--\r\n");
    assert_eq!(&d.next_part().unwrap().unwrap().body[..], b"x");
    assert!(d.next_part().unwrap().is_none());
    assert!(d.is_closed());
    d.push(&[0; 10_000]);
    assert_eq!(d.buffered_len(), 0);
    assert!(d.finish().unwrap().is_none());
    let debug = format!("{d:?}");
    assert!(debug.contains("closed") && debug.len() < 300, "{debug}");
}

#[test]
fn byte_at_a_time_is_linear() {
    // A rescan from the start on every push would take ~10^10 steps here.
    let body = vec![b'j'; 200_000];
    for with_length in [false, true] {
        let mut d = dec("B");
        let head = if with_length {
            "Content-Length: 200000\r\n"
        } else {
            ""
        };
        d.push(format!("--B\r\n{head}\r\n").as_bytes());
        for b in body.chunks(1) {
            d.push(b);
            assert!(d.next_part().unwrap().is_none());
        }
        d.push(b"\r\n--B--");
        assert_eq!(d.next_part().unwrap().unwrap().body.len(), body.len());
        assert!(d.next_part().unwrap().is_none() && d.is_closed());
    }
}

#[test]
fn extreme_limits_do_not_overflow() {
    let input =
        b"preamble\r\n--B\r\nContent-Length: 3\r\n\r\nabc\r\n--B\r\nA: b\r\n\r\nxyz\r\n--B--";
    let max = Limits {
        max_part_size: usize::MAX,
        max_header_bytes: usize::MAX,
        max_headers: usize::MAX,
    };
    let r = run(dec("B").limits(max), input);
    r.result.unwrap();
    assert_eq!(bodies(&r.parts), vec![&b"abc"[..], b"xyz"]);

    let zero = Limits {
        max_part_size: 0,
        max_header_bytes: 0,
        max_headers: 0,
    };
    // Even the empty line that ends a header block counts against max_header_bytes.
    let r = run(dec("B").limits(zero), b"--B\r\n\r\n--B--");
    assert!(matches!(
        r.result,
        Err(DecodeError::HeadersTooLarge { limit: 0, .. })
    ));
    let tiny = Limits {
        max_header_bytes: 2,
        ..zero
    };
    let r = run(dec("B").limits(tiny), b"--B\r\n\r\n--B--");
    r.result.unwrap();
    assert_eq!(r.decoder.empty_parts_skipped(), 1);
    let r = run(dec("B").limits(tiny), b"--B\r\n\r\nx\r\n--B--");
    assert!(matches!(
        r.result,
        Err(DecodeError::PartTooLarge { limit: 0, .. })
    ));
    let r = run(dec("B").limits(zero), input);
    assert!(matches!(
        r.result,
        Err(DecodeError::PreambleTooLong { limit: 3, .. })
    ));
    let r = run(dec("B").limits(zero), b"--B\r\nA: b\r\n\r\nx");
    assert!(matches!(r.result, Err(DecodeError::HeadersTooLarge { .. })));
}
