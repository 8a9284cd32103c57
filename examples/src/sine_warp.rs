//! The `sine-warp` example: the `sine` endpoints as warp filters.
//!
//! Run with `cargo run --release -p mjpeg-examples --bin sine-warp -- [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]`
//! and open <http://127.0.0.1:8080/>.
//!
//! warp filters are not tower services but `warp::service(filter)` is:
//! [`mjpeg_warp::serve_with`] wraps it in the [`MjpegLayer`] and serves it.

use mjpeg_tower::{FrameHub, MjpegLayer};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::{Filter, Rejection, Reply};

use crate::stats::StatsReport;

/// The `sine-warp` binary's usage line.
pub const USAGE: &str =
    "usage: sine-warp [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]";

/// The sine routes (`/`, `/stream`, `/snapshot`, `/stats`) for `hub`, as one warp filter.
///
/// `layer` is only read for `/stats`: serve the filter behind the same layer
/// (or a clone of it), as [`mjpeg_warp::serve_with`] does.
pub fn app(
    hub: FrameHub,
    layer: MjpegLayer,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let page = crate::sine::page().render();
    let index = warp::path::end().map(move || warp::reply::html(page.clone()));
    let h = hub.clone();
    let stream = warp::path!("stream").map(move || h.subscribe());
    let h = hub.clone();
    let snapshot = warp::path!("snapshot").map(move || h.snapshot());
    let stats = warp::path!("stats").map(move || {
        let json = StatsReport::collect(&hub, &layer).to_json();
        let reply = warp::reply::with_header(json, CONTENT_TYPE, "application/json");
        warp::reply::with_header(reply, CACHE_CONTROL, "no-store")
    });
    warp::get().and(index.or(stream).or(snapshot).or(stats))
}
