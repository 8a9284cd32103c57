//! Complete (non-streaming) replies: a snapshot, and short refusals.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::respond::headers::{merge_handler_headers, strip_unsendable};
use crate::wire::frame::Frame;

pub(crate) const HUB_STOPPED: &str = "mjpeg-tower: this stream has been stopped\n";
pub(crate) const NO_FRAME: &str = "mjpeg-tower: no frame has been published yet\n";
pub(crate) const TOO_MANY: &str = "mjpeg-tower: too many viewers; retry later\n";
pub(crate) const OVER_BUDGET: &str =
    "mjpeg-tower: the memory budget for queued frames is exhausted; retry later\n";

/// What a snapshot reply is built from besides its frame.
#[derive(Debug)]
pub(crate) struct SnapshotHeaders<'a> {
    /// The global headers, without the stream's content type.
    pub(crate) global: &'a HeaderMap,
    /// The content type of a frame that has none of its own.
    pub(crate) default_content_type: &'a HeaderValue,
    /// Headers the handler added; they win over `global`.
    pub(crate) handler: &'a HeaderMap,
}

/// One frame as a complete response, or `503` when there is none.
pub(crate) fn snapshot(
    headers: &SnapshotHeaders<'_>,
    frame: Option<&Frame>,
    method: &Method,
) -> Response<Bytes> {
    let Some(frame) = frame else {
        return plain(StatusCode::SERVICE_UNAVAILABLE, NO_FRAME);
    };
    let mut out = merge_handler_headers(headers.global.clone(), headers.handler.clone());
    let mut own = frame.headers().clone();
    strip_unsendable(&mut own);
    for (name, value) in &own {
        out.insert(name, value.clone());
    }
    let content_type = frame
        .content_type()
        .unwrap_or(headers.default_content_type)
        .clone();
    out.insert(header::CONTENT_TYPE, content_type);
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(frame.len()));
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        frame.data().clone()
    };
    let mut res = Response::new(body);
    *res.headers_mut() = out;
    res
}

/// A short text response that must not be cached.
pub(crate) fn plain(status: StatusCode, message: &'static str) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from_static(message.as_bytes()));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
