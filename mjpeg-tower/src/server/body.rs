//! [`RequestBody`]: the body of a request [`Server`](super::Server) serves.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::lifecycle::outcome::BoxError;

/// The body of a request served by [`Server`](super::Server): empty for a
/// viewer's `GET`, hyper's [`Incoming`] for other HTTP/1.1 requests, the
/// stream's data over HTTP/2 (served with the `h2` crate, so each stream
/// gets its own write-stall deadline).
///
/// It releases HTTP/2 flow-control capacity as data is read, so a client
/// may keep sending as long as the service reads.
pub struct RequestBody {
    inner: Inner,
}

enum Inner {
    /// A request without a body (a viewer's `GET`, served without hyper).
    Empty,
    Http1(Incoming),
    H2 {
        recv: h2::RecvStream,
        data_done: bool,
        size: SizeHint,
    },
}

impl RequestBody {
    pub(crate) fn empty() -> Self {
        Self {
            inner: Inner::Empty,
        }
    }

    pub(crate) fn http1(body: Incoming) -> Self {
        Self {
            inner: Inner::Http1(body),
        }
    }

    /// `content_length` from the request head, for the size hint.
    pub(crate) fn h2(recv: h2::RecvStream, content_length: Option<u64>) -> Self {
        let size = content_length.map_or_else(SizeHint::default, SizeHint::with_exact);
        Self {
            inner: Inner::H2 {
                recv,
                data_done: false,
                size,
            },
        }
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Empty => f.write_str("RequestBody::Empty"),
            Inner::Http1(body) => f.debug_tuple("RequestBody::Http1").field(body).finish(),
            Inner::H2 { recv, .. } => f.debug_tuple("RequestBody::H2").field(recv).finish(),
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().inner {
            Inner::Empty => Poll::Ready(None),
            Inner::Http1(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
            Inner::H2 {
                recv,
                data_done,
                size,
            } => {
                if !*data_done {
                    match ready!(recv.poll_data(cx)) {
                        Some(Ok(data)) => {
                            // Read: the client may send as much again.
                            let _ = recv.flow_control().release_capacity(data.len());
                            if let Some(left) = size.exact() {
                                *size =
                                    SizeHint::with_exact(left.saturating_sub(data.len() as u64));
                            }
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                        Some(Err(err)) => return Poll::Ready(Some(Err(err.into()))),
                        None => *data_done = true,
                    }
                }
                match ready!(recv.poll_trailers(cx)) {
                    Ok(Some(trailers)) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                    Ok(None) => Poll::Ready(None),
                    Err(err) => Poll::Ready(Some(Err(err.into()))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Empty => true,
            Inner::Http1(body) => body.is_end_stream(),
            Inner::H2 { recv, .. } => recv.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Empty => SizeHint::with_exact(0),
            Inner::Http1(body) => body.size_hint(),
            Inner::H2 { size, .. } => *size,
        }
    }
}
