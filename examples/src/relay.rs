//! The `relay` example: re-publishes an existing MJPEG stream.
//!
//! Run with `cargo run -p mjpeg-examples --bin relay -- --upstream http://127.0.0.1:8080/stream [--addr 127.0.0.1:8081] [--overlay]`
//! and open <http://127.0.0.1:8081/>.
//!
//! [`Relay`] reads the upstream with reqwest and [`PartStream`], and
//! publishes each part's bytes, unchanged, into a [`FrameHub`] served like
//! `sine` (`/`, `/stream`, `/snapshot`, `/stats`). When the upstream drops, it reconnects with
//! exponential backoff (250 ms doubling to 8 s, reset once frames flow
//! again); meanwhile the layer's heartbeat re-sends the last frame every
//! second, so viewers keep their picture instead of being cut off.
//!
//! `--overlay` does not draw on the image (that would need a JPEG decoder):
//! it adds an `X-Relay-Timestamp` part header (unix milliseconds) to each
//! frame. Frames that carry their own headers are framed with
//! [`Framing::Standard`]; see [`Frame::with_header`].
//!
//! Only plain `http://` upstreams: reqwest is built without TLS.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use futures_util::StreamExt;
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue};
use mjpeg_tower::decode::{DecodeError, Decoder, PartStream};
use mjpeg_tower::{Frame, FrameHub, Framing, MjpegLayer};
use reqwest::Url;
use tokio::task::JoinHandle;

use crate::args::{ArgError, Args, unknown};
use crate::backoff::Backoff;
use crate::page::Page;

/// The `relay` binary's usage line.
pub const USAGE: &str =
    "usage: relay --upstream http://HOST:PORT/PATH [--addr 127.0.0.1:8081] [--overlay]";

/// The part header `--overlay` adds.
pub const TIMESTAMP_HEADER: &str = "x-relay-timestamp";

/// Command-line options of `relay`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The MJPEG stream to relay.
    pub upstream: Url,
    /// Add an `X-Relay-Timestamp` header to each frame.
    pub overlay: bool,
}

impl RelayOptions {
    /// Parses `--upstream` (required), `--addr` and `--overlay`.
    ///
    /// # Errors
    /// [`ArgError::Help`] for `--help`; [`ArgError::Invalid`] for anything wrong.
    pub fn parse(mut args: Args) -> Result<Self, ArgError> {
        let (mut addr, mut upstream, mut overlay) = (None, None, false);
        while let Some(flag) = args.next_flag()? {
            match flag.as_str() {
                "--addr" => addr = Some(args.value(&flag)?),
                "--upstream" => upstream = Some(args.value::<Url>(&flag)?),
                "--overlay" => overlay = true,
                _ => return Err(unknown(&flag)),
            }
        }
        let upstream =
            upstream.ok_or_else(|| ArgError::Invalid("--upstream is required".into()))?;
        if upstream.scheme() != "http" {
            return Err(ArgError::Invalid(format!(
                "--upstream {upstream}: only http:// is supported (built without TLS)"
            )));
        }
        Ok(Self {
            addr: addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8081))),
            upstream,
            overlay,
        })
    }
}

/// The relay's layer: a heartbeat every `heartbeat`, and standard framing
/// when frames carry their own overlay header.
pub fn layer(heartbeat: Duration, overlay: bool) -> MjpegLayer {
    let layer = MjpegLayer::new().heartbeat(Some(heartbeat));
    if overlay {
        layer.framing(Framing::Standard)
    } else {
        layer
    }
}

/// The relay's router: `/`, `/stream`, `/snapshot` and `/stats` for `hub`.
pub fn app(hub: FrameHub, layer: MjpegLayer, upstream: &Url) -> Router {
    let page = Page::new("mjpeg-tower: relay")
        .stats(true)
        .intro(format!("Relaying {upstream}."));
    crate::broadcast::router(hub, layer, &page)
}

/// Copies an upstream MJPEG stream into a hub, reconnecting when it drops.
#[derive(Clone, Debug)]
#[must_use]
pub struct Relay {
    /// The stream to read.
    pub upstream: Url,
    /// Add an `X-Relay-Timestamp` header to each frame.
    pub overlay: bool,
    /// The reconnect delays.
    pub backoff: Backoff,
    /// Fail a connection that delivers no bytes for this long.
    pub read_timeout: Duration,
}

impl Relay {
    /// A relay of `upstream` with the default backoff and a 10 s read timeout.
    pub fn new(upstream: Url) -> Self {
        Self {
            upstream,
            overlay: false,
            backoff: Backoff::default(),
            read_timeout: Duration::from_secs(10),
        }
    }

    /// Runs the relay on the current tokio runtime until the hub is stopped.
    pub fn spawn(self, hub: FrameHub) -> JoinHandle<()> {
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
pub enum RelayError {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_need_an_http_upstream() {
        let ok = RelayOptions::parse(Args::new(["--upstream", "http://127.0.0.1:1/stream"]));
        assert_eq!(ok.unwrap().addr.port(), 8081);
        assert!(RelayOptions::parse(Args::new(["--overlay"])).is_err());
        let tls = RelayOptions::parse(Args::new(["--upstream", "https://example.com/"]));
        assert!(tls.is_err());
    }
}
