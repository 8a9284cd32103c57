//! [`OriginStats`]: what an origin did.

/// Counters of a [`NatsOrigin`](crate::NatsOrigin).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OriginStats {
    /// Frames handed to the broker connection.
    pub published: u64,
    /// Frames replaced by a newer one before they could be sent (slow broker or network).
    pub dropped: u64,
    /// Frames dropped because the connection was down.
    pub dropped_disconnected: u64,
    /// Frames the client failed to send.
    pub publish_errors: u64,
    /// Frames that took more than one message (larger than a message may be).
    pub chunked: u64,
    /// Part headers left out: not text, or named like the bridge's own headers.
    pub headers_skipped: u64,
    /// Requests for the latest frame answered (one per edge start or reconnect).
    pub latest_requests: u64,
    /// Whether the connection is up now.
    pub connected: bool,
    /// Times the connection was lost.
    pub disconnects: u64,
    /// Times it came back.
    pub reconnects: u64,
    /// The last error, if any.
    pub last_error: Option<String>,
}
