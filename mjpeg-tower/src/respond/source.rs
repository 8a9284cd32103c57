//! [`Source`]: what a responder asks the layer to serve, and the take-once
//! [`Slot`] that carries it through a framework in the response extensions.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::fanout::hub::FrameHub;
use crate::fanout::pump::FrameStream;

/// What a responder asks the layer to serve.
pub(crate) enum Source {
    /// A per-request stream of frames.
    Stream(FrameStream),
    /// A live view of a hub.
    Hub(FrameHub),
    /// One frame of a hub.
    Snapshot(SnapshotRequest),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stream(_) => f.write_str("Stream(..)"),
            Self::Hub(hub) => f.debug_tuple("Hub").field(hub).finish(),
            Self::Snapshot(request) => f.debug_tuple("Snapshot").field(request).finish(),
        }
    }
}

/// The response extension that carries a [`Source`] to the layer.
///
/// http 1 extensions must be `Clone + Send + Sync` while a stream is neither
/// `Clone` nor `Sync`: it travels in a take-once slot.
#[derive(Clone, Debug)]
pub(crate) struct Slot(Arc<Mutex<Option<Source>>>);

impl Slot {
    pub(crate) fn take(&self) -> Option<Source> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Message of the response a responder gives when no [`MjpegLayer`](crate::MjpegLayer) turns it into a stream.
pub(crate) const MISSING_LAYER: &str = "mjpeg-tower: this route returns an MJPEG stream, but MjpegLayer \
     is not applied to it; add `.layer(MjpegLayer::new())` to the router\n";

/// The response a responder gives before the layer sees it: the slot, and a
/// `500` that explains itself if no layer is there to take the slot.
pub(crate) fn slotted_response(
    source: Source,
    status: StatusCode,
    message: Bytes,
) -> Response<Bytes> {
    let mut res = Response::new(message);
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res.extensions_mut()
        .insert(Slot(Arc::new(Mutex::new(Some(source)))));
    res
}

/// A snapshot responder's request, as the layer receives it.
///
/// A snapshot answers even without a layer, so its response is complete
/// before the layer sees it: built from the default headers. The layer
/// rebuilds it from its own configuration instead, keeping only the headers a
/// handler added on top; `placeholder` is what to subtract to find those.
#[derive(Debug)]
pub(crate) struct SnapshotRequest {
    pub(crate) hub: FrameHub,
    /// How long to wait for a first frame.
    pub(crate) wait: Duration,
    /// The headers of the response built without a layer.
    pub(crate) placeholder: HeaderMap,
}
