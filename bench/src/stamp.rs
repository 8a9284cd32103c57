//! The frame stamp: publish sequence number and time carried inside the
//! payload, so frames need no per-part headers.
//!
//! `Framing::AdvanceHeaders` (the default) sends the next part's headers ahead,
//! before the frame is known; a frame with its own part headers (an `X-Seq`,
//! say) would go out as a `Standard` part, so a benchmark that stamped frames
//! with headers would never measure the framing users get. The stamp is a
//! JPEG comment segment right after SOI instead: `FF D8 FF FE 00 12`, then the
//! sequence number and the publish time (unix nanoseconds), 8 bytes each,
//! big-endian. The payload stays JPEG-shaped and the parser reads the first
//! [`STAMP_LEN`] bytes of every part.

use bytes::Bytes;

/// Bytes at the start of a payload that carry the stamp.
pub(crate) const STAMP_LEN: usize = 22;

/// SOI, then a COM segment of length 18 (its two length bytes + 16).
const MAGIC: [u8; 6] = [0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x12];

/// A copy of `base` with `seq` and `ts` written over its first [`STAMP_LEN`]
/// bytes; `base` shorter than that is returned as it is (unstamped).
pub(crate) fn stamped(base: &[u8], seq: u64, ts: u64) -> Bytes {
    let mut v = base.to_vec();
    if v.len() >= STAMP_LEN {
        v[..6].copy_from_slice(&MAGIC);
        v[6..14].copy_from_slice(&seq.to_be_bytes());
        v[14..22].copy_from_slice(&ts.to_be_bytes());
    }
    Bytes::from(v)
}

/// The `(seq, ts)` of a payload that starts with `prefix`, if it is stamped.
pub(crate) fn read(prefix: &[u8]) -> Option<(u64, u64)> {
    let p = prefix.get(..STAMP_LEN)?;
    if p[..6] != MAGIC {
        return None;
    }
    let seq = u64::from_be_bytes(p[6..14].try_into().ok()?);
    let ts = u64::from_be_bytes(p[14..22].try_into().ok()?);
    Some((seq, ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unstamped() {
        let base = vec![7u8; 100];
        let s = stamped(&base, 42, 1_700_000_000_123_456_789);
        assert_eq!(s.len(), 100);
        assert_eq!(read(&s), Some((42, 1_700_000_000_123_456_789)));
        assert_eq!(&s[STAMP_LEN..], &base[STAMP_LEN..]);
        assert_eq!(read(&base), None);
        assert_eq!(read(&s[..STAMP_LEN - 1]), None);
        assert_eq!(&stamped(&[1, 2, 3], 1, 2)[..], &[1, 2, 3]);
    }
}
