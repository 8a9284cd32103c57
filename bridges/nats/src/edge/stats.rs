//! [`EdgeStats`]: what an edge received.

use std::time::Duration;

/// Counters of a [`NatsEdge`](crate::NatsEdge).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EdgeStats {
    /// Live frames received whole (after joining their pieces).
    pub frames_received: u64,
    /// Frames published into the hub (live or latest; the hub may refuse
    /// empty frames and, with `skip_duplicates`, repeats).
    pub frames_published: u64,
    /// Latest frames fetched from the origin (on start and after reconnects).
    pub latest_fetched: u64,
    /// Frames lost to a missing piece (a message dropped on the way).
    pub incomplete: u64,
    /// Messages that could not be used (malformed bridge headers, or a frame
    /// larger than the edge accepts).
    pub rejected: u64,
    /// Part headers that could not be carried over.
    pub headers_skipped: u64,
    /// Times the client dropped messages because the edge read too slowly.
    pub slow_consumer: u64,
    /// Whether the connection is up now.
    pub connected: bool,
    /// Times the connection was lost.
    pub disconnects: u64,
    /// Times it came back.
    pub reconnects: u64,
    /// Origin-to-edge time of the last live frame, by the two clocks (only
    /// meaningful when they agree, e.g. on one machine).
    pub last_latency: Option<Duration>,
    /// The last error, if any.
    pub last_error: Option<String>,
}
