//! Building the layer's responses: streams, snapshots and refusals.

use std::sync::Arc;

use bytes::Bytes;
use http::response::Parts;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::encode::SharedFrame;
use crate::feed::Feed;
use crate::layer::{Config, strip_unsendable};
use crate::lifecycle::{Connection, RequestInfo};
use crate::queue::{End, ViewerQueue};
use crate::responder::Source;
use crate::streaming::StreamBody;
use crate::{MjpegBody, MjpegLayer, OverflowPolicy};

pub(crate) enum Respond<B> {
    Now(Response<MjpegBody<B>>),
    Later(std::pin::Pin<Box<dyn std::future::Future<Output = Response<Bytes>> + Send>>),
}

pub(crate) const HUB_STOPPED: &str = "mjpeg-tower: this stream has been stopped\n";
pub(crate) const NO_FRAME: &str = "mjpeg-tower: no frame has been published yet\n";

pub(crate) fn respond<B>(
    layer: &MjpegLayer,
    req: RequestInfo,
    mut parts: Parts,
    source: Source,
) -> Respond<B> {
    let config = &layer.config;
    // The stream's headers are built from these and the layer's.
    let handler_headers = std::mem::take(&mut parts.headers);
    let now = |res: Response<Bytes>| Respond::Now(res.map(MjpegBody::full));
    match &source {
        Source::Snapshot(hub, wait, placeholder) => {
            if hub.is_stopped() {
                return now(plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED));
            }
            // The placeholder's headers were the defaults: the layer's own
            // configuration replaces them. Headers a handler added stay.
            let handler_headers = without(&handler_headers, placeholder);
            let (hub, wait, config) = (hub.clone(), *wait, Arc::clone(config));
            if let Some(frame) = hub.latest_shared() {
                return now(snapshot(
                    &config,
                    &handler_headers,
                    Some(frame),
                    &req.method,
                ));
            }
            let method = req.method;
            return Respond::Later(Box::pin(async move {
                match hub.wait_latest(wait).await {
                    _ if hub.is_stopped() => plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED),
                    frame => snapshot(&config, &handler_headers, frame, &method),
                }
            }));
        }
        Source::Hub(hub) if hub.is_stopped() => {
            return now(plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED));
        }
        Source::Hub(_) | Source::Stream(_) => {}
    }
    let headers = merge(config.response_headers.clone(), handler_headers);
    let with_parts = |body: MjpegBody<B>| {
        parts.status = StatusCode::OK;
        parts.headers = headers;
        Response::from_parts(parts, body)
    };
    if req.method == Method::HEAD {
        // Headers only: no viewer, no producer.
        return Respond::Now(with_parts(MjpegBody::full(Bytes::new())));
    }
    let Some(active) = layer.stats.try_acquire(config.max_clients) else {
        let mut res = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "mjpeg-tower: too many viewers; retry later\n",
        );
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(config.retry_after.as_secs().max(1)),
        );
        return now(res);
    };
    let queue = Arc::new(ViewerQueue::new(config.queue, Arc::clone(&layer.stats)));
    let conn = Connection::open(Arc::clone(config), Arc::clone(&layer.stats), req, active);
    let feed = match source {
        Source::Stream(stream) => Feed::stream(
            stream,
            Arc::clone(&queue),
            config.queue.policy == OverflowPolicy::Wait,
            config.queue.min_interval,
        ),
        Source::Hub(hub) => match hub.register(Arc::clone(&queue)) {
            Some(viewer) => Feed::Hub(viewer),
            None => {
                queue.close(End::Stopped);
                Feed::None
            }
        },
        Source::Snapshot(..) => unreachable!("snapshots answered above"),
    };
    let body = StreamBody::new(
        Arc::clone(&config.encoder),
        queue,
        feed,
        config.heartbeat,
        config.repeat_final_frame,
        conn,
    );
    Respond::Now(with_parts(MjpegBody::stream(body)))
}

/// The layer's headers, then the handler's own (which win), minus what may
/// not be sent. The handler's response was a placeholder: its content type and
/// encoding (a compression layer inside this one may have gzipped it) describe
/// that placeholder, not the stream.
fn merge(mut base: HeaderMap, mut handler: HeaderMap) -> HeaderMap {
    handler.remove(header::CONTENT_TYPE);
    handler.remove(header::CONTENT_ENCODING);
    strip_unsendable(&mut handler);
    for name in handler.keys() {
        base.remove(name);
    }
    for (name, value) in &handler {
        base.append(name.clone(), value.clone());
    }
    base
}

/// `headers` without the entries `placeholder` has with the same value.
fn without(headers: &HeaderMap, placeholder: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        let ours = placeholder.get_all(name).iter().any(|v| v == value);
        if !ours {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

/// One frame as a complete response, or `503` when there is none.
pub(crate) fn snapshot(
    config: &Config,
    handler_headers: &HeaderMap,
    frame: Option<Arc<SharedFrame>>,
    method: &Method,
) -> Response<Bytes> {
    let Some(frame) = frame else {
        return plain(StatusCode::SERVICE_UNAVAILABLE, NO_FRAME);
    };
    let frame = frame.frame();
    let mut headers = merge(config.plain_headers(), handler_headers.clone());
    let mut own = frame.headers().clone();
    strip_unsendable(&mut own);
    for (name, value) in &own {
        headers.insert(name, value.clone());
    }
    let content_type = frame
        .content_type()
        .cloned()
        .unwrap_or_else(|| config.default_part_content_type());
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(frame.len()));
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        frame.data().clone()
    };
    let mut res = Response::new(body);
    *res.headers_mut() = headers;
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
