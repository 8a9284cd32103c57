//! Stage 3, respond: what handlers return, and how it reaches the layer.
//!
//! Owns the responders ([`Mjpeg`](mjpeg::Mjpeg), and the hub's
//! [`Subscribe`](hub::Subscribe) and [`Snapshot`](hub::Snapshot) with the
//! `FrameHub` methods that make them), the [`Source`](source::Source) a
//! responder hands the layer in a take-once response extension, the default
//! response headers, complete replies (snapshots, refusals), and the
//! framework integrations behind the `axum` and `warp` features.
//!
//! Imports `wire`, `fanout` and `lifecycle`.

pub(crate) mod headers;
pub(crate) mod hub;
mod integrations;
pub(crate) mod mjpeg;
pub(crate) mod reply;
pub(crate) mod source;
