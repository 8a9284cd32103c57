//! The NATS connection of an origin or an edge: options that reconnect
//! fast, and counters of what the connection went through.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};
use tokio::sync::Notify;

use crate::error::ConnectError;

/// Longest wait between two reconnect attempts: with it, a client is back
/// at most this long after the broker is.
const MAX_RECONNECT_DELAY: Duration = Duration::from_millis(250);

/// What a connection went through; shared by the client's event callback
/// and the stats.
#[derive(Debug, Default)]
pub(crate) struct Link {
    connects: AtomicU64,
    disconnects: AtomicU64,
    slow_consumer: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// Woken on every (re)connect; one waiter (the edge task), so a permit
    /// is kept when it is busy.
    pub(crate) connected: Notify,
}

impl Link {
    /// Times the connection came back after a loss.
    pub(crate) fn reconnects(&self) -> u64 {
        self.connects.load(Relaxed).saturating_sub(1)
    }

    /// Whether the connection is up: every loss was followed by a return.
    pub(crate) fn is_connected(&self) -> bool {
        self.connects.load(Relaxed) > self.disconnects.load(Relaxed)
    }

    /// Times the connection was lost.
    pub(crate) fn disconnects(&self) -> u64 {
        self.disconnects.load(Relaxed)
    }

    /// Times the client dropped messages because this side read too slowly.
    pub(crate) fn slow_consumer(&self) -> u64 {
        self.slow_consumer.load(Relaxed)
    }

    /// The last error seen, if any.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records `error` as the last error.
    pub(crate) fn set_error(&self, error: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    fn on_event(&self, event: Event) {
        match event {
            Event::Connected => {
                self.connects.fetch_add(1, Relaxed);
                self.connected.notify_one();
            }
            Event::Disconnected => {
                self.disconnects.fetch_add(1, Relaxed);
                self.set_error("disconnected from the broker".into());
            }
            Event::SlowConsumer(_) => {
                self.slow_consumer.fetch_add(1, Relaxed);
            }
            Event::ServerError(err) => self.set_error(format!("broker said: {err}")),
            Event::ClientError(err) => self.set_error(format!("client error: {err}")),
            Event::LameDuckMode | Event::Draining | Event::Closed => {}
        }
    }
}

/// Connects to `url` with `options`, retrying forever after a loss with
/// short delays, recording what happens in the returned [`Link`].
pub(crate) async fn connect(
    url: &str,
    options: ConnectOptions,
) -> Result<(Client, Arc<Link>), ConnectError> {
    let link = Arc::new(Link::default());
    let events = Arc::clone(&link);
    let client = options
        .connection_timeout(Duration::from_secs(2))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempt| {
            (Duration::from_millis(25) * attempt as u32).min(MAX_RECONNECT_DELAY)
        })
        .event_callback(move |event| {
            events.on_event(event);
            std::future::ready(())
        })
        .connect(url)
        .await
        .map_err(|source| ConnectError {
            url: url.to_owned(),
            source,
        })?;
    Ok((client, link))
}
