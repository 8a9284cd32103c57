//! The hub servers: a [`FrameHub`] behind [`MjpegLayer`] with the default
//! framing (`Framing::AdvanceHeaders`, or `Framing::Standard` with
//! `--standard`), served by the axum or the warp adapter, fed by a paced or an
//! unpaced producer. Frames carry no headers of their own (that would turn
//! `AdvanceHeaders` into `Standard`): sequence number and publish time ride
//! in the payload (see `crate::stamp`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mjpeg_tower::server::{Server, TlsConfig};
use mjpeg_tower::{Frame, FrameHub, Framing, MjpegLayer};
use serde_json::json;
use tokio::time::MissedTickBehavior;

use super::{Kind, Opts, StatsFn};
use crate::stamp::stamped;
use crate::sys::unix_nanos;

pub(super) async fn start_hub(
    opts: &Opts,
    addr: SocketAddr,
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
) -> Result<(StatsFn, SocketAddr), String> {
    let hub = FrameHub::new();
    let mut layer = MjpegLayer::new();
    if opts.standard {
        layer = layer.framing(Framing::Standard);
    }
    if let Some(hwm) = opts.hwm {
        layer = layer.high_water_mark(hwm);
    }
    // `Server`'s defaults, except the connection cap (4096) when more viewers
    // than that come (the 10,000-viewer scenario).
    let mut server = Server::new();
    if opts.viewers + 64 > mjpeg_tower::server::DEFAULT_MAX_CONNECTIONS {
        server = server.max_connections(Some(opts.viewers + 64));
    }
    if opts.bare {
        server = server.write_stall_timeout(None).idle_timeout(None);
    }
    if let Some((cert, key)) = &opts.tls {
        let tls = TlsConfig::from_pem_files(cert, key).map_err(|e| format!("TLS: {e}"))?;
        server = server.tls(Some(tls));
    }
    let listener = server
        .bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    match opts.kind {
        Kind::Axum => {
            use axum::extract::State;
            let app = axum::Router::new()
                .route(
                    "/stream",
                    axum::routing::get(
                        |State(hub): State<FrameHub>| async move { hub.subscribe() },
                    ),
                )
                .with_state(hub.clone())
                .layer(layer.clone());
            // What `mjpeg_axum::serve` does, with the TLS setting.
            tokio::spawn(server.serve(listener, app));
        }
        Kind::Warp => {
            use warp::Filter;
            let h = hub.clone();
            let routes = warp::path("stream")
                .and(warp::path::end())
                .map(move || h.subscribe());
            tokio::spawn(mjpeg_warp::serve_with(
                server,
                listener,
                warp::service(routes),
                layer.clone(),
                std::future::pending(),
            ));
        }
        Kind::Raw | Kind::Hyper => unreachable!(),
    }
    let producer = HubProducer {
        hub: hub.clone(),
        payloads,
        published: Arc::clone(&published),
    };
    if opts.unpaced {
        // A tick may refill at most what a queue holds.
        let hwm = opts.hwm.unwrap_or(mjpeg_tower::DEFAULT_HIGH_WATER_MARK);
        let per_tick = (hwm / opts.size.max(1) + 1).max(2) as f64;
        tokio::spawn(producer.unpaced(layer.clone(), per_tick));
    } else {
        tokio::spawn(producer.paced(opts.fps));
    }
    let stats: StatsFn = Arc::new(move || {
        let h = hub.stats();
        let l = layer.stats();
        json!({
            "published": published.load(Relaxed),
            "viewers": h.viewers,
            "hub_delivered": h.delivered,
            "hub_dropped": h.dropped,
            "min_delivered": h.min_delivered,
            "max_dropped": h.max_dropped,
            "max_queued_bytes": h.max_queued_bytes,
            "frames_sent": l.frames_sent,
            "frames_dropped": l.frames_dropped,
            "bytes_sent": l.bytes_sent,
            "overflow_events": l.overflow_events,
            "queued_bytes": l.queued_bytes,
            "budget_shed": l.budget_shed,
            "budget_refused": l.budget_refused,
            "budget_disconnects": l.budget_disconnects,
            "active": l.active,
            "total_connections": l.total_connections,
            "status": format!("{:?}", l.status),
        })
    });
    Ok((stats, local))
}

/// How often the unpaced producer looks at what viewers took.
const TICK: Duration = Duration::from_millis(1);

/// How many ticks of what the average viewer takes the unpaced producer
/// keeps queued for it.
const DEPTH_TICKS: f64 = 3.0;

/// The fewest frames the unpaced producer keeps queued for the average viewer.
const MIN_DEPTH: f64 = 2.0;

struct HubProducer {
    hub: FrameHub,
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
}

impl HubProducer {
    fn publish(&self) {
        let seq = self.published.fetch_add(1, Relaxed);
        let base = &self.payloads[(seq % self.payloads.len() as u64) as usize];
        self.hub
            .publish(Frame::new(stamped(base, seq, unix_nanos())));
    }

    async fn paced(self, fps: f64) {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / fps));
        loop {
            tick.tick().await;
            self.publish();
        }
    }

    /// Publishes as fast as viewers take frames, without spinning: every
    /// millisecond it measures how many frames the average viewer took
    /// (`MjpegLayer::stats().frames_sent`, O(1)) and publishes 1.3x that rate
    /// plus a little, so queues stay non-empty and keep-latest drops the excess.
    /// A viewer can get at most one queue (high-water mark) per tick.
    ///
    /// It holds back while the average queue is deeper than [`DEPTH_TICKS`]
    /// ticks of what a viewer takes (at least [`MIN_DEPTH`] frames): deeper
    /// queues only add latency, and at 1,000 viewers full ones (512 KiB
    /// each) would hold twice the layer's memory budget, which then sheds
    /// frames and refuses the viewers still connecting. That is the
    /// budget's overload path, not the fan-out this scenario measures.
    async fn unpaced(self, layer: MjpegLayer, max_per_tick: f64) {
        const FLOOR_FPS: f64 = 20.0;
        const OVERSHOOT: f64 = 1.3;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let size = self
            .payloads
            .iter()
            .map(Bytes::len)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let mut last = Instant::now();
        let mut last_sent = layer.stats().frames_sent;
        let mut credit = 1.0;
        loop {
            tick.tick().await;
            let now = Instant::now();
            let dt = now.duration_since(last).as_secs_f64().max(1e-4);
            last = now;
            let stats = layer.stats();
            let taken = stats.frames_sent.saturating_sub(last_sent) as f64;
            last_sent = stats.frames_sent;
            let viewers = self.hub.viewers().max(1) as f64;
            let per_viewer = taken / viewers;
            let rate = per_viewer / dt * OVERSHOOT + FLOOR_FPS;
            credit = (credit + rate * dt).min(max_per_tick);
            // What a viewer takes in one tick's time, however late this
            // tick came: a tick 50 ms late on saturated cores would
            // otherwise allow queues 50 times deeper than meant, and with
            // 1,000 viewers that passes the layer's memory budget, which
            // then answers the viewers still connecting 503.
            let per_tick = per_viewer * TICK.as_secs_f64() / dt;
            let max_depth = (per_tick * DEPTH_TICKS).max(MIN_DEPTH);
            let mut depth = stats.queued_bytes as f64 / viewers / size;
            while credit >= 1.0 && depth < max_depth {
                credit -= 1.0;
                depth += 1.0;
                self.publish();
            }
        }
    }
}
