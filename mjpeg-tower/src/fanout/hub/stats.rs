//! [`HubStats`]: a hub's counters.

use std::sync::PoisonError;
use std::sync::atomic::Ordering::Relaxed;

use super::FrameHub;

/// A snapshot of a hub's counters, from [`FrameHub::stats`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubStats {
    /// Frames accepted by [`FrameHub::publish`].
    pub published: u64,
    /// Frames skipped as duplicates of the previous one.
    pub duplicates_skipped: u64,
    /// Viewers now.
    pub viewers: usize,
    /// Frames delivered, summed over all viewers ever.
    pub delivered: u64,
    /// Frames dropped or skipped by overflow policies and fps limits, summed over all viewers ever.
    pub dropped: u64,
    /// The fewest frames any current viewer has been delivered (0 with no viewers).
    pub min_delivered: u64,
    /// The most frames any current viewer has dropped.
    pub max_dropped: u64,
    /// The most bytes queued in the layer for any current viewer, each frame
    /// charged its payload plus a fixed overhead of under 1 KiB: bounded by
    /// the layer's high-water mark plus one frame.
    pub max_queued_bytes: usize,
    /// Whether [`FrameHub::stop`] was called.
    pub stopped: bool,
}

impl FrameHub {
    /// The hub's counters now.
    pub fn stats(&self) -> HubStats {
        let viewers = self
            .inner
            .viewers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut stats = HubStats {
            published: self.inner.published.load(Relaxed),
            duplicates_skipped: self.inner.duplicates.load(Relaxed),
            viewers: viewers.len(),
            delivered: self.inner.gone_delivered.load(Relaxed),
            dropped: self.inner.gone_dropped.load(Relaxed),
            min_delivered: if viewers.is_empty() { 0 } else { u64::MAX },
            max_dropped: 0,
            max_queued_bytes: 0,
            stopped: self.is_stopped(),
        };
        for queue in viewers.values() {
            let (delivered, dropped, queued) = queue.counts();
            stats.delivered += delivered;
            stats.dropped += dropped;
            stats.min_delivered = stats.min_delivered.min(delivered);
            stats.max_dropped = stats.max_dropped.max(dropped);
            stats.max_queued_bytes = stats.max_queued_bytes.max(queued);
        }
        stats
    }
}
