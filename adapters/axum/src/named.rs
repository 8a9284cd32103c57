//! The named-stream routes of a [`Streams`] registry as an axum [`Router`].

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use mjpeg_tower::streams::{StreamReply, Streams};

/// `GET /streams`, `GET /streams/{name}/stream` and
/// `GET /streams/{name}/snapshot` for `streams` (see
/// [`mjpeg_tower::streams`]): merge it into your router and wrap the result
/// in [`MjpegLayer`](crate::MjpegLayer).
///
/// ```
/// use axum::Router;
/// use mjpeg_axum::streams::Streams;
/// use mjpeg_axum::{FrameHub, MjpegLayer};
///
/// let streams = Streams::new();
/// streams.insert("door", FrameHub::new()).unwrap();
/// let app: Router = Router::new()
///     .merge(mjpeg_axum::streams_router(streams))
///     .layer(MjpegLayer::new());
/// ```
pub fn streams_router<S>(streams: Streams) -> Router<S> {
    Router::new()
        .route("/streams", get(list))
        .route("/streams/{name}/stream", get(stream))
        .route("/streams/{name}/snapshot", get(snapshot))
        .with_state(streams)
}

async fn list(State(streams): State<Streams>) -> StreamReply {
    streams.list_reply()
}

async fn stream(State(streams): State<Streams>, Path(name): Path<String>) -> StreamReply {
    streams.subscribe(&name)
}

async fn snapshot(State(streams): State<Streams>, Path(name): Path<String>) -> StreamReply {
    streams.snapshot(&name)
}
