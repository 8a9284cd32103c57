//! How a viewer's stream ended: [`End`] (the producer's side) and
//! [`Outcome`], the one place that decides the [`DisconnectReason`].

use std::fmt;

use crate::lifecycle::events::DisconnectReason;
use crate::lifecycle::info::StallFlag;

/// The error type of stream bodies and producers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How the frames for one viewer ended, as its queue reports it.
#[derive(Debug)]
pub(crate) enum End {
    /// The per-request stream ended.
    Completed,
    /// The per-request stream yielded an error (or panicked).
    Error(BoxError),
    /// The hub was stopped.
    Stopped,
    /// The viewer overflowed under `OverflowPolicy::Disconnect`.
    Overflow,
    /// The viewer was disconnected by the layer's memory budget.
    OverBudget,
}

/// Why a viewer's stream ended, decided in one place from what the body saw.
///
/// The body reports the producer's [`End`] when it takes it from the queue and
/// reports when the close delimiter has been handed to the connection; the
/// connection asks [`reason`](Self::reason) when it is dropped. The rules:
/// 0. a viewer the memory budget disconnected is
///    [`DisconnectReason::MemoryBudget`], even when a write stall then closed it;
/// 1. a write stall (the server closed a client that stopped reading) is
///    [`DisconnectReason::Overflow`], whatever the stream did;
/// 2. an overflow under the `Disconnect` policy is `Overflow` at once (no
///    close delimiter is sent: the response ends with an error);
/// 3. completed, stopped and producer error count only once the close
///    delimiter was handed out: until then the client may still go away;
/// 4. anything else is [`DisconnectReason::ClientClosed`].
#[derive(Default)]
pub(crate) struct Outcome {
    stall: Option<StallFlag>,
    end: Option<End>,
    closed: bool,
}

impl Outcome {
    pub(crate) fn new(stall: Option<StallFlag>) -> Self {
        Self {
            stall,
            end: None,
            closed: false,
        }
    }

    /// The body took the producer's end from the queue.
    pub(crate) fn ended(&mut self, end: End) {
        self.end = Some(end);
    }

    /// The close delimiter was handed to the connection.
    pub(crate) fn close_handed_out(&mut self) {
        self.closed = true;
    }

    pub(crate) fn reason(&self) -> DisconnectReason {
        // The budget chose this viewer; a stall closing it later is the consequence.
        if matches!(self.end, Some(End::OverBudget)) {
            return DisconnectReason::MemoryBudget;
        }
        if self.stall.as_ref().is_some_and(StallFlag::is_set) {
            return DisconnectReason::Overflow;
        }
        match (&self.end, self.closed) {
            (Some(End::Overflow), _) => DisconnectReason::Overflow,
            (Some(End::OverBudget), _) => DisconnectReason::MemoryBudget,
            (Some(End::Completed), true) => DisconnectReason::Completed,
            (Some(End::Stopped), true) => DisconnectReason::Stopped,
            (Some(End::Error(_)), true) => DisconnectReason::ProducerError,
            _ => DisconnectReason::ClientClosed,
        }
    }

    /// The producer's error, when the reason is [`DisconnectReason::ProducerError`].
    pub(crate) fn error(&self) -> Option<&BoxError> {
        match &self.end {
            Some(End::Error(err)) if self.reason() == DisconnectReason::ProducerError => Some(err),
            _ => None,
        }
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("end", &self.end)
            .field("closed", &self.closed)
            .field("reason", &self.reason())
            .finish()
    }
}

/// The error that ends a response whose viewer overflowed under
/// [`OverflowPolicy::Disconnect`](crate::OverflowPolicy::Disconnect).
#[derive(Debug)]
pub struct OverflowError;

impl fmt::Display for OverflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "viewer fell behind past its high-water mark; disconnected by the overflow policy",
        )
    }
}

impl std::error::Error for OverflowError {}

/// The error that ends a response whose viewer the layer's
/// [memory budget](crate::MjpegLayer::memory_budget) disconnected.
#[derive(Debug)]
pub struct MemoryBudgetError;

impl fmt::Display for MemoryBudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the layer's memory budget was far exceeded and this viewer had the most queued; disconnected",
        )
    }
}

impl std::error::Error for MemoryBudgetError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_counts_only_once_the_close_delimiter_is_out() {
        let mut outcome = Outcome::new(None);
        assert_eq!(outcome.reason(), DisconnectReason::ClientClosed);
        outcome.ended(End::Error("boom".into()));
        assert_eq!(outcome.reason(), DisconnectReason::ClientClosed);
        assert!(outcome.error().is_none());
        outcome.close_handed_out();
        assert_eq!(outcome.reason(), DisconnectReason::ProducerError);
        assert_eq!(outcome.error().unwrap().to_string(), "boom");
    }

    #[test]
    fn overflow_counts_at_once_and_a_stall_overrides_everything() {
        let mut outcome = Outcome::new(None);
        outcome.ended(End::Overflow);
        assert_eq!(outcome.reason(), DisconnectReason::Overflow);

        let stall = StallFlag::new();
        let mut outcome = Outcome::new(Some(stall.clone()));
        outcome.ended(End::Completed);
        outcome.close_handed_out();
        assert_eq!(outcome.reason(), DisconnectReason::Completed);
        stall.set();
        assert_eq!(outcome.reason(), DisconnectReason::Overflow);
    }

    #[test]
    fn the_memory_budget_is_the_reason_even_when_a_stall_closed_the_viewer() {
        let stall = StallFlag::new();
        let mut outcome = Outcome::new(Some(stall.clone()));
        outcome.ended(End::OverBudget);
        stall.set();
        assert_eq!(outcome.reason(), DisconnectReason::MemoryBudget);
    }
}
