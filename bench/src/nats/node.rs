//! The origin and edge nodes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use mjpeg_nats::{NatsEdge, NatsOrigin};
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use serde_json::json;

use super::STREAM;
use crate::server::{StatsFn, payloads};
use crate::stamp::stamped;
use crate::sys::unix_nanos;

/// Publishes `fps` frames of `size` bytes per second; stats say how many
/// (`published`, the sequence the driver opens and closes windows with).
pub(super) async fn origin(url: &str, fps: f64, size: usize) -> Result<(StatsFn, String), String> {
    let origin = NatsOrigin::builder(STREAM)
        .map_err(|e| e.to_string())?
        .connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let published = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&published);
    let producer = origin.clone();
    let payloads = payloads(size);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / fps));
        loop {
            tick.tick().await;
            let seq = counter.fetch_add(1, Relaxed);
            let base = &payloads[(seq % payloads.len() as u64) as usize];
            producer.publish(Frame::new(stamped(base, seq, unix_nanos())));
        }
    });
    let stats: StatsFn = Arc::new(move || {
        let s = origin.stats();
        json!({
            "published": published.load(Relaxed),
            "sent": s.published,
            "dropped": s.dropped,
            "dropped_disconnected": s.dropped_disconnected,
            "publish_errors": s.publish_errors,
            "disconnects": s.disconnects,
            "reconnects": s.reconnects,
            "latest_requests": s.latest_requests,
        })
    });
    Ok((stats, "-".to_owned()))
}

/// Serves a hub fed from NATS, as `bench server --kind axum` serves its own.
pub(super) async fn edge(url: &str) -> Result<(StatsFn, String), String> {
    use axum::extract::State;
    let hub = FrameHub::new();
    let edge = NatsEdge::builder(STREAM)
        .map_err(|e| e.to_string())?
        .connect(url, hub.clone())
        .await
        .map_err(|e| e.to_string())?;
    // The default framing, as users get it.
    let layer = MjpegLayer::new();
    let listener = mjpeg_axum::bind(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = axum::Router::new()
        .route(
            "/stream",
            axum::routing::get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .with_state(hub.clone())
        .layer(layer.clone());
    tokio::spawn(mjpeg_axum::serve(listener, app));
    let stats: StatsFn = Arc::new(move || {
        let (h, l, e) = (hub.stats(), layer.stats(), edge.stats());
        json!({
            "viewers": h.viewers,
            "hub_published": h.published,
            "hub_dropped": h.dropped,
            "frames_sent": l.frames_sent,
            "frames_received": e.frames_received,
            "incomplete": e.incomplete,
            "slow_consumer": e.slow_consumer,
            "disconnects": e.disconnects,
            "reconnects": e.reconnects,
        })
    });
    Ok((stats, addr.to_string()))
}
