//! Viewers of a hub: registering their queues, and the demand signal
//! producers and snapshot waits share.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::FrameHub;
use crate::fanout::encoded::SharedFrame;
use crate::fanout::queue::ViewerQueue;

/// Who wants frames: streaming viewers and snapshot requests waiting for a first frame.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Demand {
    pub(crate) viewers: usize,
    pub(crate) waiting_snapshots: usize,
}

impl Demand {
    /// Nobody streams and no snapshot waits.
    pub(crate) fn is_idle(&self) -> bool {
        self.viewers == 0 && self.waiting_snapshots == 0
    }
}

impl FrameHub {
    /// Watches who wants frames, for supervisors that start and stop sources.
    pub(crate) fn demand(&self) -> tokio::sync::watch::Receiver<Demand> {
        self.inner.demand.subscribe()
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
