//! [`Mjpeg`]: the per-request responder, and the slot that carries any
//! responder's frames through a framework to [`MjpegLayer`](crate::MjpegLayer).

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::{HeaderValue, Response, StatusCode, header};
use pin_project_lite::pin_project;

use crate::{BoxError, Frame, FrameHub};

/// A type-erased stream of frames.
pub(crate) type FrameStream = Pin<Box<dyn Stream<Item = Result<Frame, BoxError>> + Send>>;

/// What a responder asks the layer to serve.
pub(crate) enum Source {
    /// A per-request stream of frames.
    Stream(FrameStream),
    /// A live view of a hub.
    Hub(FrameHub),
    /// One frame of a hub, waiting up to the timeout for the first; with the
    /// headers its placeholder response carried (the layer replaces them).
    Snapshot(FrameHub, Duration, http::HeaderMap),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stream(_) => f.write_str("Stream(..)"),
            Self::Hub(hub) => f.debug_tuple("Hub").field(hub).finish(),
            Self::Snapshot(hub, wait, _) => {
                f.debug_tuple("Snapshot").field(hub).field(wait).finish()
            }
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

/// A responder that streams frames to one viewer, from the start of its stream.
///
/// Return it from a handler; [`MjpegLayer`](crate::MjpegLayer) turns it into a
/// `multipart/x-mixed-replace` response.
///
/// # Note
/// Without the layer the response is a `500 Internal Server Error` whose body
/// says the layer is missing: never an empty `200`.
///
/// ```
/// use mjpeg_tower::{Frame, Mjpeg};
/// use futures_util::stream;
///
/// let frames = stream::iter([Frame::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9])]);
/// let res = Mjpeg::new(frames).into_http_response();
/// assert_eq!(res.status(), 500); // no MjpegLayer here to turn it into a stream
/// ```
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct Mjpeg {
    stream: FrameStream,
}

impl Mjpeg {
    /// Streams the frames of `stream`; the response ends with the close
    /// delimiter when the stream ends.
    pub fn new<S>(stream: S) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: Into<Frame>,
    {
        Self {
            stream: Box::pin(Infallible { stream }),
        }
    }

    /// Streams the frames of a fallible `stream`; an error ends the response
    /// with the close delimiter and [`DisconnectReason::ProducerError`](crate::DisconnectReason::ProducerError).
    pub fn try_new<S, F, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<F, E>> + Send + 'static,
        F: Into<Frame>,
        E: Into<BoxError>,
    {
        Self {
            stream: Box::pin(Fallible { stream }),
        }
    }

    /// The response before [`MjpegLayer`](crate::MjpegLayer) turns it into a stream.
    ///
    /// Framework integrations call this; map the body into the framework's type.
    pub fn into_http_response(self) -> Response<Bytes> {
        slotted_response(
            Source::Stream(self.stream),
            StatusCode::INTERNAL_SERVER_ERROR,
            Bytes::from_static(MISSING_LAYER.as_bytes()),
        )
    }
}

impl fmt::Debug for Mjpeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mjpeg").finish_non_exhaustive()
    }
}

pin_project! {
    struct Infallible<S> {
        #[pin]
        stream: S,
    }
}

impl<S> Stream for Infallible<S>
where
    S: Stream,
    S::Item: Into<Frame>,
{
    type Item = Result<Frame, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        Poll::Ready(ready!(this.stream.poll_next(cx)).map(|f| Ok(f.into())))
    }
}

pin_project! {
    struct Fallible<S> {
        #[pin]
        stream: S,
    }
}

impl<S, F, E> Stream for Fallible<S>
where
    S: Stream<Item = Result<F, E>>,
    F: Into<Frame>,
    E: Into<BoxError>,
{
    type Item = Result<Frame, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        Poll::Ready(
            ready!(this.stream.poll_next(cx)).map(|r| r.map(Into::into).map_err(Into::into)),
        )
    }
}
