//! The dispatch of one request whose response carried a [`Source`]: a
//! snapshot, a refusal, or a new viewer's stream.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::response::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};

use crate::fanout::hub::FrameHub;
use crate::fanout::policy::OverflowPolicy;
use crate::fanout::pump::{Feed, FrameStream};
use crate::fanout::queue::ViewerQueue;
use crate::layer::body::MjpegBody;
use crate::layer::builder::MjpegLayer;
use crate::layer::config::Config;
use crate::layer::stream::StreamBody;
use crate::lifecycle::connection::Connection;
use crate::lifecycle::info::RequestInfo;
use crate::lifecycle::outcome::End;
use crate::respond::headers::{merge_handler_headers, without};
use crate::respond::reply::{self, HUB_STOPPED, SnapshotHeaders, TOO_MANY, plain};
use crate::respond::source::{SnapshotRequest, Source};
use crate::wire::frame::Frame;

/// The layer's answer: now, or once a snapshot has a frame.
pub(crate) enum Respond<B> {
    Now(Response<MjpegBody<B>>),
    Later(Pin<Box<dyn Future<Output = Response<Bytes>> + Send>>),
}

/// Where a new viewer's frames come from.
enum Producer {
    Stream(FrameStream),
    Hub(FrameHub),
}

/// Answers a request whose handler returned `source`; `parts` are the
/// handler's response without its placeholder body.
pub(crate) fn dispatch<B>(
    layer: &MjpegLayer,
    req: RequestInfo,
    parts: Parts,
    source: Source,
) -> Respond<B> {
    match source {
        Source::Snapshot(request) => snapshot(&layer.config, &req.method, parts, request),
        Source::Hub(hub) if hub.is_stopped() => {
            now(plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED))
        }
        Source::Hub(hub) => stream(layer, req, parts, Producer::Hub(hub)),
        Source::Stream(frames) => stream(layer, req, parts, Producer::Stream(frames)),
    }
}

fn now<B>(res: Response<Bytes>) -> Respond<B> {
    Respond::Now(res.map(MjpegBody::full))
}

/// A snapshot with the layer's headers (plus the handler's own); with no
/// frame yet, it waits for one up to the hub's snapshot timeout.
fn snapshot<B>(
    config: &Arc<Config>,
    method: &Method,
    parts: Parts,
    request: SnapshotRequest,
) -> Respond<B> {
    let SnapshotRequest {
        hub,
        wait,
        placeholder,
    } = request;
    if hub.is_stopped() {
        return now(plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED));
    }
    // The placeholder's headers were the defaults: the layer's own
    // configuration replaces them. Headers a handler added stay.
    let handler_headers = without(&parts.headers, &placeholder);
    let answer = {
        let config = Arc::clone(config);
        let method = method.clone();
        move |frame: Option<&Frame>| {
            let headers = SnapshotHeaders {
                global: &config.plain_headers(),
                default_content_type: &config.default_part_content_type(),
                handler: &handler_headers,
            };
            reply::snapshot(&headers, frame, &method)
        }
    };
    if let Some(frame) = hub.latest_shared() {
        return now(answer(Some(frame.frame())));
    }
    Respond::Later(Box::pin(async move {
        match hub.wait_latest(wait).await {
            _ if hub.is_stopped() => plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED),
            frame => answer(frame.as_ref().map(|f| f.frame())),
        }
    }))
}

/// A new viewer's stream, or why there is none.
fn stream<B>(
    layer: &MjpegLayer,
    req: RequestInfo,
    mut parts: Parts,
    producer: Producer,
) -> Respond<B> {
    let config = &layer.config;
    let handler_headers = std::mem::take(&mut parts.headers);
    parts.status = StatusCode::OK;
    parts.headers = merge_handler_headers(config.response_headers.clone(), handler_headers);
    if req.method == Method::HEAD {
        // What a GET would get, without the body: no viewer, no producer,
        // not counted as a rejection.
        if layer.stats.is_full(config.max_clients) {
            return now(too_many(config));
        }
        return Respond::Now(Response::from_parts(parts, MjpegBody::head()));
    }
    let Some(active) = layer.stats.try_acquire(config.max_clients) else {
        return now(too_many(config));
    };
    let body = open_viewer(layer, req, producer, active);
    Respond::Now(Response::from_parts(parts, MjpegBody::stream(body)))
}

/// `503` with `Retry-After`: `max_clients` streams are open.
fn too_many(config: &Config) -> Response<Bytes> {
    let mut res = plain(StatusCode::SERVICE_UNAVAILABLE, TOO_MANY);
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(config.retry_after.as_secs().max(1)),
    );
    res
}

/// Counts the viewer in (running `on_connect`) and connects its queue to the producer.
fn open_viewer(
    layer: &MjpegLayer,
    req: RequestInfo,
    producer: Producer,
    active: usize,
) -> StreamBody {
    let config = &layer.config;
    let queue = Arc::new(ViewerQueue::new(config.queue, Arc::clone(&layer.stats)));
    let conn = Connection::open(
        Arc::clone(&config.callbacks),
        Arc::clone(&layer.stats),
        req,
        active,
    );
    let feed = match producer {
        Producer::Stream(frames) => Feed::stream(
            frames,
            Arc::clone(&queue),
            config.queue.policy == OverflowPolicy::Wait,
            config.queue.min_interval,
        ),
        Producer::Hub(hub) => match hub.register(Arc::clone(&queue)) {
            Some(viewer) => Feed::Hub(viewer),
            // Stopped since the check above: the viewer gets the close delimiter.
            None => {
                queue.close(End::Stopped);
                Feed::None
            }
        },
    };
    StreamBody::new(
        Arc::clone(&config.encoder),
        queue,
        feed,
        config.heartbeat,
        config.repeat_final_frame,
        conn,
    )
}
