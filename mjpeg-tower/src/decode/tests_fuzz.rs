//! Cheap deterministic fuzzing: random and mutated inputs must never panic and
//! must keep the buffer bounded.

use crate::decode::tests::{
    FRAMES, SEARCH_FRAMES, XorShift, advance_headers, mjpg_streamer, run_with, ustreamer,
};
use crate::decode::{DecodeError, Decoder, Limits};

const LIMITS: Limits = Limits {
    max_part_size: 300,
    max_header_bytes: 100,
    max_headers: 4,
};

const SNIPPETS: [&[u8]; 10] = [
    b"--B",
    b"\r\n--B\r\n",
    b"--B--",
    b"\r\n",
    b"\n",
    b"Content-Length: ",
    b"Content-Type: image/jpeg\r\n",
    b"\r\n\r\n",
    b"--",
    b"99999999999999999999",
];

/// Largest buffer allowed between calls: the bound `Limits` documents.
fn bound(decoder: &Decoder) -> usize {
    LIMITS.max_part_size.max(LIMITS.max_header_bytes) + 2 * decoder.boundary().len() + 300
}

/// Outcome counts, to make sure the fuzzing reaches both parts and errors.
#[derive(Debug, Default)]
struct Stats {
    parts: u64,
    errors: u64,
    clean_runs: u64,
}

/// Takes parts until more input is needed; returns whether an error occurred.
fn drain(decoder: &mut Decoder, at_end: bool, stats: &mut Stats) -> bool {
    loop {
        let result = if at_end {
            decoder.finish()
        } else {
            decoder.next_part()
        };
        match result {
            Ok(Some(part)) => {
                assert!(!part.body.is_empty());
                assert!(part.body.len() <= LIMITS.max_part_size);
                assert!(part.headers.len() <= LIMITS.max_headers);
                stats.parts += 1;
            }
            Ok(None) => return false,
            Err(DecodeError::Poisoned) => panic!("poisoned without an earlier error"),
            Err(_) => {
                assert_eq!(decoder.buffered_len(), 0);
                assert!(matches!(decoder.next_part(), Err(DecodeError::Poisoned)));
                assert!(matches!(decoder.finish(), Err(DecodeError::Poisoned)));
                stats.errors += 1;
                return true;
            }
        }
    }
}

/// Feeds `input` in random chunks and checks the decoder's invariants throughout.
fn check(mut decoder: Decoder, input: &[u8], rng: &mut XorShift, stats: &mut Stats) {
    let max_chunk = 1 + rng.below(64);
    let mut rest = input;
    let mut failed = false;
    while !rest.is_empty() && !failed {
        let n = (1 + rng.below(max_chunk)).min(rest.len());
        decoder.push(&rest[..n]);
        rest = &rest[n..];
        failed = drain(&mut decoder, false, stats);
        assert!(
            decoder.buffered_len() <= bound(&decoder),
            "{} > {}",
            decoder.buffered_len(),
            bound(&decoder)
        );
    }
    if !failed && !drain(&mut decoder, true, stats) {
        stats.clean_runs += 1;
    }
    let _ = format!("{decoder:?}");
}

fn decoder(rng: &mut XorShift, usual: &str) -> Decoder {
    let boundary = match rng.below(10) {
        0 => "--B",
        1 => "other",
        _ => usual,
    };
    Decoder::new(boundary)
        .unwrap()
        .limits(LIMITS)
        .strict(rng.below(2) == 0)
}

fn random_input(rng: &mut XorShift) -> Vec<u8> {
    let len = rng.below(600);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        match rng.below(10) {
            0..=3 => out.push(rng.next() as u8),
            4..=7 => out.push(b"-\r\n \t:B0123456789x"[rng.below(18)]),
            _ => out.extend_from_slice(SNIPPETS[rng.below(SNIPPETS.len())]),
        }
    }
    out
}

fn mutate(mut input: Vec<u8>, rng: &mut XorShift) -> Vec<u8> {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(6) {
            0 if at < len => input[at] = rng.next() as u8,
            1 => input.insert(at, b"-\r\n: 0B"[rng.below(7)]),
            2 => {
                let end = (at + rng.below(20)).min(len);
                input.drain(at..end);
            }
            3 => {
                let snippet = SNIPPETS[rng.below(SNIPPETS.len())];
                input.splice(at..at, snippet.iter().copied());
            }
            4 => {
                let end = (at + rng.below(40)).min(len);
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy);
            }
            _ => input.truncate(at),
        }
    }
    input
}

#[test]
fn random_inputs_never_panic_and_stay_bounded() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut stats = Stats::default();
    for _ in 0..10_000 {
        let input = random_input(&mut rng);
        let d = decoder(&mut rng, "B");
        check(d, &input, &mut rng, &mut stats);
    }
    eprintln!("random: {stats:?}");
    assert!(stats.errors > 1000 && stats.clean_runs > 100, "{stats:?}");
}

#[test]
fn mutated_streams_never_panic_and_stay_bounded() {
    let mut rng = XorShift(0x1234_5678_9ABC_DEF1);
    let streams = [
        ("B", ustreamer(&FRAMES, false)),
        ("B", ustreamer(&FRAMES, true)),
        ("B", advance_headers(&SEARCH_FRAMES)),
        ("boundarydonotcross", mjpg_streamer(&FRAMES)),
    ];
    let mut stats = Stats::default();
    for i in 0..10_000 {
        let (boundary, stream) = &streams[i % streams.len()];
        let input = mutate(stream.clone(), &mut rng);
        let d = decoder(&mut rng, boundary);
        check(d, &input, &mut rng, &mut stats);
    }
    eprintln!("mutated: {stats:?}");
    assert!(
        stats.parts > 5000 && stats.errors > 1000 && stats.clean_runs > 1000,
        "{stats:?}"
    );
}

#[test]
fn random_binary_frames_round_trip() {
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..500 {
        let frames: Vec<Vec<u8>> = (0..1 + rng.below(5))
            .map(|_| (0..1 + rng.below(200)).map(|_| rng.next() as u8).collect())
            .collect();
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let input = ustreamer(&refs, rng.below(2) == 0);
        let strict = rng.below(2) == 0;
        let max = 1 + rng.below(100);
        let r = run_with(Decoder::new("B").unwrap().strict(strict), &input, || {
            1 + rng.below(max)
        });
        r.result.unwrap();
        let got: Vec<&[u8]> = r.parts.iter().map(|p| &p.body[..]).collect();
        assert_eq!(got, refs);
        assert!(r.decoder.is_closed());
    }
}

#[test]
fn outcome_does_not_depend_on_chunking() {
    let mut rng = XorShift(0x0BAD_5EED_1234_4321);
    let streams = [
        ("B", ustreamer(&FRAMES, true)),
        ("B", advance_headers(&SEARCH_FRAMES)),
        ("boundarydonotcross", mjpg_streamer(&FRAMES)),
    ];
    let summary = |r: crate::decode::tests::Run| {
        let bodies: Vec<_> = r.parts.iter().map(|p| p.body.clone()).collect();
        let error = r.result.err().map(|e| e.to_string());
        let counters = (r.decoder.empty_parts_skipped(), r.decoder.is_closed());
        (bodies, error, counters)
    };
    for i in 0..3_000 {
        let (boundary, stream) = &streams[i % streams.len()];
        let input = if i % 4 == 0 {
            random_input(&mut rng)
        } else {
            mutate(stream.clone(), &mut rng)
        };
        let strict = rng.below(2) == 0;
        let fresh = || {
            Decoder::new(boundary)
                .unwrap()
                .limits(LIMITS)
                .strict(strict)
        };
        let whole = summary(run_with(fresh(), &input, || usize::MAX));
        let bytes = summary(run_with(fresh(), &input, || 1));
        assert_eq!(whole, bytes, "input {:?}", String::from_utf8_lossy(&input));
        let max = 1 + rng.below(30);
        let random = summary(run_with(fresh(), &input, || 1 + rng.below(max)));
        assert_eq!(whole, random, "input {:?}", String::from_utf8_lossy(&input));
    }
}
