//! The hub's responders, [`Subscribe`] and [`Snapshot`], and the
//! [`FrameHub`] methods that make them.

use std::time::Duration;

use http::{Method, Response, StatusCode};

use crate::fanout::hub::FrameHub;
use crate::respond::body::ResponderBody;
use crate::respond::headers::default_response_headers;
use crate::respond::mjpeg::streaming_response;
use crate::respond::reply::{self, HUB_STOPPED, SnapshotHeaders, plain};
use crate::respond::source::{Source, slotted};
use crate::wire::encoder::default_part_content_type;

impl FrameHub {
    /// A responder that streams this hub to one viewer: the latest frame at
    /// once, then every new one.
    ///
    /// After [`stop`](Self::stop) it answers `503 Service Unavailable`.
    ///
    /// [`Subscribe::max_fps`] gives this viewer a lower frame rate.
    pub fn subscribe(&self) -> Subscribe {
        Subscribe {
            hub: self.clone(),
            min_interval: None,
        }
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
/// Behind [`MjpegLayer`](crate::MjpegLayer) it streams with the layer's
/// configuration; without it, with the defaults (see the crate docs for what
/// only the layer adds).
#[derive(Debug)]
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct Subscribe {
    hub: FrameHub,
    min_interval: Option<Duration>,
}

impl Subscribe {
    /// Caps this viewer at `fps` frames per second (default `None`: only the
    /// layer's [`max_fps`](crate::MjpegLayer::max_fps) applies; `Some(0)` is
    /// no cap too). With both, the lower rate applies.
    ///
    /// The hub still encodes each frame once; this viewer skips frames to keep
    /// its rate, on a steady grid (2 fps from a 30 fps source is 2 fps, not
    /// 1.875). Skipped frames are not queued: the newest one is held back and
    /// sent when the viewer's next frame is due, unless a newer frame comes
    /// first, so the viewer never misses the last frame of a burst.
    ///
    /// A handler can map a query parameter to it, e.g. `?fps=5`:
    ///
    /// ```
    /// use mjpeg_tower::{FrameHub, Subscribe};
    ///
    /// fn stream(hub: &FrameHub, query: Option<&str>) -> Subscribe {
    ///     let fps = query
    ///         .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("fps=")))
    ///         .and_then(|v| v.parse().ok());
    ///     hub.subscribe().max_fps(fps)
    /// }
    /// # let _ = stream(&FrameHub::new(), Some("fps=5"));
    /// ```
    pub fn max_fps(mut self, fps: Option<u32>) -> Self {
        self.min_interval = fps
            .filter(|&fps| fps > 0)
            .map(|fps| Duration::from_secs(1) / fps);
        self
    }

    /// The response: a stream with the default configuration, which
    /// [`MjpegLayer`](crate::MjpegLayer) replaces with its own.
    ///
    /// Framework integrations call this; move the body into the framework's type.
    pub fn into_http_response(self) -> Response<ResponderBody> {
        if self.hub.is_stopped() {
            let res = plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED).map(ResponderBody::full);
            return slotted(Source::Hub(self.hub, self.min_interval), res, false);
        }
        streaming_response(Source::Hub(self.hub, self.min_interval))
    }
}

/// A responder with a [`FrameHub`]'s latest frame; from [`FrameHub::snapshot`].
///
/// # Note
/// Without [`MjpegLayer`](crate::MjpegLayer) it cannot wait for a first
/// frame: with none yet it answers `503` at once.
#[derive(Debug)]
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct Snapshot {
    hub: FrameHub,
    wait: Duration,
}

impl Snapshot {
    /// The complete response with the default headers; the layer replaces it
    /// with its own headers and, with no frame yet, waits for one.
    pub fn into_http_response(self) -> Response<ResponderBody> {
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
        let res = res.map(ResponderBody::full);
        slotted(Source::Snapshot(self.hub, self.wait), res, false)
    }
}
