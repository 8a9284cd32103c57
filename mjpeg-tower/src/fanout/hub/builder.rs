//! [`FrameHubBuilder`]: a hub with options.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use super::viewers::Demand;
use super::{FrameHub, Inner};

/// How long [`FrameHub::snapshot`] waits for a first frame by default.
const DEFAULT_SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a [`FrameHub`] with options.
#[derive(Clone, Debug)]
#[must_use]
pub struct FrameHubBuilder {
    name: Option<Arc<str>>,
    skip_duplicates: bool,
    snapshot_timeout: Duration,
}

impl FrameHubBuilder {
    pub(super) fn new() -> Self {
        Self {
            name: None,
            skip_duplicates: false,
            snapshot_timeout: DEFAULT_SNAPSHOT_TIMEOUT,
        }
    }

    /// Names the hub: the `stream` label of its metrics and tracing events
    /// (feature `metrics`, `tracing`). A [`Streams`](crate::streams::Streams)
    /// registry names the hubs it holds after their stream.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Skips a published frame equal to the previous one (default off), like
    /// uStreamer's drop-same-frames: a static scene costs no bandwidth.
    ///
    /// Equal means the same payload, content type and part headers: the same
    /// bytes with a new timestamp header, or as another content type, are
    /// published.
    /// Pair it with [`MjpegLayer::heartbeat`](crate::MjpegLayer::heartbeat) so
    /// viewers still get a frame now and then.
    pub fn skip_duplicates(mut self, enabled: bool) -> Self {
        self.skip_duplicates = enabled;
        self
    }

    /// How long a snapshot request waits for a first frame before answering
    /// `503` (default 5 s).
    pub fn snapshot_timeout(mut self, timeout: Duration) -> Self {
        self.snapshot_timeout = timeout;
        self
    }

    /// Builds the hub.
    pub fn build(self) -> FrameHub {
        FrameHub {
            inner: Arc::new(Inner {
                name: self.name.map_or_else(OnceLock::new, OnceLock::from),
                skip_duplicates: self.skip_duplicates,
                snapshot_timeout: self.snapshot_timeout,
                viewers: RwLock::new(HashMap::new()),
                latest: watch::Sender::new(None),
                demand: watch::Sender::new(Demand::default()),
                stopped: AtomicBool::new(false),
                next_viewer: AtomicU64::new(0),
                published: AtomicU64::new(0),
                duplicates: AtomicU64::new(0),
                gone_delivered: AtomicU64::new(0),
                gone_dropped: AtomicU64::new(0),
            }),
        }
    }
}
