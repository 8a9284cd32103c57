//! Which HTTP/2 streams the client stopped opening flow-control windows for.
//!
//! A stream waiting for send capacity is either held back by its own window
//! (its client stopped reading it: a stalled viewer) or by the connection's
//! window (some other stream holds it). The `h2` crate does not say which,
//! so [`Scan`](super::scan::Scan) reads the client's `SETTINGS` and `WINDOW_UPDATE` frames on
//! their way in and the server's `DATA` frame headers on their way out, and
//! [`Windows`] keeps each open stream's credit (the initial window plus the
//! updates for it) and the bytes sent on it. A stream whose bytes sent reach
//! its credit is blocked by its own window.
//!
//! Counting what goes on the wire, not what is handed to `h2`, lets a
//! stream hand `h2` whole chunks (as hyper does) while `h2` holds what the
//! windows do not yet allow: handing it only what the stream's capacity
//! allowed cost 1.20-1.22 CPU s/GB against 0.84-0.86 whole (64 x 16
//! streams over TLS, `cargo xtask bench`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The default `SETTINGS_INITIAL_WINDOW_SIZE` (RFC 9113, 6.5.2).
const DEFAULT_WINDOW: i64 = 65_535;

/// The credit of each open stream, shared by a connection's
/// [`Scan`](super::scan::Scan) and its streams.
#[derive(Clone, Debug, Default)]
pub(super) struct Windows(Arc<Mutex<State>>);

#[derive(Debug)]
struct State {
    initial: i64,
    streams: HashMap<u32, Credit>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            initial: DEFAULT_WINDOW,
            streams: HashMap::new(),
        }
    }
}

#[derive(Debug, Default)]
struct Credit {
    updates: i64,
    /// `DATA` payload bytes the server has written on the stream.
    sent: i64,
    accepted: bool,
}

impl Windows {
    /// How many streams are tracked.
    #[cfg(test)]
    pub(super) fn tracked(&self) -> usize {
        self.lock().streams.len()
    }

    /// The `DATA` bytes counted on stream `id`.
    #[cfg(test)]
    pub(super) fn sent_on(&self, id: u32) -> i64 {
        self.lock().streams.get(&id).map_or(0, |credit| credit.sent)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The server accepted stream `id`: it is tracked until [`finished`](Self::finished).
    /// Streams opened before it and never accepted (reset while queued) are forgotten.
    pub(super) fn accepted(&self, id: u32) {
        let mut state = self.lock();
        state
            .streams
            .retain(|&other, credit| other >= id || credit.accepted);
        state.streams.entry(id).or_default().accepted = true;
    }

    /// Stream `id` is done with.
    pub(super) fn finished(&self, id: u32) {
        self.lock().streams.remove(&id);
    }

    /// Whether the bytes sent on stream `id` use up all the credit the
    /// client gave it.
    pub(super) fn exhausted(&self, id: u32) -> bool {
        let state = self.lock();
        let (updates, sent) = state
            .streams
            .get(&id)
            .map_or((0, 0), |credit| (credit.updates, credit.sent));
        sent >= state.initial.saturating_add(updates)
    }

    pub(super) fn sent(&self, id: u32, len: usize) {
        if let Some(credit) = self.lock().streams.get_mut(&id) {
            credit.sent = credit
                .sent
                .saturating_add(i64::try_from(len).unwrap_or(i64::MAX));
        }
    }

    pub(super) fn opened(&self, id: u32) {
        self.lock().streams.entry(id).or_default();
    }

    pub(super) fn update(&self, id: u32, increment: u32) {
        if let Some(credit) = self.lock().streams.get_mut(&id) {
            credit.updates = credit.updates.saturating_add(i64::from(increment));
        }
    }

    pub(super) fn initial_window(&self, size: u32) {
        self.lock().initial = i64::from(size);
    }
}
