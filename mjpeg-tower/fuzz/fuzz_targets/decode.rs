//! Feeds arbitrary bytes, in arbitrary chunks, to the decoder with small
//! limits: it must never panic, and what it returns must respect the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mjpeg_tower::decode::{Decoder, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else { return };
    let limits = Limits { max_part_size: 4096, max_header_bytes: 512, max_headers: 8 };
    let strict = control & 1 == 1;
    let boundary = if control & 2 == 2 { "--B" } else { "B" };
    let Ok(decoder) = Decoder::new(boundary) else { return };
    let mut decoder = decoder.limits(limits).strict(strict);
    let chunk = usize::from(control >> 2) + 1;
    for piece in rest.chunks(chunk) {
        decoder.push(piece);
        loop {
            match decoder.next_part() {
                Ok(Some(part)) => {
                    assert!(!part.body.is_empty());
                    assert!(part.body.len() <= limits.max_part_size);
                    assert!(part.headers.len() <= limits.max_headers);
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
    while let Ok(Some(part)) = decoder.finish() {
        assert!(part.body.len() <= limits.max_part_size);
    }
});
