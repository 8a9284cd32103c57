//! Stage 1, the wire: what a frame looks like as bytes of a
//! `multipart/x-mixed-replace` body.
//!
//! Owns the [`Frame`] type, the validated [`Boundary`], the [`Framing`]
//! choice and the [`PartEncoder`](encoder::PartEncoder) that turns a frame
//! into the chunks of one part.
//!
//! Pure and synchronous: no statics, no tokio, no HTTP types beyond header
//! maps. It imports nothing from the rest of the crate; every later stage
//! imports from here. Byte-for-byte tests live in `tests.rs`.

pub(crate) mod boundary;
pub(crate) mod cursor;
pub(crate) mod encoder;
pub(crate) mod frame;
pub(crate) mod framing;
pub(crate) mod hop;

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "decode"))]
mod roundtrip;
