//! The hub's responders: [`Subscribe`] and [`Snapshot`].

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response, StatusCode};

use super::FrameHub;
use crate::MjpegLayer;
use crate::respond::{HUB_STOPPED, plain, snapshot};
use crate::responder::{MISSING_LAYER, Source, slotted_response};

/// A responder streaming a [`FrameHub`] to one viewer; from [`FrameHub::subscribe`].
///
/// # Note
/// Without [`MjpegLayer`] the response is a `500` whose body says the layer is missing.
#[derive(Debug)]
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct Subscribe {
    hub: FrameHub,
}

impl Subscribe {
    pub(crate) fn new(hub: FrameHub) -> Self {
        Self { hub }
    }

    /// The response before [`MjpegLayer`] turns it into a stream.
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
/// It works without [`MjpegLayer`] too, but then it cannot wait for a first
/// frame: with none yet it answers `503` at once.
#[derive(Debug)]
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct Snapshot {
    hub: FrameHub,
    wait: Duration,
}

impl Snapshot {
    pub(crate) fn new(hub: FrameHub, wait: Duration) -> Self {
        Self { hub, wait }
    }

    /// The complete response as it stands without a layer; the layer replaces
    /// it with its own headers and, with no frame yet, waits for one.
    pub fn into_http_response(self) -> Response<Bytes> {
        // Built once: this runs for every snapshot request, layer or not.
        static DEFAULTS: OnceLock<MjpegLayer> = OnceLock::new();
        let defaults = DEFAULTS.get_or_init(MjpegLayer::new);
        let res = if self.hub.is_stopped() {
            plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED)
        } else {
            snapshot(
                &defaults.config,
                &Default::default(),
                self.hub.latest_shared(),
                &Method::GET,
            )
        };
        let (parts, body) = res.into_parts();
        let source = Source::Snapshot(self.hub, self.wait, parts.headers.clone());
        let mut slotted = slotted_response(source, parts.status, body);
        *slotted.headers_mut() = parts.headers;
        slotted
    }
}
