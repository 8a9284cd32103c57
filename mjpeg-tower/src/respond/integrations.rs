//! Framework responder impls, behind the `axum` and `warp` features.
//!
//! Each responder's [`into_http_response`](crate::Mjpeg::into_http_response)
//! already is the response; these impls only move its body into the
//! framework's body type, keeping the extensions the layer looks for.

#[cfg(feature = "axum")]
mod axum {
    use axum_core::body::Body;
    use axum_core::response::{IntoResponse, Response};

    use crate::respond::hub::{Snapshot, Subscribe};
    use crate::respond::mjpeg::Mjpeg;

    impl IntoResponse for Mjpeg {
        fn into_response(self) -> Response {
            self.into_http_response().map(Body::new)
        }
    }

    impl IntoResponse for Subscribe {
        fn into_response(self) -> Response {
            self.into_http_response().map(Body::new)
        }
    }

    impl IntoResponse for Snapshot {
        fn into_response(self) -> Response {
            self.into_http_response().map(Body::new)
        }
    }
}

#[cfg(feature = "warp")]
pub(crate) mod warp {
    use std::pin::Pin;
    use std::sync::{Mutex, PoisonError};
    use std::task::{Context, Poll, ready};

    use bytes::Bytes;
    use futures_core::Stream;
    use http_body::Body as _;
    use warp::reply::{Reply, Response};

    use crate::lifecycle::outcome::BoxError;
    use crate::respond::body::ResponderBody;
    use crate::respond::hub::{Snapshot, Subscribe};
    use crate::respond::mjpeg::Mjpeg;

    /// warp's bodies are `Sync`; a live stream is only `Send`. The mutex is
    /// never locked: `poll_next` has `&mut` access and uses `get_mut`.
    struct Chunks(Mutex<ResponderBody>);

    impl Stream for Chunks {
        type Item = Result<Bytes, BoxError>;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            let body = self
                .get_mut()
                .0
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            loop {
                match ready!(Pin::new(&mut *body).poll_frame(cx)) {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => return Poll::Ready(Some(Ok(data))),
                        Err(_trailers) => continue,
                    },
                    Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                    None => return Poll::Ready(None),
                }
            }
        }
    }

    pub(crate) fn into_warp(res: http::Response<ResponderBody>) -> Response {
        let (parts, body) = res.into_parts();
        let mut reply = match body.into_complete() {
            Ok(data) => Response::new(data.into()),
            Err(stream) => warp::reply::stream(Chunks(Mutex::new(stream))).into_response(),
        };
        *reply.status_mut() = parts.status;
        *reply.headers_mut() = parts.headers;
        *reply.extensions_mut() = parts.extensions;
        reply
    }

    impl Reply for Mjpeg {
        fn into_response(self) -> Response {
            into_warp(self.into_http_response())
        }
    }

    impl Reply for Subscribe {
        fn into_response(self) -> Response {
            into_warp(self.into_http_response())
        }
    }

    impl Reply for Snapshot {
        fn into_response(self) -> Response {
            into_warp(self.into_http_response())
        }
    }
}
