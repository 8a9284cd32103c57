//! [`MjpegBody`]: the response body of [`MjpegService`](crate::MjpegService).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::layer::stream::StreamBody;
use crate::lifecycle::outcome::BoxError;

pin_project! {
    /// Either the inner response's body, untouched, or a live multipart stream
    /// (or a small complete body: a snapshot, a `503`).
    ///
    /// A stream has no `Content-Length` and an unknown size; it reports its
    /// end only after the close delimiter is out.
    pub struct MjpegBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Stream { body: Box<StreamBody> },
        Full { data: Option<Bytes> },
        Head,
    }
}

impl<B> MjpegBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn stream(body: StreamBody) -> Self {
        Self {
            kind: Kind::Stream {
                body: Box::new(body),
            },
        }
    }

    /// The body of a `HEAD` answered for a stream: none, and no size, so no
    /// `Content-Length: 0` claims the stream would be empty.
    pub(crate) fn head() -> Self {
        Self { kind: Kind::Head }
    }

    pub(crate) fn full(data: Bytes) -> Self {
        let data = (!data.is_empty()).then_some(data);
        Self {
            kind: Kind::Full { data },
        }
    }
}

impl<B> std::fmt::Debug for MjpegBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Stream { .. } => "Stream",
            Kind::Full { .. } => "Full",
            Kind::Head => "Head",
        };
        f.debug_struct("MjpegBody").field("kind", &kind).finish()
    }
}

impl<B> Body for MjpegBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx).map_err(Into::into),
            KindProj::Stream { body } => body.poll_frame(cx),
            KindProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            KindProj::Head => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Stream { body } => body.is_done(),
            Kind::Full { data } => data.is_none(),
            Kind::Head => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Stream { .. } | Kind::Head => SizeHint::default(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}
