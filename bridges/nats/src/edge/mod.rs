//! [`NatsEdge`]: feeds a local [`FrameHub`](mjpeg_tower::FrameHub) from a
//! NATS subject, so this process serves its own viewers through the
//! ordinary layer (snapshots, policies, heartbeats, stats all work as if the
//! producer were local).
//!
//! On start, and after every reconnect, the edge asks the origin for its
//! latest frame, so a viewer of a fresh edge sees the current frame at once
//! even when frames are rare. While the broker is away the hub keeps its
//! latest frame: viewers stay connected (with
//! [`MjpegLayer::heartbeat`](mjpeg_tower::MjpegLayer::heartbeat) they keep
//! getting it), and live frames resume once the client is back.
//!
//! The edge never makes the broker wait: it takes messages as they come and
//! publishes into the hub, which never blocks; each viewer's own queue
//! applies its layer's overflow policy.

mod builder;
mod stats;
mod task;

use std::fmt;
use std::sync::Arc;

use tokio::task::JoinHandle;

pub use self::builder::EdgeBuilder;
pub use self::stats::EdgeStats;
use self::task::Shared;

/// Subscribes to a stream's subject and publishes its frames into a hub.
///
/// Cheap to clone; the task stops when the last clone is dropped, or when
/// the hub is stopped.
///
/// ```no_run
/// use mjpeg_nats::NatsEdge;
/// use mjpeg_tower::FrameHub;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let hub = FrameHub::new();
/// let edge = NatsEdge::builder("cam1")?
///     .connect("nats://127.0.0.1:4222", hub.clone())
///     .await?;
/// // Serve `hub` as usual: `hub.subscribe()` behind `MjpegLayer`.
/// println!("{:?}", edge.stats());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NatsEdge {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl NatsEdge {
    /// A builder for an edge of stream `name` (subject `mjpeg.<name>`).
    ///
    /// # Errors
    /// When `name` is not one NATS subject token; see [`subject`](crate::subject).
    pub fn builder(name: &str) -> Result<EdgeBuilder, crate::NameError> {
        crate::subject::subject(name).map(EdgeBuilder::new)
    }

    /// The subject frames come from.
    pub fn subject(&self) -> &str {
        &self.inner.shared.subject
    }

    /// What the edge received so far.
    pub fn stats(&self) -> EdgeStats {
        self.inner.shared.stats()
    }

    /// Whether the edge stopped taking frames (its hub was stopped).
    pub fn is_finished(&self) -> bool {
        self.inner.task.is_finished()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for NatsEdge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsEdge")
            .field("subject", &self.inner.shared.subject)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}
