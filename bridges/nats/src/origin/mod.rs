//! [`NatsOrigin`]: publishes one stream's frames to its NATS subject.
//!
//! [`publish`](NatsOrigin::publish) never waits: it leaves the frame in a
//! one-frame slot that a task sends to the broker. A frame still in the slot
//! when the next one comes is replaced and counted as dropped, so a slow
//! broker or network costs frames, never the producer's time. While the
//! connection is down, frames are dropped (and counted) rather than queued,
//! so edges do not get a burst of stale frames when it comes back.
//!
//! The origin also answers edges that ask for the latest frame (on
//! `<subject>.latest`): a fresh edge shows the current frame at once even
//! when frames are rare.

mod builder;
mod stats;
mod task;

use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{Stream, StreamExt};
use mjpeg_tower::Frame;
use tokio::task::JoinHandle;

pub use self::builder::OriginBuilder;
pub use self::stats::OriginStats;
use self::task::Shared;

/// Publishes frames to a NATS subject, for edges to serve.
///
/// Cheap to clone; the tasks stop when the last clone is dropped.
///
/// ```no_run
/// use mjpeg_nats::NatsOrigin;
/// use mjpeg_tower::{Frame, FrameHub};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let origin = NatsOrigin::builder("cam1")?.connect("nats://127.0.0.1:4222").await?;
/// // Serve local viewers too: publish to the local hub and to the origin.
/// let hub = FrameHub::new();
/// let frame = Frame::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9]);
/// hub.publish(frame.clone());
/// origin.publish(frame);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NatsOrigin {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

/// A frame with the id it travels under.
#[derive(Debug)]
pub(crate) struct Stamped {
    pub(crate) id: String,
    pub(crate) frame: Frame,
}

impl NatsOrigin {
    /// A builder for the origin of stream `name` (subject `mjpeg.<name>`).
    ///
    /// # Errors
    /// When `name` is not one NATS subject token; see [`subject`](crate::subject).
    pub fn builder(name: &str) -> Result<OriginBuilder, crate::NameError> {
        crate::subject::subject(name).map(OriginBuilder::new)
    }

    /// Hands `frame` to the broker without waiting.
    ///
    /// Returns `false` when the frame is empty (a hub would not publish it
    /// either). A frame not yet sent when the next one comes is replaced and
    /// counted in [`OriginStats::dropped`].
    pub fn publish(&self, frame: impl Into<Frame>) -> bool {
        let frame = frame.into();
        if frame.is_empty() {
            return false;
        }
        let shared = &self.inner.shared;
        let seq = shared.next_seq.fetch_add(1, Relaxed);
        let stamped = Arc::new(Stamped {
            id: format!("{}.{seq}", shared.origin_id),
            frame,
        });
        *shared.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&stamped));
        let replaced = shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(stamped);
        if replaced.is_some() {
            shared.dropped.fetch_add(1, Relaxed);
        }
        shared.filled.notify_one();
        true
    }

    /// Publishes every frame of `frames` until it ends.
    pub async fn forward<S>(&self, frames: S)
    where
        S: Stream<Item = Frame>,
    {
        let mut frames = std::pin::pin!(frames);
        while let Some(frame) = frames.next().await {
            self.publish(frame);
        }
    }

    /// The subject frames go to.
    pub fn subject(&self) -> &str {
        &self.inner.shared.subject
    }

    /// What the origin did so far.
    pub fn stats(&self) -> OriginStats {
        self.inner.shared.stats()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl fmt::Debug for NatsOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsOrigin")
            .field("subject", &self.inner.shared.subject)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A frame slot: the latest frame, or the one waiting to be sent.
pub(crate) type Slot = Mutex<Option<Arc<Stamped>>>;
