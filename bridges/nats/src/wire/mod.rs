//! How a [`Frame`](mjpeg_tower::Frame) travels as NATS messages: pure,
//! synchronous, testable without a broker.
//!
//! A frame becomes one or more messages on its stream's subject. Every
//! message carries two headers of this bridge:
//!
//! | header | value | meaning |
//! |---|---|---|
//! | `Mjpeg-Frame` | `<origin id>.<sequence>` | which frame the message belongs to |
//! | `Mjpeg-Chunk` | `<index>/<count>` | which piece of the payload it carries |
//!
//! The first message also carries the frame's `Content-Type` (when it set
//! one), its own part headers, and `Mjpeg-Sent` (the origin's clock in
//! microseconds since the Unix epoch, for measuring). A payload larger than
//! what the broker accepts in one message (`max_payload`, 1 MB by default,
//! headers included) is split into as many messages as needed and joined
//! again by the edge.
//!
//! - `encode`: frame -> messages;
//! - `decode`: messages -> frame, one frame at a time.

pub(crate) mod decode;
pub(crate) mod encode;

/// Names the frame a message belongs to: `<origin id>.<sequence>`.
pub(crate) const FRAME_ID: &str = "Mjpeg-Frame";
/// Which piece of the frame's payload a message carries: `<index>/<count>`.
pub(crate) const CHUNK: &str = "Mjpeg-Chunk";
/// When the origin sent the frame, in microseconds since the Unix epoch.
pub(crate) const SENT: &str = "Mjpeg-Sent";

/// Whether a part header name is one of this bridge's own (never forwarded
/// as a part header).
pub(crate) fn is_reserved(name: &str) -> bool {
    [FRAME_ID, CHUNK, SENT]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests;
