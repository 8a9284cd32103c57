//! The server's counters: connects and disconnects by reason (from the
//! layer's callbacks) and the producers' faults.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use mjpeg_axum::DisconnectReason;

use crate::stats::Faults;

/// What `on_connect` and `on_disconnect` saw.
#[derive(Debug, Default)]
pub(super) struct Counts {
    pub(super) connects: AtomicU64,
    pub(super) disconnects: AtomicU64,
    pub(super) reasons: [AtomicU64; 6],
    /// Disconnects seen, counted or not (for the injected fault).
    pub(super) seen: AtomicU64,
    /// The injected fault: skip counting every tenth disconnect.
    pub(super) skip_tenth: bool,
}

impl Counts {
    pub(super) fn connected(&self) {
        self.connects.fetch_add(1, Relaxed);
    }

    pub(super) fn disconnected(&self, reason: DisconnectReason) {
        let n = self.seen.fetch_add(1, Relaxed);
        if self.skip_tenth && n % 10 == 9 {
            return;
        }
        let index = match reason {
            DisconnectReason::Completed => 0,
            DisconnectReason::ClientClosed => 1,
            DisconnectReason::Stopped => 2,
            DisconnectReason::ProducerError => 3,
            DisconnectReason::Overflow => 4,
            _ => 5,
        };
        self.disconnects.fetch_add(1, Relaxed);
        self.reasons[index].fetch_add(1, Relaxed);
    }

    /// `(connects, disconnects, reasons)` now.
    pub(super) fn read(&self) -> (u64, u64, [u64; 6]) {
        (
            self.connects.load(Relaxed),
            self.disconnects.load(Relaxed),
            std::array::from_fn(|i| self.reasons[i].load(Relaxed)),
        )
    }
}

/// What the producers did wrong on purpose.
#[derive(Debug, Default)]
pub(super) struct FaultCounts {
    pub(super) stalls: AtomicU64,
    pub(super) empty_frames: AtomicU64,
    pub(super) empty_accepted: AtomicU64,
    pub(super) big_frames: AtomicU64,
    pub(super) hubs_replaced: AtomicU64,
    pub(super) stream_errors: AtomicU64,
    pub(super) stream_panics: AtomicU64,
    pub(super) stream_stalls: AtomicU64,
}

impl FaultCounts {
    pub(super) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(super) fn read(&self) -> Faults {
        Faults {
            stalls: self.stalls.load(Relaxed),
            empty_frames: self.empty_frames.load(Relaxed),
            empty_accepted: self.empty_accepted.load(Relaxed),
            big_frames: self.big_frames.load(Relaxed),
            hubs_replaced: self.hubs_replaced.load(Relaxed),
            stream_errors: self.stream_errors.load(Relaxed),
            stream_panics: self.stream_panics.load(Relaxed),
            stream_stalls: self.stream_stalls.load(Relaxed),
        }
    }
}
