//! The dispatch of one request whose response carried a [`Source`]: a
//! snapshot, a refusal, or a new viewer's stream.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::response::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};

use crate::fanout::hub::FrameHub;
use crate::fanout::policy::OverflowPolicy;
use crate::fanout::pump::{Feed, FrameStream};
use crate::fanout::queue::ViewerQueue;
use crate::lifecycle::connection::Connection;
use crate::lifecycle::info::RequestInfo;
use crate::lifecycle::outcome::End;
use crate::lifecycle::stats::StatsCell;
use crate::lifecycle::telemetry::{Meter, UNNAMED};
use crate::respond::body::ResponderBody;
use crate::respond::config::Config;
use crate::respond::headers::{merge_handler_headers, without};
use crate::respond::reply::{self, HUB_STOPPED, OVER_BUDGET, SnapshotHeaders, TOO_MANY, plain};
use crate::respond::source::{Source, Taken};
use crate::respond::stream::StreamBody;
use crate::wire::frame::Frame;

/// The answer: now, or once a snapshot has a frame.
pub(crate) enum Respond {
    Now(Response<ResponderBody>),
    Later(Pin<Box<dyn Future<Output = Response<Bytes>> + Send>>),
}

/// Where a new viewer's frames come from.
pub(crate) enum Producer {
    Stream(FrameStream),
    /// A hub, with the viewer's own shortest frame interval.
    Hub(FrameHub, Option<Duration>),
}

/// Answers a request whose handler returned a responder, with `config`,
/// counting in `stats`; `parts` are the handler's response without its body.
pub(crate) fn dispatch(
    config: &Arc<Config>,
    stats: &Arc<StatsCell>,
    req: RequestInfo,
    mut parts: Parts,
    taken: Taken,
) -> Respond {
    // The responder's own headers were the defaults: the configuration
    // replaces them. Headers a handler added stay.
    parts.headers = without(&parts.headers, &taken.placeholder);
    if parts.status != taken.status && !parts.status.is_success() {
        // The handler said no (`(StatusCode::UNAUTHORIZED, hub.subscribe())`):
        // its status with an empty body, never a stream or a frame.
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(0));
        return Respond::Now(Response::from_parts(
            parts,
            ResponderBody::full(Bytes::new()),
        ));
    }
    match taken.source {
        Source::Snapshot(hub, wait) => snapshot(config, &req.method, parts, hub, wait),
        Source::Hub(hub, _) if hub.is_stopped() => {
            now(plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED))
        }
        Source::Hub(hub, pace) => stream(config, stats, req, parts, Producer::Hub(hub, pace)),
        Source::Stream(frames) => stream(config, stats, req, parts, Producer::Stream(frames)),
    }
}

fn now(res: Response<Bytes>) -> Respond {
    Respond::Now(res.map(ResponderBody::full))
}

/// A snapshot with the layer's headers (plus the handler's own); with no
/// frame yet, it waits for one up to the hub's snapshot timeout.
fn snapshot(
    config: &Arc<Config>,
    method: &Method,
    parts: Parts,
    hub: FrameHub,
    wait: Duration,
) -> Respond {
    if hub.is_stopped() {
        return now(plain(StatusCode::SERVICE_UNAVAILABLE, HUB_STOPPED));
    }
    let handler_headers = parts.headers;
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
fn stream(
    config: &Arc<Config>,
    stats: &Arc<StatsCell>,
    req: RequestInfo,
    mut parts: Parts,
    producer: Producer,
) -> Respond {
    let handler_headers = std::mem::take(&mut parts.headers);
    parts.status = StatusCode::OK;
    parts.headers = merge_handler_headers(config.response_headers.clone(), handler_headers);
    if req.method == Method::HEAD {
        // What a GET would get, without the body: no viewer, no producer,
        // not counted as a rejection.
        if stats.is_full(config.max_clients) {
            return now(refuse(config, TOO_MANY));
        }
        if over_budget(config, stats) {
            return now(refuse(config, OVER_BUDGET));
        }
        return Respond::Now(Response::from_parts(parts, ResponderBody::head()));
    }
    // The memory budget's second step: no new viewers while it is exceeded.
    if over_budget(config, stats) {
        stats.record_budget_refused();
        return now(refuse(config, OVER_BUDGET));
    }
    let Some(active) = stats.try_acquire(config.max_clients) else {
        return now(refuse(config, TOO_MANY));
    };
    let body = open_viewer(config, stats, req, producer, active);
    Respond::Now(Response::from_parts(parts, ResponderBody::stream(body)))
}

/// Whether the layer's viewers queue more than its memory budget.
fn over_budget(config: &Config, stats: &StatsCell) -> bool {
    config
        .queue
        .budget
        .is_some_and(|budget| stats.queued() >= budget)
}

/// `503` with `Retry-After`: `max_clients` streams are open, or the memory
/// budget is exceeded.
fn refuse(config: &Config, message: &'static str) -> Response<Bytes> {
    let mut res = plain(StatusCode::SERVICE_UNAVAILABLE, message);
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(config.retry_after.as_secs().max(1)),
    );
    res
}

/// Counts the viewer in (running `on_connect`) and connects its queue to the
/// producer; `active` is the open count with it, from [`StatsCell::try_acquire`].
pub(crate) fn open_viewer(
    config: &Config,
    stats: &Arc<StatsCell>,
    req: RequestInfo,
    producer: Producer,
    active: usize,
) -> StreamBody {
    let stream = match &producer {
        Producer::Hub(hub, _) => hub.name(),
        Producer::Stream(_) => None,
    };
    let meter = Arc::new(Meter::new(stream.unwrap_or(UNNAMED)));
    let mut limits = config.queue;
    if let Producer::Hub(_, Some(viewer)) = producer {
        // The stricter of the layer's and the viewer's limits.
        limits.min_interval = Some(limits.min_interval.map_or(viewer, |l| l.max(viewer)));
    }
    let queue = Arc::new(ViewerQueue::new(
        limits,
        Arc::clone(stats),
        Arc::clone(&meter),
    ));
    let conn = Connection::open(
        Arc::clone(&config.callbacks),
        Arc::clone(stats),
        meter,
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
        Producer::Hub(hub, _) => match hub.register(Arc::clone(&queue)) {
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
