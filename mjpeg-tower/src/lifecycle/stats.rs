//! Counters for a layer, and its status.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

/// How long a drop or an overflow colours the [`Status`].
const RECENT: Duration = Duration::from_secs(2);

/// What a layer is doing, like the Node-RED encoder's status colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// No viewer is connected.
    Idle,
    /// Viewers are connected and get every frame.
    Streaming,
    /// Frames were dropped for a slow viewer in the last two seconds.
    Dropping,
    /// A viewer overflowed (was disconnected, or held a per-request stream back
    /// under [`OverflowPolicy::Wait`](crate::OverflowPolicy::Wait)) in the last two seconds.
    Overflowing,
}

impl Status {
    /// The status as a lowercase word: `idle`, `streaming`, `dropping`, `overflowing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Streaming => "streaming",
            Status::Dropping => "dropping",
            Status::Overflowing => "overflowing",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of a layer's counters, from [`MjpegLayer::stats`](crate::MjpegLayer::stats).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Streaming connections open now.
    pub active: usize,
    /// Streaming connections ever opened.
    pub total_connections: u64,
    /// Streaming requests answered `503` because of `max_clients`.
    pub rejected: u64,
    /// Frames handed to connections, summed over viewers.
    pub frames_sent: u64,
    /// Frames dropped or skipped, summed over viewers.
    pub frames_dropped: u64,
    /// Body bytes handed to connections.
    pub bytes_sent: u64,
    /// Times a viewer's queue was found at its high-water mark, plus overflow disconnects.
    pub overflow_events: u64,
    /// Bytes queued across all viewers now, as charged against the
    /// [memory budget](crate::MjpegLayer::memory_budget).
    pub queued_bytes: usize,
    /// Frames dropped by the memory budget's first step: shed from the
    /// viewers with the most queued (also counted in `frames_dropped`).
    pub budget_shed: u64,
    /// Streaming requests answered `503` by the budget's second step.
    pub budget_refused: u64,
    /// Viewers disconnected by the budget's third step
    /// ([`DisconnectReason::MemoryBudget`](crate::DisconnectReason::MemoryBudget)).
    pub budget_disconnects: u64,
    /// What the layer is doing now.
    pub status: Status,
}

/// The shared, lock-free counters behind [`Stats`].
#[derive(Debug)]
pub(crate) struct StatsCell {
    epoch: Instant,
    next_id: AtomicU64,
    active: AtomicUsize,
    total: AtomicU64,
    rejected: AtomicU64,
    frames_sent: AtomicU64,
    frames_dropped: AtomicU64,
    bytes_sent: AtomicU64,
    overflows: AtomicU64,
    /// Charged bytes queued across viewers, and the memory budget's steps.
    queued: AtomicUsize,
    budget_shed: AtomicU64,
    budget_refused: AtomicU64,
    budget_disconnects: AtomicU64,
    /// Milliseconds since `epoch` + 1 of the last drop / overflow (0: never).
    last_drop: AtomicU64,
    last_overflow: AtomicU64,
}

impl StatsCell {
    pub(crate) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            next_id: AtomicU64::new(1),
            active: AtomicUsize::new(0),
            total: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            frames_sent: AtomicU64::new(0),
            frames_dropped: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            overflows: AtomicU64::new(0),
            queued: AtomicUsize::new(0),
            budget_shed: AtomicU64::new(0),
            budget_refused: AtomicU64::new(0),
            budget_disconnects: AtomicU64::new(0),
            last_drop: AtomicU64::new(0),
            last_overflow: AtomicU64::new(0),
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed)
    }

    /// Takes a connection slot unless `max` are open; returns the new count.
    pub(crate) fn try_acquire(&self, max: Option<usize>) -> Option<usize> {
        let max = max.unwrap_or(usize::MAX);
        let mut current = self.active.load(Relaxed);
        loop {
            if current >= max {
                self.rejected.fetch_add(1, Relaxed);
                return None;
            }
            match self
                .active
                .compare_exchange_weak(current, current + 1, Relaxed, Relaxed)
            {
                Ok(_) => {
                    self.total.fetch_add(1, Relaxed);
                    return Some(current + 1);
                }
                Err(now) => current = now,
            }
        }
    }

    /// Whether `max` connections are open, so a new one would be refused.
    pub(crate) fn is_full(&self, max: Option<usize>) -> bool {
        max.is_some_and(|max| self.active.load(Relaxed) >= max)
    }

    /// Gives a slot back; returns the count left.
    pub(crate) fn release(&self) -> usize {
        self.active.fetch_sub(1, Relaxed) - 1
    }

    pub(crate) fn record_sent(&self, frames: u64, bytes: u64) {
        if frames > 0 {
            self.frames_sent.fetch_add(frames, Relaxed);
        }
        self.bytes_sent.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn record_dropped(&self, frames: u64) {
        self.frames_dropped.fetch_add(frames, Relaxed);
        self.last_drop.store(self.now_mark(), Relaxed);
    }

    /// A queue was found at its high-water mark; the policy handled it.
    pub(crate) fn record_overflow_event(&self) {
        self.overflows.fetch_add(1, Relaxed);
    }

    /// A viewer overflowed: it was disconnected, or it is holding its producer back.
    pub(crate) fn record_overflow(&self) {
        self.overflows.fetch_add(1, Relaxed);
        self.last_overflow.store(self.now_mark(), Relaxed);
    }

    /// Streams open now.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Relaxed)
    }

    /// Charged bytes queued across viewers now.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Relaxed)
    }

    pub(crate) fn add_queued(&self, bytes: usize) {
        self.queued.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn sub_queued(&self, bytes: usize) {
        if bytes > 0 {
            self.queued.fetch_sub(bytes, Relaxed);
        }
    }

    /// The budget's first step shed `frames` from a viewer with much queued.
    pub(crate) fn record_budget_shed(&self, frames: u64) {
        self.budget_shed.fetch_add(frames, Relaxed);
        self.record_dropped(frames);
    }

    /// The budget's second step refused a new viewer.
    pub(crate) fn record_budget_refused(&self) {
        self.budget_refused.fetch_add(1, Relaxed);
    }

    /// The budget's third step disconnected a viewer.
    pub(crate) fn record_budget_disconnect(&self) {
        self.budget_disconnects.fetch_add(1, Relaxed);
        self.record_overflow();
    }

    fn now_mark(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn recent(&self, mark: &AtomicU64) -> bool {
        let mark = mark.load(Relaxed);
        mark != 0 && self.now_mark().saturating_sub(mark) < RECENT.as_millis() as u64
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let active = self.active.load(Relaxed);
        let status = if active == 0 {
            Status::Idle
        } else if self.recent(&self.last_overflow) {
            Status::Overflowing
        } else if self.recent(&self.last_drop) {
            Status::Dropping
        } else {
            Status::Streaming
        };
        Stats {
            active,
            total_connections: self.total.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            frames_sent: self.frames_sent.load(Relaxed),
            frames_dropped: self.frames_dropped.load(Relaxed),
            bytes_sent: self.bytes_sent.load(Relaxed),
            overflow_events: self.overflows.load(Relaxed),
            queued_bytes: self.queued.load(Relaxed),
            budget_shed: self.budget_shed.load(Relaxed),
            budget_refused: self.budget_refused.load(Relaxed),
            budget_disconnects: self.budget_disconnects.load(Relaxed),
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_respects_the_limit_and_counts_rejections() {
        let cell = StatsCell::new();
        assert_eq!(cell.try_acquire(Some(2)), Some(1));
        assert_eq!(cell.try_acquire(Some(2)), Some(2));
        assert_eq!(cell.try_acquire(Some(2)), None);
        assert_eq!(cell.release(), 1);
        assert_eq!(cell.try_acquire(Some(2)), Some(2));
        let stats = cell.snapshot();
        assert_eq!(
            (stats.active, stats.total_connections, stats.rejected),
            (2, 3, 1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn status_follows_recent_drops_and_overflows() {
        let cell = StatsCell::new();
        assert_eq!(cell.snapshot().status, Status::Idle);
        cell.try_acquire(None);
        assert_eq!(cell.snapshot().status, Status::Streaming);
        cell.record_dropped(3);
        assert_eq!(cell.snapshot().status, Status::Dropping);
        cell.record_overflow();
        assert_eq!(cell.snapshot().status, Status::Overflowing);
        tokio::time::advance(RECENT + Duration::from_millis(10)).await;
        assert_eq!(cell.snapshot().status, Status::Streaming);
        assert_eq!(cell.snapshot().frames_dropped, 3);
    }
}
