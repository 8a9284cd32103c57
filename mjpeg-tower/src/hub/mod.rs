//! [`FrameHub`]: one producer, many viewers.

mod responders;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::watch;

pub use self::responders::{Snapshot, Subscribe};
use crate::Frame;
use crate::encode::SharedFrame;
use crate::queue::{End, ViewerQueue};

/// How long [`FrameHub::snapshot`] waits for a first frame by default.
const DEFAULT_SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Builds a [`FrameHub`] with options.
#[derive(Clone, Debug)]
#[must_use]
pub struct FrameHubBuilder {
    skip_duplicates: bool,
    snapshot_timeout: Duration,
}

impl FrameHubBuilder {
    /// Skips a published frame whose bytes equal the previous one (default off),
    /// like uStreamer's drop-same-frames: a static scene costs no bandwidth.
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

#[derive(Clone, Copy, Debug, Default)]
struct Demand {
    viewers: usize,
    waiting_snapshots: usize,
}

/// A snapshot of a hub's counters, from [`FrameHub::stats`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubStats {
    /// Frames accepted by [`FrameHub::publish`].
    pub published: u64,
    /// Frames skipped as duplicates of the previous one.
    pub duplicates_skipped: u64,
    /// Viewers now.
    pub viewers: usize,
    /// Frames delivered, summed over all viewers ever.
    pub delivered: u64,
    /// Frames dropped or skipped by overflow policies and fps limits, summed over all viewers ever.
    pub dropped: u64,
    /// The fewest frames any current viewer has been delivered (0 with no viewers).
    pub min_delivered: u64,
    /// The most frames any current viewer has dropped.
    pub max_dropped: u64,
    /// The most payload bytes queued in the layer for any current viewer:
    /// bounded by the layer's high-water mark plus one frame.
    pub max_queued_bytes: usize,
    /// Whether [`FrameHub::stop`] was called.
    pub stopped: bool,
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
        FrameHubBuilder {
            skip_duplicates: false,
            snapshot_timeout: DEFAULT_SNAPSHOT_TIMEOUT,
        }
    }

    /// Sends `frame` to every viewer and makes it the latest frame.
    ///
    /// Never blocks and never waits for a viewer: each viewer's queue applies
    /// its layer's overflow policy on the spot. Returns `false` when the frame
    /// was not taken: the hub is stopped, or it is a skipped duplicate.
    pub fn publish(&self, frame: impl Into<Frame>) -> bool {
        let frame = frame.into();
        if self.is_stopped() {
            return false;
        }
        if self.inner.skip_duplicates {
            let latest = self.inner.latest.borrow();
            if latest
                .as_ref()
                .is_some_and(|l| l.frame().data() == frame.data())
            {
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
        for queue in viewers.values() {
            queue.push(Arc::clone(&shared));
        }
        true
    }

    /// A responder that streams this hub to one viewer: the latest frame at
    /// once, then every new one.
    ///
    /// After [`stop`](Self::stop) it answers `503 Service Unavailable`.
    pub fn subscribe(&self) -> Subscribe {
        Subscribe::new(self.clone())
    }

    /// A responder with the latest frame as one complete response (its own
    /// content type, no-cache headers). With no frame yet, it waits up to the
    /// snapshot timeout for one, then answers `503 Service Unavailable`.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.clone(), self.inner.snapshot_timeout)
    }

    /// The latest published frame.
    pub fn latest(&self) -> Option<Frame> {
        self.latest_shared().map(|f| f.frame().clone())
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

    /// The hub's counters now.
    pub fn stats(&self) -> HubStats {
        let viewers = self
            .inner
            .viewers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut stats = HubStats {
            published: self.inner.published.load(Relaxed),
            duplicates_skipped: self.inner.duplicates.load(Relaxed),
            viewers: viewers.len(),
            delivered: self.inner.gone_delivered.load(Relaxed),
            dropped: self.inner.gone_dropped.load(Relaxed),
            min_delivered: if viewers.is_empty() { 0 } else { u64::MAX },
            max_dropped: 0,
            max_queued_bytes: 0,
            stopped: self.is_stopped(),
        };
        for queue in viewers.values() {
            let (delivered, dropped, queued) = queue.counts();
            stats.delivered += delivered;
            stats.dropped += dropped;
            stats.min_delivered = stats.min_delivered.min(delivered);
            stats.max_dropped = stats.max_dropped.max(dropped);
            stats.max_queued_bytes = stats.max_queued_bytes.max(queued);
        }
        stats
    }

    pub(crate) fn latest_shared(&self) -> Option<Arc<SharedFrame>> {
        self.inner.latest.borrow().clone()
    }

    /// Waits up to `timeout` for a frame; `None` on timeout or stop. While it
    /// waits, it counts as demand for [`wait_for_viewers`](Self::wait_for_viewers).
    pub(crate) async fn wait_latest(&self, timeout: Duration) -> Option<Arc<SharedFrame>> {
        let _demand = SnapshotDemand::new(self);
        let mut latest = self.inner.latest.subscribe();
        let wait = latest.wait_for(|f| f.is_some() || self.is_stopped());
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(frame)) => frame.clone(),
            _ => None,
        }
    }

    /// Adds a viewer's queue and gives it the latest frame; `None` once stopped.
    pub(crate) fn register(&self, queue: Arc<ViewerQueue>) -> Option<HubViewer> {
        let mut viewers = self
            .inner
            .viewers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if self.is_stopped() {
            return None;
        }
        if let Some(latest) = self.inner.latest.borrow().clone() {
            queue.push(latest);
        }
        let id = self.inner.next_viewer.fetch_add(1, Relaxed);
        viewers.insert(id, queue);
        let count = viewers.len();
        self.inner.demand.send_modify(|d| d.viewers = count);
        Some(HubViewer {
            hub: self.clone(),
            id,
        })
    }

    fn unregister(&self, id: u64) {
        let mut viewers = self
            .inner
            .viewers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = viewers.remove(&id) {
            let (delivered, dropped, _) = queue.counts();
            self.inner.gone_delivered.fetch_add(delivered, Relaxed);
            self.inner.gone_dropped.fetch_add(dropped, Relaxed);
        }
        let count = viewers.len();
        self.inner.demand.send_modify(|d| d.viewers = count);
    }
}

/// A snapshot request waiting for a first frame; counted as demand while it lives.
struct SnapshotDemand<'a>(&'a FrameHub);

impl<'a> SnapshotDemand<'a> {
    fn new(hub: &'a FrameHub) -> Self {
        hub.inner.demand.send_modify(|d| d.waiting_snapshots += 1);
        Self(hub)
    }
}

impl Drop for SnapshotDemand<'_> {
    fn drop(&mut self) {
        self.0
            .inner
            .demand
            .send_modify(|d| d.waiting_snapshots -= 1);
    }
}

impl fmt::Debug for FrameHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameHub")
            .field("viewers", &self.viewers())
            .field("stopped", &self.is_stopped())
            .field("skip_duplicates", &self.inner.skip_duplicates)
            .finish_non_exhaustive()
    }
}

/// A viewer's registration; dropping it (with the response body) unregisters.
#[derive(Debug)]
pub(crate) struct HubViewer {
    hub: FrameHub,
    id: u64,
}

impl Drop for HubViewer {
    fn drop(&mut self) {
        self.hub.unregister(self.id);
    }
}
