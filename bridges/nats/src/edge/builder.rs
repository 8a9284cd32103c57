//! [`EdgeBuilder`]: where an edge subscribes and what it accepts.

use std::sync::Arc;

use mjpeg_tower::FrameHub;

use super::task::{Shared, run};
use super::{Inner, NatsEdge};
use crate::error::EdgeError;
use crate::link;

/// The largest frame an edge joins from pieces by default.
const DEFAULT_MAX_FRAME: usize = 64 * 1024 * 1024;

/// Messages the client holds for the edge before dropping them (and
/// counting a slow consumer): a bound, not a queue to fill.
const SUBSCRIPTION_CAPACITY: usize = 256;

/// Builds a [`NatsEdge`].
#[derive(Clone, Debug)]
#[must_use]
pub struct EdgeBuilder {
    subject: String,
    max_frame: usize,
}

impl EdgeBuilder {
    pub(super) fn new(subject: String) -> Self {
        Self {
            subject,
            max_frame: DEFAULT_MAX_FRAME,
        }
    }

    /// Subscribes to `subject` instead of `mjpeg.<name>`.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// The largest frame to accept, in bytes (default 64 MiB); larger ones
    /// are dropped and counted, never buffered.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// Connects to the broker at `url` and publishes the stream's frames
    /// into `hub` until the hub is stopped or the edge dropped.
    ///
    /// # Errors
    /// When the broker cannot be reached or refuses the subscription. Once
    /// connected, the edge reconnects by itself after a loss.
    pub async fn connect(self, url: &str, hub: FrameHub) -> Result<NatsEdge, EdgeError> {
        let options = async_nats::ConnectOptions::new()
            .name(format!("mjpeg-edge {}", self.subject))
            .subscription_capacity(SUBSCRIPTION_CAPACITY);
        let (client, link) = link::connect(url, options).await?;
        let shared = Arc::new(Shared::new(self.subject, link));
        let live = client
            .subscribe(shared.subject.clone())
            .await
            .map_err(|source| EdgeError::Subscribe {
                subject: shared.subject.clone(),
                source,
            })?;
        let inbox = client.new_inbox();
        let replies =
            client
                .subscribe(inbox.clone())
                .await
                .map_err(|source| EdgeError::Subscribe {
                    subject: inbox.clone(),
                    source,
                })?;
        let task = tokio::spawn(run(
            client,
            Arc::clone(&shared),
            hub,
            live,
            (inbox, replies),
            self.max_frame,
        ));
        Ok(NatsEdge {
            inner: Arc::new(Inner { shared, task }),
        })
    }
}
