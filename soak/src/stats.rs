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
    /// `/capped`, the route with a small `max_clients`.
    pub(crate) capped: CappedStats,
    /// `/nats`, the NATS-fed hub (`None` when the server runs without NATS).
    pub(crate) nats: Option<NatsStats>,
}

/// The counters of `/capped`'s own layer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct CappedStats {
    /// The `max_clients` the route says it has.
    pub(crate) max_clients: u64,
    /// Streams open now (`stats().active`).
    pub(crate) open: u64,
    /// The most streams open at once, as `on_connect` saw them.
    pub(crate) peak: u64,
    /// Requests answered `503` for `max_clients` (`stats().rejected`).
    pub(crate) rejected: u64,
    pub(crate) connects: u64,
    pub(crate) disconnects: u64,
    /// `on_disconnect` calls by reason, in the order of [`REASONS`].
    pub(crate) reasons: [u64; 6],
}

/// The NATS bridge's counters: origin, edge and the hub the edge feeds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct NatsStats {
    /// Frames the origin took; the last one published is number `attempts`.
    pub(crate) attempts: u64,
    pub(crate) origin_published: u64,
    /// Frames the origin dropped: replaced before sending, connection down, errors.
    pub(crate) origin_dropped: u64,
    pub(crate) origin_connected: bool,
    pub(crate) origin_disconnects: u64,
    pub(crate) origin_reconnects: u64,
    pub(crate) edge_received: u64,
    pub(crate) edge_published: u64,
    pub(crate) edge_latest_fetched: u64,
    pub(crate) edge_connected: bool,
    pub(crate) edge_disconnects: u64,
    pub(crate) edge_reconnects: u64,
    pub(crate) hub_published: u64,
    pub(crate) hub_viewers: u64,
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
