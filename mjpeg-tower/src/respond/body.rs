//! [`ResponderBody`]: the body of a responder's response.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::lifecycle::info::RequestInfo;
use crate::lifecycle::outcome::BoxError;
use crate::lifecycle::stats::StatsCell;
use crate::respond::config::Config;
use crate::respond::dispatch::{Producer, open_viewer};
use crate::respond::source::{Slot, Source};
use crate::respond::stream::StreamBody;

/// The body of a responder's response: a live multipart stream, or a small
/// complete body (a snapshot, a refusal).
///
/// Returned from a route that [`MjpegLayer`](crate::MjpegLayer) does not wrap,
/// it streams with the default configuration: the stream is opened when the
/// body is first polled, so nothing starts for a response that is never sent.
/// Behind the layer, the layer answers instead and this body is dropped
/// unpolled.
///
/// A stream has no `Content-Length` and an unknown size; it reports its end
/// only after the close delimiter is out.
pub struct ResponderBody {
    kind: Kind,
}

/// An empty complete body, for layers that answer on their own (tower-http's
/// `ValidateRequestHeaderLayer` builds its `401` this way).
impl Default for ResponderBody {
    fn default() -> Self {
        Self::full(Bytes::new())
    }
}

enum Kind {
    /// Not opened yet: the first poll opens it with the defaults.
    Lazy(Slot),
    Stream(Box<StreamBody>),
    Full(Option<Bytes>),
    /// The answer to a `HEAD`: no body, and no size either, so no
    /// `Content-Length: 0` claims the stream would be empty.
    Head,
}

impl ResponderBody {
    pub(crate) fn lazy(slot: Slot) -> Self {
        Self {
            kind: Kind::Lazy(slot),
        }
    }

    pub(crate) fn stream(body: StreamBody) -> Self {
        Self {
            kind: Kind::Stream(Box::new(body)),
        }
    }

    pub(crate) fn full(data: Bytes) -> Self {
        Self {
            kind: Kind::Full((!data.is_empty()).then_some(data)),
        }
    }

    pub(crate) fn head() -> Self {
        Self { kind: Kind::Head }
    }

    /// The whole body, when it is complete already (a snapshot, a refusal).
    #[cfg(feature = "warp")]
    pub(crate) fn into_complete(self) -> Result<Bytes, Self> {
        match self.kind {
            Kind::Full(data) => Ok(data.unwrap_or_default()),
            kind => Err(Self { kind }),
        }
    }

    /// Opens a lazy body with the default configuration, as a route without
    /// the layer does.
    fn open(slot: &Slot) -> Kind {
        let producer = match slot.take().map(|taken| taken.source) {
            Some(Source::Stream(frames)) => Producer::Stream(frames),
            Some(Source::Hub(hub, pace)) => Producer::Hub(hub, pace),
            // A snapshot's response is complete before any layer sees it,
            // and a source already taken was answered by the layer instead.
            Some(Source::Snapshot(..)) | None => return Kind::Full(None),
        };
        let config = Arc::new(Config::new());
        let stats = Arc::new(StatsCell::new());
        // No limit: the first and only slot of its own counters.
        let Some(active) = stats.try_acquire(None) else {
            return Kind::Full(None);
        };
        let body = open_viewer(&config, &stats, RequestInfo::standalone(), producer, active);
        Kind::Stream(Box::new(body))
    }
}

impl From<Bytes> for ResponderBody {
    /// A complete body, so a service can answer plain routes with the same body type.
    fn from(data: Bytes) -> Self {
        Self::full(data)
    }
}

impl From<&'static str> for ResponderBody {
    fn from(text: &'static str) -> Self {
        Self::full(Bytes::from_static(text.as_bytes()))
    }
}

impl fmt::Debug for ResponderBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Lazy(_) => "Lazy",
            Kind::Stream(_) => "Stream",
            Kind::Full(_) => "Full",
            Kind::Head => "Head",
        };
        f.debug_struct("ResponderBody")
            .field("kind", &kind)
            .finish()
    }
}

impl Body for ResponderBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Kind::Lazy(slot) = &this.kind {
            this.kind = Self::open(slot);
        }
        match &mut this.kind {
            Kind::Stream(body) => body.poll_frame(cx),
            Kind::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Kind::Head | Kind::Lazy(_) => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Lazy(_) => false,
            Kind::Stream(body) => body.is_done(),
            Kind::Full(data) => data.is_none(),
            Kind::Head => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Lazy(_) | Kind::Stream(_) | Kind::Head => SizeHint::default(),
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
        }
    }
}
