//! What `GET /stats` answers: the server's counters as JSON, read by the driver.

use serde::{Deserialize, Serialize};

/// Why streams ended, as counted by the server's `on_disconnect`.
pub(crate) const REASONS: [&str; 6] = [
    "completed",
    "client_closed",
    "stopped",
    "producer_error",
    "overflow",
    "other",
];

/// One `/stats` answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ServerStats {
    /// Streams open now, as the layer counts them (`stats().active`).
    pub(crate) open: u64,
    /// The layer's `total_connections`.
    pub(crate) layer_total: u64,
    /// `on_connect` calls.
    pub(crate) connects: u64,
    /// `on_disconnect` calls.
    pub(crate) disconnects: u64,
    /// `on_disconnect` calls by reason, in the order of [`REASONS`].
    pub(crate) reasons: [u64; 6],
    /// Whether the counters did not move while they were read.
    pub(crate) settled: bool,
    /// The layer's frames sent and dropped, summed over viewers.
    pub(crate) frames_sent: u64,
    pub(crate) frames_dropped: u64,
    /// The current hub: its generation and counters.
    pub(crate) generation: u64,
    pub(crate) hub_published: u64,
    pub(crate) hub_viewers: u64,
    pub(crate) hub_max_queued_bytes: u64,
    /// The last sequence number published (over all hubs).
    pub(crate) seq: u64,
    /// Finished hubs: `(generation, last sequence number published)`, newest last.
    pub(crate) retired: Vec<(u64, u64)>,
    /// Tasks alive in the server's runtime.
    pub(crate) tasks: u64,
    /// The producers' misbehaviour so far.
    pub(crate) faults: Faults,
}

/// Counts of what the producers did wrong on purpose.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Faults {
    pub(crate) stalls: u64,
    pub(crate) empty_frames: u64,
    /// Empty frames the hub took (it should refuse them all).
    pub(crate) empty_accepted: u64,
    pub(crate) big_frames: u64,
    pub(crate) hubs_replaced: u64,
    pub(crate) stream_errors: u64,
    pub(crate) stream_panics: u64,
    pub(crate) stream_stalls: u64,
}
