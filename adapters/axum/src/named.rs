//! The named-stream routes of a [`Streams`] registry as an axum [`Router`].

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use mjpeg_tower::streams::{StreamReply, Streams};

/// `GET /streams`, `GET /streams/{name}/stream` and
/// `GET /streams/{name}/snapshot` for `streams` (see
/// [`mjpeg_tower::streams`]): merge it into your router and wrap the result
/// in [`MjpegLayer`](crate::MjpegLayer).
///
/// A stream request may ask for a lower frame rate with `?fps=N` (1 to
/// the source's rate; anything else is ignored). With the `ingest` feature,
/// `POST /streams/{name}` publishes the frames of an MJPEG stream or a JPEG
/// into that stream's hub (`mjpeg_tower::ingest`).
///
/// `fps` outside 1 to 2^32-1, or not a number, is ignored: the viewer gets
/// the stream's full rate.
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
    let stream_route = get(stream);
    #[cfg(feature = "ingest")]
    let ingest_route = axum::routing::post(ingest);
    let router = Router::new()
        .route("/streams", get(list))
        .route("/streams/{name}/stream", stream_route)
        .route("/streams/{name}/snapshot", get(snapshot));
    #[cfg(feature = "ingest")]
    let router = router.route("/streams/{name}", ingest_route);
    router.with_state(streams)
}

async fn list(State(streams): State<Streams>) -> StreamReply {
    streams.list_reply()
}

async fn stream(
    State(streams): State<Streams>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> StreamReply {
    streams.subscribe(&name).max_fps(fps(query.as_deref()))
}

async fn snapshot(State(streams): State<Streams>, Path(name): Path<String>) -> StreamReply {
    streams.snapshot(&name)
}

/// `fps=N` from a query string.
fn fps(query: Option<&str>) -> Option<u32> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("fps="))
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
}

#[cfg(feature = "ingest")]
async fn ingest(
    State(streams): State<Streams>,
    Path(name): Path<String>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match streams.lookup(&name) {
        Ok(hub) => mjpeg_tower::ingest::Ingest::new()
            .request(req, &hub)
            .await
            .into_response(),
        Err(refused) => refused.into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fps_comes_from_the_query() {
        assert_eq!(super::fps(Some("fps=5")), Some(5));
        assert_eq!(super::fps(Some("a=1&fps=12")), Some(12));
        assert_eq!(super::fps(Some("fps=0")), None);
        assert_eq!(super::fps(Some("fps=x")), None);
        assert_eq!(super::fps(None), None);
    }
}
