//! [`Mjpeg`]: the per-request responder.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http::{Response, StatusCode};
use pin_project_lite::pin_project;

use crate::fanout::pump::FrameStream;
use crate::lifecycle::outcome::BoxError;
use crate::respond::source::{MISSING_LAYER, Source, slotted_response};
use crate::wire::frame::Frame;

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
    ///
    /// Empty frames are skipped (an empty part shows as a broken image in
    /// Chromium). If the stream panics, the response ends with the close
    /// delimiter and [`DisconnectReason::ProducerError`](crate::DisconnectReason::ProducerError).
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
