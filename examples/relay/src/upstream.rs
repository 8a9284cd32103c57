//! Reading the upstream: [`Relay`] copies another MJPEG stream into a hub.
//!
//! It reads the upstream with reqwest and [`PartStream`] and publishes each
//! part's bytes, unchanged. When the upstream drops, it reconnects with
//! exponential backoff (250 ms doubling to 8 s, reset once frames flow
//! again).
//!
//! `overlay` does not draw on the image (that would need a JPEG decoder):
//! it adds an `X-Relay-Timestamp` part header (unix milliseconds) to each
//! frame. Frames that carry their own headers go out with
//! [`Framing::Standard`](mjpeg_axum::Framing::Standard); see [`Frame::with_header`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue};
use futures_util::StreamExt;
use mjpeg_axum::decode::{DecodeError, Decoder, PartStream};
use mjpeg_axum::{Frame, FrameHub};
use reqwest::Url;
use tokio::task::JoinHandle;

use crate::backoff::Backoff;

/// The part header `overlay` adds.
pub(crate) const TIMESTAMP_HEADER: &str = "x-relay-timestamp";

/// Copies an upstream MJPEG stream into a hub, reconnecting when it drops.
#[derive(Clone, Debug)]
#[must_use]
pub(crate) struct Relay {
    /// The stream to read.
    pub(crate) upstream: Url,
    /// Add an `X-Relay-Timestamp` header to each frame.
    pub(crate) overlay: bool,
    /// The reconnect delays.
    pub(crate) backoff: Backoff,
    /// Fail a connection that delivers no bytes for this long.
    pub(crate) read_timeout: Duration,
}

impl Relay {
    /// A relay of `upstream` with the default backoff and a 10 s read timeout.
    pub(crate) fn new(upstream: Url) -> Self {
        Self {
            upstream,
            overlay: false,
            backoff: Backoff::default(),
            read_timeout: Duration::from_secs(10),
        }
    }

    /// Runs the relay on the current tokio runtime until the hub is stopped.
    pub(crate) fn spawn(self, hub: FrameHub) -> JoinHandle<()> {
        tokio::spawn(self.run(hub))
    }

    async fn run(mut self, hub: FrameHub) {
        let client = reqwest::Client::builder()
            .read_timeout(self.read_timeout)
            .connect_timeout(Duration::from_secs(5))
            // One long stream: a pooled connection to a dead server only hurts.
            .pool_max_idle_per_host(0)
            .build();
        let client = match client {
            Ok(client) => client,
            Err(err) => return eprintln!("relay: cannot build the HTTP client: {err}"),
        };
        let mut attempt = 0u32;
        while !hub.is_stopped() {
            let mut frames = 0u64;
            let end = self.relay_once(&client, &hub, &mut frames).await;
            if hub.is_stopped() {
                return;
            }
            if frames > 0 {
                self.backoff.reset();
                attempt = 0;
            }
            attempt += 1;
            let delay = self.backoff.next_delay();
            let why = match end {
                Ok(()) => "stream ended".to_owned(),
                Err(err) => err.to_string(),
            };
            println!(
                "relay: upstream {} ({frames} frames): {why}; reconnect #{attempt} in {} ms",
                self.upstream,
                delay.as_millis()
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One connection: relays parts until the upstream ends or fails.
    async fn relay_once(
        &self,
        client: &reqwest::Client,
        hub: &FrameHub,
        frames: &mut u64,
    ) -> Result<(), RelayError> {
        let res = client.get(self.upstream.clone()).send().await?;
        if !res.status().is_success() {
            return Err(RelayError::Status(res.status()));
        }
        let content_type = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let decoder = Decoder::from_content_type(content_type)?;
        println!("relay: connected to {}", self.upstream);
        let mut parts = PartStream::new(decoder, Box::pin(res.bytes_stream()));
        while let Some(part) = parts.next().await {
            let part = part?;
            let content_type = part.headers.get(CONTENT_TYPE).cloned();
            let mut frame = Frame::new(part.body)
                .with_content_type(content_type.unwrap_or(HeaderValue::from_static("image/jpeg")));
            if self.overlay {
                frame = frame.with_header(HeaderName::from_static(TIMESTAMP_HEADER), now_millis());
            }
            if !hub.publish(frame) && hub.is_stopped() {
                return Ok(());
            }
            *frames += 1;
        }
        Ok(())
    }
}

/// Unix time in milliseconds, as a header value.
fn now_millis() -> HeaderValue {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    HeaderValue::from(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// Why a connection to the upstream ended.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum RelayError {
    /// Connecting or reading failed.
    Http(reqwest::Error),
    /// The upstream answered with an error status.
    Status(reqwest::StatusCode),
    /// The body is not a multipart stream, or is malformed.
    Decode(DecodeError),
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(err) => {
                // reqwest's own message rarely says why; its sources do.
                write!(f, "request failed: {err}")?;
                let mut source = std::error::Error::source(err);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            Self::Status(status) => write!(f, "answered {status}"),
            Self::Decode(DecodeError::Transport(err)) => write!(f, "connection lost: {err}"),
            Self::Decode(err) => write!(f, "bad stream: {err}"),
        }
    }
}

impl std::error::Error for RelayError {}

impl From<reqwest::Error> for RelayError {
    fn from(err: reqwest::Error) -> Self {
        Self::Http(err)
    }
}

impl From<DecodeError> for RelayError {
    fn from(err: DecodeError) -> Self {
        Self::Decode(err)
    }
}
