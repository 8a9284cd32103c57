//! The per-viewer queue: whole frames, bounded in bytes, with an overflow policy.
//!
//! A producer (the hub's `publish`, or the task that drives a per-request
//! stream) pushes; the viewer's body pops. It knows nothing of HTTP.
//!
//! A queued frame is charged its payload plus [`FRAME_OVERHEAD`], what
//! holding it costs besides the payload, so a viewer that never reads is
//! bounded in memory whatever the frame sizes: a million tiny frames cannot
//! hide under a high-water mark that counts payload bytes only.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::time::Instant;

use crate::fanout::encoded::SharedFrame;
use crate::fanout::pace::Pace;
use crate::fanout::policy::{OverflowPolicy, QueueLimits};
use crate::lifecycle::outcome::End;
use crate::lifecycle::stats::StatsCell;
use crate::lifecycle::telemetry::Meter;

/// What a queued frame costs besides its payload: the shared frame with its
/// encoding slots, the reference counts, and the queue's slot.
pub(crate) const FRAME_OVERHEAD: usize =
    size_of::<SharedFrame>() + 2 * size_of::<usize>() + size_of::<Arc<SharedFrame>>();

// The docs of `high_water_mark` and `HubStats` say "under 1 KiB".
const _: () = assert!(FRAME_OVERHEAD < 1024, "the documented per-frame overhead");

/// The bytes a queued frame is charged.
pub(super) fn cost(frame: &SharedFrame) -> usize {
    frame.frame().len() + FRAME_OVERHEAD
}

#[derive(Debug)]
pub(crate) enum Pop {
    Frame(Arc<SharedFrame>),
    End(End),
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued (under keep latest, possibly after dropping older frames).
    Queued,
    /// Not queued: the queue is full (drop newest) or the fps limit skipped it.
    Skipped,
    /// Not queued; the viewer is now ending with [`End::Overflow`].
    Overflow,
    /// Not queued; the viewer is gone or already ended.
    Closed,
}

/// Frames for one viewer. Aligned to a cache line, so that the lock and
/// [`State`]'s fields that every push and pop touch share one line.
#[derive(Debug)]
#[repr(C, align(64))]
pub(crate) struct ViewerQueue {
    state: Mutex<State>,
    stats: Arc<StatsCell>,
    meter: Arc<Meter>,
    limits: QueueLimits,
}

impl ViewerQueue {
    pub(crate) fn new(limits: QueueLimits, stats: Arc<StatsCell>, meter: Arc<Meter>) -> Self {
        Self {
            state: Mutex::new(State::new(
                limits.min_interval.map(Pace::new),
                stats.clone(),
            )),
            stats,
            meter,
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Offers a frame; never blocks. Applies the fps limit, then the policy
    /// (a producer that cannot wait treats [`OverflowPolicy::Wait`] as drop newest).
    pub(crate) fn push(&self, frame: Arc<SharedFrame>) -> Pushed {
        self.push_inner(frame, false)
    }

    /// Queues a frame from a producer that waited for [`poll_ready`](Self::poll_ready):
    /// it goes in whatever the fill, so the queue holds at most the mark plus one frame.
    pub(crate) fn push_waited(&self, frame: Arc<SharedFrame>) -> Pushed {
        self.push_inner(frame, true)
    }

    fn push_inner(&self, frame: Arc<SharedFrame>, waited: bool) -> Pushed {
        let mut state = self.lock();
        if !state.live {
            return Pushed::Closed;
        }
        // The clock is read only under an fps limit; a waiting producer
        // paces itself to it instead.
        let now = state.paced.then(Instant::now);
        let mut dropped = 0;
        // `cold` only under the limit: reading it costs a cache line.
        let pace = now
            .filter(|_| !waited)
            .and_then(|now| Some((state.cold.pace?, now)));
        if let Some((pace, now)) = pace {
            if pace.is_early(now) {
                // Hold the newest frame back; the one it replaces is skipped.
                let first = !state.holds;
                let replaced = state.hold(frame).is_some();
                state.cold.dropped += u64::from(replaced);
                // The consumer arms a timer for a frame newly held.
                let waker = if first { state.consumer.take() } else { None };
                drop(state);
                if replaced {
                    self.record_dropped(1);
                }
                wake(waker);
                return Pushed::Skipped;
            }
            // A newer frame is on time: the held one is skipped.
            if state.take_held().is_some() {
                dropped += 1;
            }
        }
        let len = cost(&frame);
        if !waited && !state.is_empty() && self.over_budget(&state, len) {
            // The budget's third step, far past it: disconnect this viewer.
            if self.far_over_budget() {
                return self.end_now(state, End::OverBudget);
            }
            // The first step: this viewer holds more than its share; shed
            // its queued frames, so it gets the newest.
            let shed = state.len() as u64 + u64::from(state.holds);
            self.clear(&mut state);
            state.cold.dropped += shed;
            self.stats.record_budget_shed(shed);
            self.meter.dropped(shed);
        }
        if !waited && !state.is_empty() && state.bytes() + len > self.limits.high_water_mark {
            match self.limits.policy {
                OverflowPolicy::KeepLatest => {
                    self.stats.record_overflow_event();
                    while state.bytes() + len > self.limits.high_water_mark {
                        let Some(old) = state.pop_front() else { break };
                        self.sub_queued(&state, cost(&old));
                        dropped += 1;
                    }
                }
                OverflowPolicy::DropNewest | OverflowPolicy::Wait => {
                    self.stats.record_overflow_event();
                    state.cold.dropped += 1;
                    drop(state);
                    self.record_dropped(1);
                    return Pushed::Skipped;
                }
                OverflowPolicy::Disconnect => return self.end_now(state, End::Overflow),
            }
        }
        if dropped > 0 {
            state.cold.dropped += dropped;
        }
        self.add_queued(&state, len);
        if let Some(now) = now {
            if let Some(pace) = &mut state.cold.pace {
                pace.accept(now);
            }
        }
        state.push_back(frame);
        let waker = state.consumer.take();
        drop(state);
        if dropped > 0 {
            self.record_dropped(dropped);
        }
        wake(waker);
        Pushed::Queued
    }

    /// For a producer that waits ([`OverflowPolicy::Wait`]): ready when the queue
    /// is below its high-water mark; `false` when the viewer is gone.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut state = self.lock();
        if !state.live {
            return Poll::Ready(false);
        }
        if state.is_empty() || state.bytes() < self.limits.high_water_mark {
            state.cold.holding = false;
            return Poll::Ready(true);
        }
        state.wait_producer(cx.waker().clone());
        // One overflow per episode of holding the producer back, not per poll.
        let started_holding = !std::mem::replace(&mut state.cold.holding, true);
        drop(state);
        if started_holding {
            self.stats.record_overflow();
        }
        Poll::Pending
    }

    /// Takes the oldest frame, or the end once every queued frame is out.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Pop> {
        let mut state = self.lock();
        if let Some(frame) = state.pop_front() {
            self.sub_queued(&state, cost(&frame));
            state.popped += 1;
            let waker = state.take_producer();
            drop(state);
            wake(waker);
            return Poll::Ready(Pop::Frame(frame));
        }
        if let Some(frame) = self.take_held(&mut state) {
            state.popped += 1;
            return Poll::Ready(Pop::Frame(frame));
        }
        if !state.live {
            if let Some(end) = state.cold.end.take() {
                state.consumer_gone();
                return Poll::Ready(Pop::End(end));
            }
            if matches!(state.cold.end, Ending::Taken) {
                // The body stops polling once it has the end; a stray poll waits
                // for nothing rather than inventing a second end.
                return Poll::Pending;
            }
        }
        if !state
            .consumer
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            state.consumer = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The held frame, once it is on time or the producer is done.
    fn take_held(&self, state: &mut State) -> Option<Arc<SharedFrame>> {
        if !state.holds {
            return None;
        }
        let now = Instant::now();
        let on_time = state.cold.pace.is_some_and(|pace| !pace.is_early(now));
        if !on_time && matches!(state.cold.end, Ending::Open) {
            return None;
        }
        if let Some(pace) = &mut state.cold.pace {
            pace.accept(now);
        }
        state.take_held()
    }

    /// When the held frame is on time, if a frame is held: the consumer
    /// polls again then.
    pub(crate) fn held_until(&self) -> Option<Instant> {
        let state = self.lock();
        if !state.holds {
            return None;
        }
        state.cold.pace.and_then(|pace| pace.on_time_at())
    }

    /// Whether no frame is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The producer is done: the viewer gets `end` after the queued frames.
    pub(crate) fn close(&self, end: End) {
        let mut state = self.lock();
        if !state.live {
            return;
        }
        state.end(end);
        let waker = state.consumer.take();
        drop(state);
        wake(waker);
    }

    /// The viewer is gone: free the queued frames and release a waiting producer.
    pub(crate) fn close_consumer(&self) {
        let mut state = self.lock();
        state.consumer_gone();
        self.clear(&mut state);
        let waker = state.take_producer();
        drop(state);
        wake(waker);
    }

    /// Frames taken, frames dropped or skipped, and bytes queued (as charged), under one lock.
    pub(crate) fn counts(&self) -> (u64, u64, usize) {
        let state = self.lock();
        (state.popped, state.cold.dropped, state.bytes())
    }

    /// The end the queue gave this viewer by disconnecting it (overflow
    /// or memory budget), when the viewer never took it: a client that
    /// stopped reading leaves its body unpolled.
    pub(crate) fn take_disconnect(&self) -> Option<End> {
        let mut state = self.lock();
        match &state.cold.end {
            Ending::Pending(End::Overflow | End::OverBudget) => state.cold.end.take(),
            _ => None,
        }
    }

    /// Frames dropped or skipped for this viewer so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.lock().cold.dropped
    }
}

impl Drop for ViewerQueue {
    fn drop(&mut self) {
        // Frames still queued stop counting against the budget.
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let bytes = state.clear();
        self.meter.unqueued(bytes);
        state.stats.sub_queued(bytes);
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

mod accounting;
mod state;
#[cfg(test)]
mod tests;

use self::state::{Ending, State};
