//! [`Connection`]: one open stream, counted in when it opens and reported
//! exactly once when it is dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::lifecycle::callbacks::Callbacks;
use crate::lifecycle::events::{ConnectEvent, ConnectionStats, DisconnectEvent, DisconnectReason};
use crate::lifecycle::info::{ConnectionInfo, RequestInfo};
use crate::lifecycle::outcome::Outcome;
use crate::lifecycle::stats::StatsCell;
use crate::lifecycle::telemetry::Meter;

/// One open streaming connection. Counted in on creation; its `Drop` is the
/// disconnect hook, so `on_disconnect` fires exactly once, however it ends.
pub(crate) struct Connection {
    callbacks: Arc<Callbacks>,
    stats_cell: Arc<StatsCell>,
    meter: Arc<Meter>,
    info: ConnectionInfo,
    pub(crate) stats: ConnectionStats,
    pub(crate) outcome: Outcome,
}

impl Connection {
    /// Opens a connection once [`StatsCell::try_acquire`] gave it a slot, and
    /// runs `on_connect`.
    pub(crate) fn open(
        callbacks: Arc<Callbacks>,
        stats_cell: Arc<StatsCell>,
        meter: Arc<Meter>,
        req: RequestInfo,
        active: usize,
    ) -> Self {
        let info = ConnectionInfo::new(stats_cell.next_id(), &req);
        // Built before the callback runs: if it panics, `Drop` still gives the slot back.
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "mjpeg_tower", stream = meter.stream(), id = info.id(), active, "viewer connected");
        let conn = Self {
            callbacks,
            stats_cell,
            meter,
            info,
            stats: ConnectionStats::default(),
            outcome: Outcome::new(req.stall),
        };
        if let Some(cb) = &conn.callbacks.on_connect {
            (cb.0)(&ConnectEvent {
                info: &conn.info,
                active,
            });
        }
        conn
    }

    pub(crate) fn stats_cell(&self) -> &StatsCell {
        &self.stats_cell
    }

    /// The layer's counters, for a body to keep at hand.
    pub(crate) fn stats_cell_arc(&self) -> Arc<StatsCell> {
        self.stats_cell.clone()
    }

    pub(crate) fn meter(&self) -> &Meter {
        &self.meter
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let reason = self.outcome.reason();
        if reason == DisconnectReason::Overflow {
            self.stats_cell.record_overflow();
        }
        self.stats.duration = self.info.connected_at().elapsed();
        let active = self.stats_cell.release();
        self.meter.disconnected(reason);
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "mjpeg_tower",
            stream = self.meter.stream(),
            id = self.info.id(),
            %reason,
            frames_sent = self.stats.frames_sent,
            frames_dropped = self.stats.frames_dropped,
            bytes_sent = self.stats.bytes_sent,
            duration_ms = self.stats.duration.as_millis() as u64,
            active,
            "viewer left"
        );
        let (callbacks, info, stats, outcome) =
            (&self.callbacks, &self.info, &self.stats, &self.outcome);
        // A panic unwinding out of a destructor aborts the process when it
        // runs during another unwind (a panicking `on_connect`, say): the
        // callbacks' panics stop here. The panic hook has reported them.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Some(cb) = &callbacks.on_disconnect {
                (cb.0)(&DisconnectEvent {
                    info,
                    reason,
                    stats,
                    error: outcome.error(),
                    active,
                });
            }
        }));
        if active == 0 {
            if let Some(cb) = &callbacks.on_idle {
                let _ = catch_unwind(AssertUnwindSafe(|| (cb.0)()));
            }
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("info", &self.info)
            .field("stats", &self.stats)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}
