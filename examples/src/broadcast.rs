//! The axum router shared by the broadcast examples (`sine`, `relay`): a
//! [`FrameHub`] behind `/stream`, `/snapshot` and `/stats`, and a page at `/`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::{Router, routing::get};
use mjpeg_tower::{FrameHub, MjpegLayer, Snapshot, Subscribe};

use crate::page::Page;
use crate::stats::StatsReport;

/// What the handlers share.
#[derive(Clone, Debug)]
struct AppState {
    hub: FrameHub,
    /// A clone of the layer wrapping the router: clones share their counters.
    layer: MjpegLayer,
    page: Arc<str>,
}

/// Routes for `hub`, wrapped in `layer`:
///
/// | route | answer |
/// |---|---|
/// | `/` | `page` |
/// | `/stream` | the live MJPEG stream ([`FrameHub::subscribe`]) |
/// | `/snapshot` | the latest frame as one JPEG ([`FrameHub::snapshot`]) |
/// | `/stats` | a [`StatsReport`] as JSON |
pub fn router(hub: FrameHub, layer: MjpegLayer, page: &Page) -> Router {
    let state = AppState {
        hub,
        layer: layer.clone(),
        page: page.render().into(),
    };
    Router::new()
        .route("/", get(index))
        .route("/stream", get(stream))
        .route("/snapshot", get(snapshot))
        .route("/stats", get(stats))
        .with_state(state)
        .layer(layer)
}

async fn index(State(state): State<AppState>) -> Html<String> {
    Html(state.page.to_string())
}

async fn stream(State(state): State<AppState>) -> Subscribe {
    state.hub.subscribe()
}

async fn snapshot(State(state): State<AppState>) -> Snapshot {
    state.hub.snapshot()
}

async fn stats(State(state): State<AppState>) -> impl IntoResponse {
    let report = StatsReport::collect(&state.hub, &state.layer);
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        report.to_json(),
    )
}
