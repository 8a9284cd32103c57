//! `/capped`: the hub behind a layer of its own with a small `max_clients`,
//! which the driver oversubscribes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use mjpeg_axum::MjpegLayer;

use super::counts::Counts;
use crate::Inject;
use crate::stats::CappedStats;

/// Streams `/capped` serves at once.
pub(crate) const MAX_CLIENTS: usize = 4;

/// The `Retry-After` of its refusals, in seconds.
pub(crate) const RETRY_AFTER_SECS: u64 = 2;

/// The capped route's layer and what its callbacks saw.
#[derive(Debug)]
pub(super) struct Capped {
    pub(super) layer: MjpegLayer,
    counts: Arc<Counts>,
    /// The most streams open at once, as `on_connect` saw them.
    peak: Arc<AtomicU64>,
}

impl Capped {
    pub(super) fn new(inject: Option<Inject>) -> Self {
        let counts = Arc::new(Counts::default());
        let peak = Arc::new(AtomicU64::new(0));
        let (on_connect, on_disconnect, high) =
            (Arc::clone(&counts), Arc::clone(&counts), Arc::clone(&peak));
        // The planted fault: the layer lets twice as many in as it says.
        let max = if inject == Some(Inject::CapOverrun) {
            MAX_CLIENTS * 2
        } else {
            MAX_CLIENTS
        };
        let layer = MjpegLayer::new()
            .max_clients(Some(max))
            .retry_after(Duration::from_secs(RETRY_AFTER_SECS))
            .heartbeat(Some(Duration::from_secs(1)))
            .on_connect(move |e| {
                on_connect.connected();
                high.fetch_max(e.active as u64, Relaxed);
            })
            .on_disconnect(move |e| on_disconnect.disconnected(e.reason));
        Self {
            layer,
            counts,
            peak,
        }
    }

    pub(super) fn read(&self) -> CappedStats {
        let (connects, disconnects, reasons) = self.counts.read();
        let layer = self.layer.stats();
        CappedStats {
            max_clients: MAX_CLIENTS as u64,
            open: layer.active as u64,
            peak: self.peak.load(Relaxed),
            rejected: layer.rejected,
            connects,
            disconnects,
            reasons,
        }
    }
}
