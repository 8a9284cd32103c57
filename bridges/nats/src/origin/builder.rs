//! [`OriginBuilder`]: where and how an origin publishes.

use std::sync::Arc;

use super::task::{Shared, respond_latest, send_frames};
use super::{Inner, NatsOrigin};
use crate::error::ConnectError;
use crate::link;

/// Commands the client may queue before `publish` waits: small, so little
/// is in flight when the connection drops.
const CLIENT_CAPACITY: usize = 16;

/// Builds a [`NatsOrigin`].
#[derive(Clone, Debug)]
#[must_use]
pub struct OriginBuilder {
    subject: String,
    max_message: Option<usize>,
}

impl OriginBuilder {
    pub(super) fn new(subject: String) -> Self {
        Self {
            subject,
            max_message: None,
        }
    }

    /// Publishes to `subject` instead of `mjpeg.<name>`.
    ///
    /// # Note
    /// Edges must subscribe to the same subject
    /// ([`EdgeBuilder::subject`](crate::EdgeBuilder::subject)).
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// Splits frames into messages of at most `bytes` (headers included),
    /// below the broker's own limit (`max_payload`, 1 MB by default), which
    /// always applies.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message = Some(bytes);
        self
    }

    /// Connects to the broker at `url` and starts publishing.
    ///
    /// # Errors
    /// When the broker cannot be reached. Once connected, the origin
    /// reconnects by itself after a loss.
    pub async fn connect(self, url: &str) -> Result<NatsOrigin, ConnectError> {
        let options = async_nats::ConnectOptions::new()
            .name(format!("mjpeg-origin {}", self.subject))
            .client_capacity(CLIENT_CAPACITY);
        let (client, link) = link::connect(url, options).await?;
        let shared = Arc::new(Shared::new(self.subject, self.max_message, link));
        let tasks = vec![
            tokio::spawn(send_frames(client.clone(), Arc::clone(&shared))),
            tokio::spawn(respond_latest(client, Arc::clone(&shared))),
        ];
        Ok(NatsOrigin {
            inner: Arc::new(Inner { shared, tasks }),
        })
    }
}
