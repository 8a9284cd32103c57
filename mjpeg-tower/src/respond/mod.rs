//! Stage 3, respond: what handlers return, and the answers it becomes.
//!
//! Owns the responders ([`Mjpeg`](mjpeg::Mjpeg), and the hub's
//! [`Subscribe`](hub::Subscribe) and [`Snapshot`](hub::Snapshot) with the
//! `FrameHub` methods that make them), the [`Source`](source::Source) a
//! responder carries in a take-once response extension, the
//! [`Config`](config::Config) an answer is made with, the
//! [`dispatch`](dispatch::dispatch) of one request (snapshot, refusal or a
//! new viewer's stream), the bodies ([`ResponderBody`](body::ResponderBody)
//! and the live [`StreamBody`](stream::StreamBody)), default headers,
//! complete replies, and the framework integrations behind the `axum` and
//! `warp` features.
//!
//! A responder answers by itself, with the default configuration; the
//! `layer` stage takes its source first and answers with its own.
//!
//! Imports `wire`, `fanout` and `lifecycle`.

pub(crate) mod body;
pub(crate) mod config;
pub(crate) mod dispatch;
pub(crate) mod headers;
mod heartbeat;
pub(crate) mod hub;
pub(crate) mod integrations;
pub(crate) mod mjpeg;
pub(crate) mod reply;
pub(crate) mod source;
pub(crate) mod stream;
