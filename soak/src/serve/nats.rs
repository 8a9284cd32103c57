//! `/nats`: a hub fed over NATS, as `examples/multi-node` does. A
//! [`NatsOrigin`] publishes numbered frames at 25 fps to the broker the
//! driver runs (and kills and restarts); a [`NatsEdge`] in this same process
//! feeds the hub that `/nats` serves.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mjpeg_axum::{Frame, FrameHub};
use mjpeg_nats::{NatsEdge, NatsOrigin};
use tokio::time::MissedTickBehavior;

use super::producer::FRAME_INTERVAL;
use crate::Inject;
use crate::payload;
use crate::stats::NatsStats;

/// The generation the NATS frames carry (hub generations start at 1).
pub(crate) const NATS_GENERATION: u64 = 0;

/// The NATS side of the server.
#[derive(Debug)]
pub(super) struct Nats {
    pub(super) hub: FrameHub,
    origin: NatsOrigin,
    /// `None` once the planted fault dropped it.
    edge: Mutex<Option<NatsEdge>>,
    /// Frames the origin took (`publish` returned `true`), numbered from 1.
    attempts: AtomicU64,
    /// The edge's counters when it was dropped (the planted fault).
    dropped_edge: Mutex<Option<mjpeg_nats::EdgeStats>>,
}

impl Nats {
    /// Connects the origin and the edge to `url` and starts publishing.
    pub(super) async fn start(url: &str, inject: Option<Inject>) -> Result<Arc<Self>, String> {
        let origin = NatsOrigin::builder("soak")
            .map_err(|e| e.to_string())?
            .connect(url)
            .await
            .map_err(|e| format!("NATS origin: {e}"))?;
        let hub = FrameHub::builder()
            .snapshot_timeout(Duration::from_secs(2))
            .build();
        let edge = NatsEdge::builder("soak")
            .map_err(|e| e.to_string())?
            .connect(url, hub.clone())
            .await
            .map_err(|e| format!("NATS edge: {e}"))?;
        let nats = Arc::new(Self {
            hub,
            origin,
            edge: Mutex::new(Some(edge)),
            attempts: AtomicU64::new(0),
            dropped_edge: Mutex::new(None),
        });
        tokio::spawn(publish(Arc::clone(&nats)));
        if inject == Some(Inject::NatsEdge) {
            tokio::spawn(drop_edge_on_disconnect(Arc::clone(&nats)));
        }
        Ok(nats)
    }

    pub(super) fn read(&self) -> NatsStats {
        let o = self.origin.stats();
        let edge = self.edge.lock().unwrap_or_else(PoisonError::into_inner);
        let e = edge.as_ref().map(NatsEdge::stats).unwrap_or_else(|| {
            self.dropped_edge
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .unwrap_or_default()
        });
        let hub = self.hub.stats();
        NatsStats {
            attempts: self.attempts.load(Relaxed),
            origin_published: o.published,
            origin_dropped: o.dropped + o.dropped_disconnected + o.publish_errors,
            origin_connected: o.connected,
            origin_disconnects: o.disconnects,
            origin_reconnects: o.reconnects,
            edge_received: e.frames_received,
            edge_published: e.frames_published,
            edge_latest_fetched: e.latest_fetched,
            edge_connected: e.connected,
            edge_disconnects: e.disconnects,
            edge_reconnects: e.reconnects,
            hub_published: hub.published,
            hub_viewers: hub.viewers as u64,
        }
    }
}

/// Numbered frames of 2-30 KB at 25 fps, forever.
async fn publish(nats: Arc<Nats>) {
    let mut tick = tokio::time::interval(FRAME_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut len = 2_000;
    loop {
        tick.tick().await;
        let seq = nats.attempts.load(Relaxed) + 1;
        len = (len * 7 + 3_001) % 28_000 + 2_000;
        if nats
            .origin
            .publish(Frame::jpeg(payload::build(NATS_GENERATION, seq, len)))
        {
            nats.attempts.store(seq, Relaxed);
        }
    }
}

/// The planted fault: the edge is dropped when the broker goes away, so
/// live frames never resume.
async fn drop_edge_on_disconnect(nats: Arc<Nats>) {
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut edge = nats.edge.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stats) = edge.as_ref().map(NatsEdge::stats) {
            if !stats.connected {
                *nats
                    .dropped_edge
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(stats);
                *edge = None;
                return;
            }
        }
    }
}
