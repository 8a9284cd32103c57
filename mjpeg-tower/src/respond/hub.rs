//! The hub's responders, [`Subscribe`] and [`Snapshot`], and the
//! [`FrameHub`] methods that make them.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response, StatusCode};

use crate::fanout::hub::FrameHub;
use crate::respond::headers::default_response_headers;
use crate::respond::reply::{self, HUB_STOPPED, SnapshotHeaders, plain};
use crate::respond::source::{MISSING_LAYER, SnapshotRequest, Source, slotted_response};
use crate::wire::encoder::default_part_content_type;

impl FrameHub {
    /// A responder that streams this hub to one viewer: the latest frame at
    /// once, then every new one.
    ///
    /// After [`stop`](Self::stop) it answers `503 Service Unavailable`.
    pub fn subscribe(&self) -> Subscribe {
        Subscribe { hub: self.clone() }
    }

    /// A responder with the latest frame as one complete response (its own
    /// content type, no-cache headers). With no frame yet, it waits up to the
    /// snapshot timeout for one, then answers `503 Service Unavailable`.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            hub: self.clone(),
            wait: self.snapshot_timeout(),
        }
    }
}

/// A responder streaming a [`FrameHub`] to one viewer; from [`FrameHub::subscribe`].
///
/// # Note
/// Without [`MjpegLayer`](crate::MjpegLayer) the response is a `500` whose body says the layer is missing.
#[derive(Debug)]
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct Subscribe {
    hub: FrameHub,
}

impl Subscribe {
    /// The response before [`MjpegLayer`](crate::MjpegLayer) turns it into a stream.
    pub fn into_http_response(self) -> Response<Bytes> {
        slotted_response(
            Source::Hub(self.hub),
            StatusCode::INTERNAL_SERVER_ERROR,
            Bytes::from_static(MISSING_LAYER.as_bytes()),
        )
    }
}

/// A responder with a [`FrameHub`]'s latest frame; from [`FrameHub::snapshot`].
///
/// # Note
/// It works without [`MjpegLayer`](crate::MjpegLayer) too, but then it cannot wait for a first
/// frame: with none yet it answers `503` at once.
#[derive(Debug)]
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct Snapshot {
    hub: FrameHub,
    wait: Duration,
}

impl Snapshot {
    /// The complete response as it stands without a layer; the layer replaces
    /// it with its own headers and, with no frame yet, waits for one.
    pub fn into_http_response(self) -> Response<Bytes> {
        let res = if self.hub.is_stopped() {
            plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED)
        } else {
            let headers = SnapshotHeaders {
                global: &default_response_headers(),
                default_content_type: &default_part_content_type(),
                handler: &Default::default(),
            };
            let latest = self.hub.latest_shared();
            reply::snapshot(&headers, latest.as_ref().map(|f| f.frame()), &Method::GET)
        };
        let (parts, body) = res.into_parts();
        let source = Source::Snapshot(SnapshotRequest {
            hub: self.hub,
            wait: self.wait,
            placeholder: parts.headers.clone(),
        });
        let mut slotted = slotted_response(source, parts.status, body);
        *slotted.headers_mut() = parts.headers;
        slotted
    }
}
