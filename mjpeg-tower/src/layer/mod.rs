//! Stage 4, the layer: tower middleware that answers responders with its
//! own configuration, limits, callbacks and counters.
//!
//! Owns the builder [`MjpegLayer`](builder::MjpegLayer), the
//! [`MjpegService`](service::MjpegService), its
//! [`ResponseFuture`](future::ResponseFuture) (which takes a responder's
//! source from the response and dispatches it), and the
//! [`MjpegBody`](body::MjpegBody) users see.
//!
//! Imports every earlier stage (`wire`, `fanout`, `respond`) and `lifecycle`.

pub(crate) mod body;
pub(crate) mod builder;
pub(crate) mod future;
pub(crate) mod service;

#[cfg(all(test, feature = "decode"))]
mod tests;
