//! What a queue's pushes and pops cost the layer: its count of queued
//! bytes and dropped frames (and the metrics), and the memory budget's
//! decisions.

use std::sync::MutexGuard;

use super::{Pushed, State, ViewerQueue, wake};
use crate::lifecycle::outcome::End;

impl ViewerQueue {
    /// Whether queuing `len` more bytes would exceed the layer's memory
    /// budget while this viewer, with them, holds at least the average share.
    pub(super) fn over_budget(&self, state: &State, len: usize) -> bool {
        let Some(budget) = self.limits.budget else {
            return false;
        };
        // Measured as if the frame were queued: within one publish round the
        // viewers pushed to earlier have grown, so a viewer compared before
        // its own frame would always look below the average.
        let total = self.stats.queued() + len;
        total > budget && state.bytes() + len >= total / self.stats.active().max(1)
    }

    /// Whether the layer's viewers queue one and a half times its budget.
    pub(super) fn far_over_budget(&self) -> bool {
        self.limits
            .budget
            .is_some_and(|budget| self.stats.queued() >= budget.saturating_add(budget / 2))
    }

    /// Through `state`'s handle on the counters, which shares its cache line.
    pub(super) fn add_queued(&self, state: &State, bytes: usize) {
        state.stats.add_queued(bytes);
        self.meter.queued(bytes);
    }

    pub(super) fn sub_queued(&self, state: &State, bytes: usize) {
        state.stats.sub_queued(bytes);
        self.meter.unqueued(bytes);
    }

    pub(super) fn record_dropped(&self, frames: u64) {
        self.stats.record_dropped(frames);
        self.meter.dropped(frames);
    }

    /// Frees the queued frames.
    pub(super) fn clear(&self, state: &mut State) {
        let bytes = state.clear();
        self.sub_queued(state, bytes);
    }

    /// Ends the viewer at once with `end`, its queued frames and the one
    /// offered lost.
    pub(super) fn end_now(&self, mut state: MutexGuard<'_, State>, end: End) -> Pushed {
        let lost = state.len() as u64 + 1;
        state.cold.dropped += lost;
        self.record_dropped(lost);
        if matches!(end, End::OverBudget) {
            self.stats.record_budget_disconnect();
        }
        #[cfg(feature = "tracing")]
        tracing::warn!(
            target: "mjpeg_tower",
            stream = self.meter.stream(),
            budget = matches!(end, End::OverBudget),
            "viewer fell behind; disconnecting it"
        );
        self.clear(&mut state);
        state.end(end);
        let waker = state.consumer.take();
        drop(state);
        wake(waker);
        Pushed::Overflow
    }
}
