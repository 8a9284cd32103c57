//! [`FrameHub`]: one producer, many viewers.
//!
//! The hub knows no tower and no HTTP: it pushes shared frames into viewer
//! queues. Its responders (`subscribe`, `snapshot`) are defined by the
//! `respond` stage, which builds on it.

mod builder;
#[cfg(test)]
mod proptests;
mod stats;
mod viewers;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::fanout::encoded::SharedFrame;
use crate::fanout::queue::ViewerQueue;
use crate::lifecycle::outcome::End;
use crate::lifecycle::telemetry;
use crate::wire::frame::Frame;

pub use self::builder::FrameHubBuilder;
pub use self::stats::HubStats;
pub(crate) use self::viewers::{Demand, HubViewer};

/// Broadcasts frames from one producer to every viewer.
///
/// Cheap to clone (an `Arc`), `Send + Sync`.
///
/// The producer publishes frames; each viewer's response gets the latest frame
/// at once, then every new one, subject to its layer's overflow policy. A
/// frame is encoded once and shared by reference with every viewer.
///
/// ```
/// use mjpeg_tower::{Frame, FrameHub};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let hub = FrameHub::new();
/// let producer = hub.clone();
/// tokio::spawn(async move {
///     loop {
///         // Sleep while nobody watches: render only for viewers.
///         producer.wait_for_viewers().await;
///         producer.publish(Frame::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9]));
///         tokio::time::sleep(std::time::Duration::from_millis(33)).await;
///     }
/// });
/// assert_eq!(hub.viewers(), 0);
/// # }
/// ```
#[derive(Clone)]
pub struct FrameHub {
    inner: Arc<Inner>,
}

struct Inner {
    /// The `stream` label of metrics and tracing events; set once.
    name: OnceLock<Arc<str>>,
    skip_duplicates: bool,
    snapshot_timeout: Duration,
    viewers: RwLock<HashMap<u64, Arc<ViewerQueue>>>,
    latest: watch::Sender<Option<Arc<SharedFrame>>>,
    /// Who wants frames: streaming viewers and snapshot requests waiting for a first frame.
    demand: watch::Sender<Demand>,
    stopped: AtomicBool,
    next_viewer: AtomicU64,
    published: AtomicU64,
    duplicates: AtomicU64,
    /// Delivered and dropped counts of viewers that left.
    gone_delivered: AtomicU64,
    gone_dropped: AtomicU64,
}

impl Default for FrameHub {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameHub {
    /// A hub with the default options.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for a hub with options.
    pub fn builder() -> FrameHubBuilder {
        FrameHubBuilder::new()
    }

    /// Sends `frame` to every viewer and makes it the latest frame.
    ///
    /// Never blocks and never waits for a viewer: each viewer's queue applies
    /// its layer's overflow policy on the spot. Returns `false` when the frame
    /// was not taken: the hub is stopped, it is a skipped duplicate, or it is
    /// empty.
    ///
    /// # Note
    /// An empty frame is never published: on the wire it would be an empty
    /// part, which decoders skip and Chromium shows as a broken image. The
    /// latest frame stays what it was.
    pub fn publish(&self, frame: impl Into<Frame>) -> bool {
        let frame = frame.into();
        if frame.is_empty() || self.is_stopped() {
            return false;
        }
        if self.inner.skip_duplicates {
            let latest = self.inner.latest.borrow();
            if latest.as_ref().is_some_and(|l| l.frame() == &frame) {
                self.inner.duplicates.fetch_add(1, Relaxed);
                return false;
            }
        }
        let shared = Arc::new(SharedFrame::new(frame));
        // Readers of the registry publish; `register` and `stop` write. Setting
        // `latest` under the read lock means a new viewer gets each frame
        // exactly once (as the latest frame, or from this loop), and checking
        // `stopped` under it means nothing is published once `stop` returned.
        let viewers = self
            .inner
            .viewers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if self.is_stopped() {
            return false;
        }
        self.inner.latest.send_replace(Some(Arc::clone(&shared)));
        self.inner.published.fetch_add(1, Relaxed);
        telemetry::published(self.inner.name.get());
        for queue in viewers.values() {
            queue.push(Arc::clone(&shared));
        }
        true
    }

    /// The latest published frame.
    pub fn latest(&self) -> Option<Frame> {
        self.latest_shared().map(|f| f.frame().clone())
    }

    /// The hub's name, if it has one ([`FrameHubBuilder::name`]).
    pub fn name(&self) -> Option<&str> {
        self.inner.name.get().map(|n| &**n)
    }

    /// Names the hub unless it has a name already; whether it took `name`.
    pub(crate) fn name_if_unnamed(&self, name: &str) -> bool {
        self.inner.name.set(name.into()).is_ok()
    }

    /// Viewers streaming from this hub now.
    pub fn viewers(&self) -> usize {
        self.inner.demand.borrow().viewers
    }

    /// Resolves when someone wants frames: a viewer is streaming, or a
    /// snapshot request is waiting for a first frame. A producer can sleep
    /// here while nobody watches (the Node-RED throttling flow, uStreamer's
    /// `--slowdown`).
    ///
    /// Returns `true` when there is demand, `false` once the hub is
    /// [stopped](Self::stop), so a producer loop can end:
    ///
    /// ```no_run
    /// # async fn render() -> Vec<u8> { Vec::new() }
    /// # async fn producer(hub: mjpeg_tower::FrameHub) {
    /// while hub.wait_for_viewers().await {
    ///     hub.publish(render().await);
    /// }
    /// # }
    /// ```
    pub async fn wait_for_viewers(&self) -> bool {
        let mut demand = self.inner.demand.subscribe();
        // The sender lives in `self`, so this cannot fail.
        let _ = demand
            .wait_for(|d| d.viewers > 0 || d.waiting_snapshots > 0 || self.is_stopped())
            .await;
        !self.is_stopped()
    }

    /// Ends every viewer's stream with the close delimiter
    /// ([`DisconnectReason::Stopped`](crate::DisconnectReason::Stopped)).
    ///
    /// Stopping is final: later `publish` calls return `false`, and later
    /// `subscribe` and `snapshot` requests get `503 Service Unavailable`
    /// saying the stream has been stopped. Use it for graceful shutdown.
    pub fn stop(&self) {
        // Under the write lock: no publish is between its check and its pushes.
        let viewers = self
            .inner
            .viewers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.stopped.store(true, Relaxed);
        for queue in viewers.values() {
            queue.close(End::Stopped);
        }
        drop(viewers);
        // Wake snapshot requests waiting for a first frame, and producers
        // waiting for demand.
        self.inner.latest.send_modify(|_| {});
        self.inner.demand.send_modify(|_| {});
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Relaxed)
    }

    pub(crate) fn latest_shared(&self) -> Option<Arc<SharedFrame>> {
        self.inner.latest.borrow().clone()
    }

    /// How long a snapshot request waits for a first frame.
    pub(crate) fn snapshot_timeout(&self) -> Duration {
        self.inner.snapshot_timeout
    }
}

impl fmt::Debug for FrameHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameHub")
            .field("name", &self.name())
            .field("viewers", &self.viewers())
            .field("stopped", &self.is_stopped())
            .field("skip_duplicates", &self.inner.skip_duplicates)
            .finish_non_exhaustive()
    }
}
