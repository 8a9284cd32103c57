//! Connection lifecycle: who connected, why they left, what they got.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Method, Uri};
use tokio::time::Instant;

use crate::BoxError;
use crate::layer::Config;
use crate::stats::StatsCell;

/// The viewer behind one streaming response.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    id: u64,
    method: Method,
    uri: Uri,
    remote_addr: Option<SocketAddr>,
    connected_at: Instant,
}

impl ConnectionInfo {
    /// A number unique among this layer's connections, counting from 1.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The client's address, when the server recorded a [`RemoteAddr`].
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// When the stream started.
    pub fn connected_at(&self) -> Instant {
        self.connected_at
    }
}

/// What the layer knows of a request before its response is a stream.
#[derive(Clone, Debug)]
pub(crate) struct RequestInfo {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) remote_addr: Option<SocketAddr>,
    pub(crate) stall: Option<StallFlag>,
}

impl RequestInfo {
    pub(crate) fn from_request<B>(req: &http::Request<B>) -> Self {
        Self {
            method: req.method().clone(),
            uri: req.uri().clone(),
            remote_addr: req.extensions().get::<RemoteAddr>().map(|a| a.0),
            stall: req.extensions().get::<StallFlag>().cloned(),
        }
    }
}

/// A request extension with the client's address, for [`ConnectionInfo::remote_addr`].
///
/// The adapters' `serve` helpers insert it; a custom server can too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// A request extension shared with the connection's IO: set when a write
/// stalled past its timeout and the server closed the connection.
///
/// The layer then reports [`DisconnectReason::Overflow`] instead of
/// [`DisconnectReason::ClientClosed`]. The adapters' `serve` helpers wire it up.
#[derive(Clone, Debug, Default)]
pub struct StallFlag(Arc<AtomicBool>);

impl StallFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the connection was closed because its writes stalled.
    pub fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`set`](Self::set) was called.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

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

/// One open streaming connection. Counted in on creation; its `Drop` is the
/// disconnect hook, so `on_disconnect` fires exactly once, however it ends.
pub(crate) struct Connection {
    config: Arc<Config>,
    stats_cell: Arc<StatsCell>,
    info: ConnectionInfo,
    stall: Option<StallFlag>,
    pub(crate) stats: ConnectionStats,
    pub(crate) reason: Option<DisconnectReason>,
    pub(crate) error: Option<BoxError>,
}

impl Connection {
    /// Opens a connection once [`StatsCell::try_acquire`] gave it a slot.
    pub(crate) fn open(
        config: Arc<Config>,
        stats_cell: Arc<StatsCell>,
        req: RequestInfo,
        active: usize,
    ) -> Self {
        let info = ConnectionInfo {
            id: stats_cell.next_id(),
            method: req.method,
            uri: req.uri,
            remote_addr: req.remote_addr,
            connected_at: Instant::now(),
        };
        // Built before the callback runs: if it panics, `Drop` still gives the slot back.
        let conn = Self {
            config,
            stats_cell,
            info,
            stall: req.stall,
            stats: ConnectionStats::default(),
            reason: None,
            error: None,
        };
        if let Some(cb) = &conn.config.callbacks.on_connect {
            (cb.0)(&ConnectEvent {
                info: &conn.info,
                active,
            });
        }
        conn
    }

    pub(crate) fn stats_cell(&self) -> &StatsCell {
        &self.stats_cell
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // A stalled write means the client never read what was handed out,
        // whatever the stream did.
        let stalled = self.stall.as_ref().is_some_and(StallFlag::is_set);
        let reason = match self.reason {
            _ if stalled => DisconnectReason::Overflow,
            Some(reason) => reason,
            None => DisconnectReason::ClientClosed,
        };
        if reason == DisconnectReason::Overflow {
            self.stats_cell.record_overflow();
        }
        self.stats.duration = self.info.connected_at.elapsed();
        let active = self.stats_cell.release();
        if let Some(cb) = &self.config.callbacks.on_disconnect {
            (cb.0)(&DisconnectEvent {
                info: &self.info,
                reason,
                stats: &self.stats,
                error: self.error.as_ref(),
                active,
            });
        }
        if active == 0 {
            if let Some(cb) = &self.config.callbacks.on_idle {
                (cb.0)();
            }
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("info", &self.info)
            .field("stats", &self.stats)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}
