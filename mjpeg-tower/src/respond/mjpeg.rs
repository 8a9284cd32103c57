//! [`Mjpeg`]: the per-request responder.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use http::{HeaderValue, Response, header};
use pin_project_lite::pin_project;

use crate::fanout::pump::FrameStream;
use crate::lifecycle::outcome::BoxError;
use crate::respond::body::ResponderBody;
use crate::respond::headers::default_response_headers;
use crate::respond::source::{Source, slotted};
use crate::wire::boundary::Boundary;
use crate::wire::frame::Frame;

/// A `200` stream response with the default configuration, opened lazily by
/// its body unless a layer takes the source first.
pub(crate) fn streaming_response(source: Source) -> Response<ResponderBody> {
    let mut res = Response::new(ResponderBody::full(Default::default()));
    let headers = res.headers_mut();
    *headers = default_response_headers();
    let content_type = format!(
        "multipart/x-mixed-replace; boundary={}",
        Boundary::default()
    );
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    slotted(source, res, true)
}

/// A responder that streams frames to one viewer, from the start of its stream.
///
/// Return it from a handler: it streams a `multipart/x-mixed-replace`
/// response with the default configuration, or, behind
/// [`MjpegLayer`](crate::MjpegLayer), with the layer's.
///
/// ```
/// use http_body_util::BodyExt;
/// use mjpeg_tower::{Frame, Mjpeg};
/// use futures_util::stream;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let frames = stream::iter([Frame::jpeg(&b"\xFF\xD8 one \xFF\xD9"[..])]);
/// let res = Mjpeg::new(frames).into_http_response(); // no layer here
/// assert_eq!(res.status(), 200);
/// assert!(res.headers()["content-type"].to_str().unwrap().starts_with("multipart/x-mixed-replace"));
/// let body = res.into_body().collect().await.unwrap().to_bytes();
/// assert!(body.ends_with(b"\xFF\xD8 one \xFF\xD9\r\n--mjpeg-tower-boundary-2f9c4e7a1d--\r\n"));
/// # }
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

    /// The response: a stream with the default configuration, which
    /// [`MjpegLayer`](crate::MjpegLayer) replaces with its own.
    ///
    /// Framework integrations call this; move the body into the framework's type.
    pub fn into_http_response(self) -> Response<ResponderBody> {
        streaming_response(Source::Stream(self.stream))
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
