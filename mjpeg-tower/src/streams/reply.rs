//! [`StreamReply`]: what a registry request answers.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::respond::body::ResponderBody;
use crate::respond::hub::{Snapshot, Subscribe};

/// The answer to a [`Streams`](super::Streams) request: a stream, a
/// snapshot, the `/streams` list, or a refusal with its reason.
///
/// A responder like [`Subscribe`]: return it from a handler (axum, warp) or
/// call [`into_http_response`](Self::into_http_response).
#[derive(Debug)]
#[must_use = "a responder does nothing unless returned from a handler"]
pub struct StreamReply(Kind);

#[derive(Debug)]
enum Kind {
    Subscribe(Subscribe),
    Snapshot(Snapshot),
    /// Boxed: a complete response is large, a responder should not be.
    Complete(Box<Response<Bytes>>),
}

impl StreamReply {
    pub(super) fn subscribe(subscribe: Subscribe) -> Self {
        Self(Kind::Subscribe(subscribe))
    }

    pub(super) fn snapshot(snapshot: Snapshot) -> Self {
        Self(Kind::Snapshot(snapshot))
    }

    pub(super) fn json(json: String) -> Self {
        let mut res = Response::new(Bytes::from(json));
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Self(Kind::Complete(Box::new(res)))
    }

    /// A plain-text refusal saying `message`, with `Retry-After` when given.
    pub(super) fn refused(status: StatusCode, message: String, retry: Option<Duration>) -> Self {
        let mut res = Response::new(Bytes::from(format!("mjpeg-tower: {message}\n")));
        *res.status_mut() = status;
        let headers = res.headers_mut();
        let text = HeaderValue::from_static("text/plain; charset=utf-8");
        headers.insert(header::CONTENT_TYPE, text);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(retry) = retry {
            // Whole seconds, rounded up: `Retry-After: 0` would invite a storm.
            let secs = retry.as_secs() + u64::from(retry.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        Self(Kind::Complete(Box::new(res)))
    }

    /// Limits a stream reply to `fps` frames per second for its viewer
    /// (see [`Subscribe::max_fps`]); other replies are unchanged.
    pub fn max_fps(self, fps: Option<u32>) -> Self {
        match self.0 {
            Kind::Subscribe(subscribe) => Self(Kind::Subscribe(subscribe.max_fps(fps))),
            other => Self(other),
        }
    }

    /// The status this reply answers with, before any layer: `200` for a
    /// stream or a list, `400`, `404` or `503` for a refusal (a snapshot
    /// decides when it is answered).
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Kind::Complete(res) => res.status(),
            Kind::Subscribe(_) | Kind::Snapshot(_) => StatusCode::OK,
        }
    }

    /// The response; behind [`MjpegLayer`](crate::MjpegLayer), streams and
    /// snapshots get the layer's configuration.
    pub fn into_http_response(self) -> Response<ResponderBody> {
        match self.0 {
            Kind::Subscribe(subscribe) => subscribe.into_http_response(),
            Kind::Snapshot(snapshot) => snapshot.into_http_response(),
            Kind::Complete(res) => res.map(ResponderBody::full),
        }
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for StreamReply {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http_response().map(axum_core::body::Body::new)
    }
}

#[cfg(feature = "warp")]
impl warp::Reply for StreamReply {
    fn into_response(self) -> warp::reply::Response {
        crate::respond::integrations::warp::into_warp(self.into_http_response())
    }
}
