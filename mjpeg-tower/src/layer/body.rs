//! [`MjpegBody`]: the response body of [`MjpegService`](crate::MjpegService).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::lifecycle::outcome::BoxError;
use crate::respond::body::ResponderBody;

pin_project! {
    /// Either the inner response's body, untouched, or the layer's answer to
    /// a responder: a live multipart stream, or a small complete body (a
    /// snapshot, a `503`).
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
        Responder { body: ResponderBody },
    }
}

/// An empty inner body, for layers that answer on their own (tower-http's
/// `ValidateRequestHeaderLayer` builds its `401` this way).
impl<B: Default> Default for MjpegBody<B> {
    fn default() -> Self {
        Self::inner(B::default())
    }
}

impl<B> MjpegBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn responder(body: ResponderBody) -> Self {
        Self {
            kind: Kind::Responder { body },
        }
    }
}

impl<B> std::fmt::Debug for MjpegBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Inner { .. } => f.debug_struct("MjpegBody").field("kind", &"Inner").finish(),
            Kind::Responder { body } => f.debug_tuple("MjpegBody").field(body).finish(),
        }
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
            KindProj::Responder { body } => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Responder { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Responder { body } => body.size_hint(),
        }
    }
}
