//! Incremental decoding of `multipart/x-mixed-replace` (MJPEG) response bodies.
//!
//! The [`Decoder`] is a push parser meant for untrusted input from real cameras and
//! streaming servers: it never panics, keeps its buffer bounded by [`Limits`], and
//! returns part bodies as zero-copy [`Bytes`](bytes::Bytes) slices.
//! [`PartStream`] wraps it around any stream of byte chunks.
//!
//! # Accepted framing
//!
//! * A preamble before the first delimiter is ignored (at most
//!   `max_header_bytes + boundary length` bytes).
//! * Delimiter line: `--boundary`, optional spaces/tabs, CRLF (tolerant mode also
//!   accepts a bare LF). If the `boundary` parameter itself starts with `--`, the
//!   line may also be just `boundary`, as some cameras send.
//! * Close delimiter: `--boundary--`; everything after it is ignored.
//! * Header lines `Name: value` up to an empty line.
//! * With a `Content-Length`, the body is exactly that many bytes. Strict mode then
//!   requires `\r\n--boundary`; tolerant mode skips CR/LF/whitespace before the
//!   delimiter and, if the delimiter still does not follow, searches for it instead.
//!   If the body is a whole JPEG (`FF D8` ... `FF D9`), the bytes up to the
//!   delimiter are junk (Go's `hybridgroup/mjpeg` sends stale buffer bytes
//!   there): the part keeps the body, and the junk is skipped and counted in
//!   [`Decoder::parts_with_junk`] and [`Decoder::junk_bytes_skipped`]. Any other
//!   body runs up to the delimiter, as the `Content-Length` is taken to be wrong.
//! * Without a `Content-Length`, the body runs up to the next `\r\n--boundary`
//!   (tolerant: also `\n--boundary`) that is followed by `--`, a space, a tab, CR or
//!   LF — so `\r\n--boundaryX` inside a payload is not a delimiter.
//! * Parts with an empty body are skipped and counted in
//!   [`Decoder::empty_parts_skipped`].
//! * At the end of input ([`Decoder::finish`]) a `Content-Length` part whose bytes
//!   all arrived is returned even without a following delimiter; anything else that
//!   ends inside a part is [`DecodeError::Truncated`].
//!
//! Decisions never depend on how the input was split into chunks: the same bytes
//! give the same parts and the same error however they are pushed.
//!
//! # Example
//!
//! ```
//! use mjpeg_tower::decode::Decoder;
//!
//! let mut decoder = Decoder::from_content_type("multipart/x-mixed-replace; boundary=frame")?;
//! decoder.push(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nabc\r\n--fr");
//! // The part is only returned once the delimiter after it is confirmed.
//! assert!(decoder.next_part()?.is_none());
//! decoder.push(b"ame--\r\n");
//! let part = decoder.next_part()?.expect("a complete part");
//! assert_eq!(part.content_type(), Some("image/jpeg"));
//! assert_eq!(&part.body[..], b"abc");
//! assert!(decoder.next_part()?.is_none());
//! assert!(decoder.is_closed());
//! # Ok::<(), mjpeg_tower::decode::DecodeError>(())
//! ```

mod content_type;
mod error;
mod parser;
mod part;
mod stream;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_junk;
#[cfg(test)]
mod tests_limits;

pub use error::DecodeError;
pub use parser::Decoder;
pub use part::{Limits, Part};
pub use stream::PartStream;
