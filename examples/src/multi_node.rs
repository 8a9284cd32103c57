//! The `multi-node` example: one origin renders the sine wave and publishes
//! it over NATS; edges, each its own process on its own port, feed a local
//! [`FrameHub`] from NATS and serve their own viewers.
//!
//! Run with `cargo run --release -p mjpeg-examples --bin multi-node` and
//! open <http://127.0.0.1:8080/>: the page shows the three edges side by
//! side. Without `--nats URL` the launcher starts a local `nats-server`
//! (Debian package `nats-server`) on a free port.
//!
//! - [`origin`]: render and publish, with or without viewers (the origin
//!   cannot see the edges' viewers);
//! - [`edge_app`]: an edge's routes, the sine example's plus `/nats`;
//! - [`launcher_app`]: the page showing every edge.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use mjpeg_nats::{EdgeStats, NatsEdge, NatsOrigin};
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::page::Page;
use crate::render::Size;
use crate::sine::{SPEED, SineScene};

/// The binary's usage.
pub const USAGE: &str = "usage: multi-node [--nats URL] [--addr 127.0.0.1:8080] [--edges 3]
       multi-node origin --nats URL [--fps 30] [--size 640x480] [--quality 80]
       multi-node edge --nats URL [--addr 127.0.0.1:8081]";

/// The stream's name: frames travel on subject `mjpeg.sine`.
pub const STREAM: &str = "sine";

/// How often an edge repeats its last frame when none comes (e.g. while the
/// broker restarts), so browsers keep it and dead viewers are found.
pub const EDGE_HEARTBEAT: Duration = Duration::from_secs(1);

/// Renders the sine wave at `fps` and publishes every frame to `origin`,
/// until aborted. Drawing and encoding run off the async threads.
pub fn origin(origin: NatsOrigin, fps: u32, size: Size, quality: u8) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut scene = Some(SineScene::new(size, quality));
        let mut ticker = tokio::time::interval(Duration::from_secs(1) / fps.max(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let started = Instant::now();
        for number in 0u64.. {
            ticker.tick().await;
            let phase = started.elapsed().as_secs_f32() * SPEED;
            let label = format!("frame {number} via NATS");
            let Some(mut current) = scene.take() else {
                return;
            };
            let job = tokio::task::spawn_blocking(move || {
                let rendered = current.render(phase, &label);
                (current, rendered)
            });
            match job.await {
                Ok((current, Ok(rendered))) => {
                    scene = Some(current);
                    origin.publish(Frame::jpeg(rendered.jpeg));
                }
                Ok((_, Err(err))) => return eprintln!("jpeg encoding failed: {err}"),
                Err(err) => return eprintln!("render task failed: {err}"),
            }
        }
    })
}

/// Connects an edge of [`STREAM`] to the broker at `url`, feeding `hub`.
///
/// # Errors
/// When the broker cannot be reached; the message says where it was looked for.
pub async fn edge(url: &str, hub: FrameHub) -> Result<NatsEdge, String> {
    let builder = NatsEdge::builder(STREAM).map_err(|e| e.to_string())?;
    builder.connect(url, hub).await.map_err(|e| e.to_string())
}

/// An edge's routes: `/`, `/stream`, `/snapshot`, `/stats` as in the sine
/// example (the hub does not know its frames come from NATS), and `/nats`
/// with the edge's [`EdgeStats`] as JSON.
pub fn edge_app(hub: FrameHub, edge: NatsEdge, name: &str) -> Router {
    let page = Page::new(format!("mjpeg-tower: {name}"))
        .stats(true)
        .intro(format!(
            "{name}: frames from subject {}; /nats has the bridge's counters.",
            edge.subject()
        ));
    let layer = MjpegLayer::new().heartbeat(Some(EDGE_HEARTBEAT));
    crate::broadcast::router(hub, layer, &page).route(
        "/nats",
        get(move || {
            let stats = edge.stats();
            async move { ([("content-type", "application/json")], edge_json(&stats)) }
        }),
    )
}

/// `stats` as a JSON object.
pub fn edge_json(stats: &EdgeStats) -> String {
    serde_json::json!({
        "frames_received": stats.frames_received,
        "frames_published": stats.frames_published,
        "latest_fetched": stats.latest_fetched,
        "incomplete": stats.incomplete,
        "slow_consumer": stats.slow_consumer,
        "connected": stats.connected,
        "disconnects": stats.disconnects,
        "reconnects": stats.reconnects,
        "last_latency_us": stats.last_latency.map(|d| d.as_micros() as u64),
        "last_error": stats.last_error,
    })
    .to_string()
}

/// The launcher's page: every edge's stream side by side.
pub fn launcher_app(edges: &[SocketAddr]) -> Router {
    let html = launcher_page(edges);
    Router::new().route("/", get(move || std::future::ready(Html(html.clone()))))
}

/// The HTML of [`launcher_app`]'s page.
pub fn launcher_page(edges: &[SocketAddr]) -> String {
    let tiles: String = edges
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            format!(
                "<figure><img src=\"http://{addr}/stream\" alt=\"edge {n}\" width=\"400\">\
                 <figcaption><a href=\"http://{addr}/\">edge {n}</a> ({addr})</figcaption></figure>\n",
                n = i + 1
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>mjpeg-tower: multi-node</title>\
         <style>body{{font-family:sans-serif;background:#111;color:#ddd}}\
         figure{{display:inline-block;margin:8px}}a{{color:#8cf}}</style></head>\n<body>\n\
         <h1>One origin, {count} edges, one NATS subject</h1>\n\
         <p>Each picture comes from a different edge process; each edge gets \
         every frame once from NATS and serves its own viewers.</p>\n{tiles}</body>\n</html>\n",
        count = edges.len()
    )
}
