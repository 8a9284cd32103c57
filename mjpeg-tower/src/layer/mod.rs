//! Stage 4, the layer: tower middleware that turns a response carrying a
//! [`Source`](crate::respond::source::Source) into a live stream.
//!
//! Owns the [`Config`](config::Config) and its builder
//! [`MjpegLayer`](builder::MjpegLayer), the [`MjpegService`](service::MjpegService),
//! its [`ResponseFuture`](future::ResponseFuture), the [`dispatch`](dispatch)
//! of one request (snapshot, refusal or stream), and the bodies: the
//! [`MjpegBody`](body::MjpegBody) users see and the
//! [`StreamBody`](stream::StreamBody) that moves encoded frames from a
//! viewer's queue to the connection.
//!
//! Imports every earlier stage (`wire`, `fanout`, `respond`) and `lifecycle`.

pub(crate) mod body;
pub(crate) mod builder;
pub(crate) mod config;
pub(crate) mod dispatch;
pub(crate) mod future;
mod heartbeat;
pub(crate) mod service;
pub(crate) mod stream;

#[cfg(all(test, feature = "decoder"))]
mod tests;
