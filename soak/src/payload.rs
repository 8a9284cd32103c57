//! The frames' payload: a JPEG-looking body that names its hub generation
//! and sequence number, so a viewer can count what it missed.

use bytes::{BufMut, Bytes, BytesMut};

/// A frame of `len` bytes (at least the marker) for generation `generation`, number `seq`.
pub(crate) fn build(generation: u64, seq: u64, len: usize) -> Bytes {
    let head = format!("soak g={generation} s={seq};");
    let mut buf = BytesMut::with_capacity(len.max(head.len() + 4));
    buf.put_slice(&[0xFF, 0xD8]);
    buf.put_slice(head.as_bytes());
    while buf.len() + 2 < len {
        buf.put_u8(b'.');
    }
    buf.put_slice(&[0xFF, 0xD9]);
    buf.freeze()
}

/// The `(generation, seq)` a payload from [`build`] carries.
pub(crate) fn parse(body: &[u8]) -> Option<(u64, u64)> {
    let rest = body
        .strip_prefix(&[0xFF, 0xD8][..])?
        .strip_prefix(b"soak g=")?;
    let end = rest.iter().position(|&b| b == b';')?;
    let text = std::str::from_utf8(&rest[..end]).ok()?;
    let (generation, seq) = text.split_once(" s=")?;
    Some((generation.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_and_has_the_asked_length() {
        for len in [0, 10, 1000] {
            let body = super::build(3, 42, len);
            assert!(body.len() >= len.min(body.len()));
            assert!(body.ends_with(&[0xFF, 0xD9]));
            assert_eq!(super::parse(&body), Some((3, 42)));
        }
        assert_eq!(super::build(1, 2, 5000).len(), 5000);
        assert_eq!(super::parse(b"\xFF\xD8 other"), None);
    }
}
