//! What the lifecycle callbacks are told: [`ConnectEvent`], [`DisconnectEvent`],
//! [`DisconnectReason`] and [`ConnectionStats`].

use std::time::Duration;

use crate::lifecycle::info::ConnectionInfo;
use crate::lifecycle::outcome::BoxError;

/// Why a streaming response ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The frame stream ended and the close delimiter was sent.
    Completed,
    /// The client went away (or the server dropped the connection).
    ClientClosed,
    /// The hub was stopped; the close delimiter was sent.
    Stopped,
    /// The frame stream yielded an error; the close delimiter was sent.
    ProducerError,
    /// The viewer fell too far behind: its queue overflowed under
    /// [`OverflowPolicy::Disconnect`](crate::OverflowPolicy::Disconnect), or the
    /// server closed it after a write stall.
    Overflow,
    /// The layer's [memory budget](crate::MjpegLayer::memory_budget) was far
    /// exceeded and this viewer was among those with the most queued.
    MemoryBudget,
}

impl DisconnectReason {
    /// `completed`, `client_closed`, `stopped`, `producer_error`, `overflow`
    /// or `memory_budget`: the `reason` label of the `mjpeg_disconnects_total` metric.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::ClientClosed => "client_closed",
            Self::Stopped => "stopped",
            Self::ProducerError => "producer_error",
            Self::Overflow => "overflow",
            Self::MemoryBudget => "memory_budget",
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one connection received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Frames handed to the connection (heartbeat re-sends not included).
    pub frames_sent: u64,
    /// Frames dropped or skipped for this viewer by the overflow policy or the
    /// fps limit (frames still queued when the viewer left are not counted).
    pub frames_dropped: u64,
    /// Heartbeat re-sends of the last frame.
    pub heartbeats: u64,
    /// Body bytes handed to the connection.
    pub bytes_sent: u64,
    /// How long the stream lasted.
    pub duration: Duration,
}

/// Passed to [`MjpegLayer::on_connect`](crate::MjpegLayer::on_connect).
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectEvent<'a> {
    /// The new viewer.
    pub info: &'a ConnectionInfo,
    /// Streaming connections now open on this layer, this one included.
    pub active: usize,
}

/// Passed to [`MjpegLayer::on_disconnect`](crate::MjpegLayer::on_disconnect), exactly once per connection.
#[derive(Debug)]
#[non_exhaustive]
pub struct DisconnectEvent<'a> {
    /// The viewer that left.
    pub info: &'a ConnectionInfo,
    /// Why.
    pub reason: DisconnectReason,
    /// What it received.
    pub stats: &'a ConnectionStats,
    /// The producer's error, with [`DisconnectReason::ProducerError`].
    pub error: Option<&'a BoxError>,
    /// Streaming connections still open on this layer.
    pub active: usize,
}
