//! The queue's state, laid out for a publish round: what every push and
//! every pop touch shares one cache line with the lock.
//!
//! A hub's publish touches each viewer's queue once, then each viewer's
//! connection pops from it. At 1,000 viewers the frames written in between
//! have pushed the queue out of the cache, so each cache line a push or a
//! pop reads is a miss: `cargo xtask bench`'s profile counted about four
//! per push and four per pop when the frames sat in a `VecDeque` behind a
//! lock that `Mutex` placed after them. Now the oldest frame sits inline and
//! the rest of the state (the frames behind it, the end, the fps limit) is
//! boxed, read only when a flag in the hot line says it matters.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Waker;

use super::cost;
use crate::fanout::encoded::SharedFrame;
use crate::fanout::pace::Pace;
use crate::lifecycle::outcome::End;
use crate::lifecycle::stats::StatsCell;

/// Where the producer's end is.
#[derive(Debug, Default)]
pub(super) enum Ending {
    /// Frames may still come.
    #[default]
    Open,
    /// The producer is done; the viewer gets this after the queued frames.
    Pending(End),
    /// The viewer has taken the end: nothing more comes.
    Taken,
}

impl Ending {
    /// The pending end, once; afterwards the end is [`Taken`](Self::Taken).
    pub(super) fn take(&mut self) -> Option<End> {
        match std::mem::replace(self, Self::Taken) {
            Self::Pending(end) => Some(end),
            other => {
                *self = other;
                None
            }
        }
    }
}

/// What a push or a pop of a viewer that keeps up reads and writes: with
/// the lock word, within 64 bytes (a test holds it to that).
#[derive(Debug)]
pub(super) struct State {
    /// The oldest queued frame; the others are in `cold.more`.
    front: Option<Arc<SharedFrame>>,
    pub(super) consumer: Option<Waker>,
    /// The layer's counters: each push and pop moves its queued bytes.
    pub(super) stats: Arc<StatsCell>,
    pub(super) popped: u64,
    pub(super) cold: Box<Cold>,
    /// Frames may come and the viewer is there: the end is open and the
    /// consumer is not gone.
    pub(super) live: bool,
    /// `cold.more` holds frames.
    more: bool,
    /// The fps limit applies (`cold.pace` is set).
    pub(super) paced: bool,
    /// `cold.held` holds a frame.
    pub(super) holds: bool,
    /// `cold.producer` holds a waker.
    pub(super) producer_waits: bool,
}

/// The rest, read when a flag in [`State`] says so.
#[derive(Debug, Default)]
pub(super) struct Cold {
    /// The frames queued behind `State::front`, oldest first, and what
    /// they are charged.
    more: VecDeque<Arc<SharedFrame>>,
    more_bytes: usize,
    pub(super) end: Ending,
    /// The consumer went away: nothing more will be popped.
    pub(super) consumer_gone: bool,
    pub(super) producer: Option<Waker>,
    /// The fps limit's clock.
    pub(super) pace: Option<Pace>,
    /// The newest frame the fps limit held back, sent once it is on time
    /// (or before the end); a newer one replaces it.
    pub(super) held: Option<Arc<SharedFrame>>,
    /// A waiting producer is being held back at the mark.
    pub(super) holding: bool,
    pub(super) dropped: u64,
}

impl State {
    pub(super) fn new(pace: Option<Pace>, stats: Arc<StatsCell>) -> Self {
        Self {
            front: None,
            consumer: None,
            stats,
            popped: 0,
            live: true,
            more: false,
            paced: pace.is_some(),
            holds: false,
            producer_waits: false,
            cold: Box::new(Cold {
                pace,
                ..Cold::default()
            }),
        }
    }

    /// Whether no frame is queued (a held frame is not queued).
    pub(super) fn is_empty(&self) -> bool {
        self.front.is_none()
    }

    /// What the queued frames are charged: payload plus `FRAME_OVERHEAD`
    /// each. Only a backlog reads past the first cache line.
    pub(super) fn bytes(&self) -> usize {
        let front = self.front.as_deref().map_or(0, cost);
        if self.more {
            front + self.cold.more_bytes
        } else {
            front
        }
    }

    /// Frames queued.
    pub(super) fn len(&self) -> usize {
        usize::from(self.front.is_some()) + self.cold.more.len()
    }

    pub(super) fn push_back(&mut self, frame: Arc<SharedFrame>) {
        if self.front.is_none() {
            self.front = Some(frame);
        } else {
            self.cold.more_bytes += cost(&frame);
            self.cold.more.push_back(frame);
            self.more = true;
        }
    }

    pub(super) fn pop_front(&mut self) -> Option<Arc<SharedFrame>> {
        let frame = self.front.take()?;
        if self.more {
            self.front = self.cold.more.pop_front();
            self.cold.more_bytes -= self.front.as_deref().map_or(0, cost);
            self.more = !self.cold.more.is_empty();
        }
        Some(frame)
    }

    /// Drops every queued and held frame; returns the bytes they were charged.
    pub(super) fn clear(&mut self) -> usize {
        let bytes = self.bytes();
        self.front = None;
        self.cold.more.clear();
        self.cold.more_bytes = 0;
        self.more = false;
        self.take_held();
        bytes
    }

    pub(super) fn take_held(&mut self) -> Option<Arc<SharedFrame>> {
        self.holds = false;
        self.cold.held.take()
    }

    pub(super) fn hold(&mut self, frame: Arc<SharedFrame>) -> Option<Arc<SharedFrame>> {
        self.holds = true;
        self.cold.held.replace(frame)
    }

    /// Ends the producer's side: the viewer gets `end` after the queued frames.
    pub(super) fn end(&mut self, end: End) {
        self.cold.end = Ending::Pending(end);
        self.live = false;
    }

    pub(super) fn consumer_gone(&mut self) {
        self.cold.consumer_gone = true;
        self.live = false;
    }

    pub(super) fn wait_producer(&mut self, waker: Waker) {
        self.cold.producer = Some(waker);
        self.producer_waits = true;
    }

    pub(super) fn take_producer(&mut self) -> Option<Waker> {
        if !self.producer_waits {
            return None;
        }
        self.producer_waits = false;
        self.cold.producer.take()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::State;
    use crate::fanout::queue::ViewerQueue;

    #[test]
    fn the_lock_and_the_hot_fields_fit_one_cache_line() {
        assert!(
            size_of::<Mutex<State>>() <= 64,
            "{}",
            size_of::<Mutex<State>>()
        );
        assert_eq!(align_of::<ViewerQueue>(), 64);
    }
}
