//! [`Meter`]: one viewer's metrics and tracing events, labelled with its
//! stream's name. Without the `metrics` and `tracing` features every call
//! is a no-op the compiler removes.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `mjpeg_frames_published_total` | counter | `stream` |
//! | `mjpeg_frames_sent_total` | counter | `stream` |
//! | `mjpeg_frames_dropped_total` | counter | `stream` |
//! | `mjpeg_bytes_sent_total` | counter | `stream` |
//! | `mjpeg_viewers` | gauge | `stream` |
//! | `mjpeg_queued_bytes` | gauge | `stream` |
//! | `mjpeg_frame_latency_seconds` | histogram | `stream` |
//! | `mjpeg_disconnects_total` | counter | `stream`, `reason` |
//! | `mjpeg_source_starts_total`, `mjpeg_source_failures_total` | counter | `stream` |

use std::time::Duration;

use crate::lifecycle::events::DisconnectReason;

/// The `stream` label of viewers and frames whose hub has no name.
pub(crate) const UNNAMED: &str = "default";

/// One viewer's metric handles, registered once when it connects.
#[derive(Debug)]
pub(crate) struct Meter {
    #[cfg(feature = "metrics")]
    handles: Handles,
    #[cfg(any(feature = "metrics", feature = "tracing"))]
    stream: Box<str>,
}

#[cfg(feature = "metrics")]
#[derive(Debug)]
struct Handles {
    sent: metrics::Counter,
    bytes: metrics::Counter,
    dropped: metrics::Counter,
    queued: metrics::Gauge,
    latency: metrics::Histogram,
    viewers: metrics::Gauge,
}

impl Meter {
    /// A viewer of `stream` connected.
    #[cfg_attr(
        not(any(feature = "metrics", feature = "tracing")),
        allow(unused_variables)
    )]
    pub(crate) fn new(stream: &str) -> Self {
        #[cfg(feature = "metrics")]
        let handles = {
            let label = || ("stream", stream.to_owned());
            let handles = Handles {
                sent: metrics::counter!("mjpeg_frames_sent_total", &[label()]),
                bytes: metrics::counter!("mjpeg_bytes_sent_total", &[label()]),
                dropped: metrics::counter!("mjpeg_frames_dropped_total", &[label()]),
                queued: metrics::gauge!("mjpeg_queued_bytes", &[label()]),
                latency: metrics::histogram!("mjpeg_frame_latency_seconds", &[label()]),
                viewers: metrics::gauge!("mjpeg_viewers", &[label()]),
            };
            handles.viewers.increment(1.0);
            handles
        };
        Self {
            #[cfg(feature = "metrics")]
            handles,
            #[cfg(any(feature = "metrics", feature = "tracing"))]
            stream: stream.into(),
        }
    }

    /// The stream's name, for tracing events.
    #[cfg(feature = "tracing")]
    pub(crate) fn stream(&self) -> &str {
        &self.stream
    }

    /// `frames` frames and `bytes` bytes were handed to the connection.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn sent(&self, frames: u64, bytes: u64) {
        #[cfg(feature = "metrics")]
        {
            if frames > 0 {
                self.handles.sent.increment(frames);
            }
            self.handles.bytes.increment(bytes);
        }
    }

    /// `frames` frames were dropped or skipped for this viewer.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn dropped(&self, frames: u64) {
        #[cfg(feature = "metrics")]
        self.handles.dropped.increment(frames);
    }

    /// `bytes` more are queued for this viewer.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn queued(&self, bytes: usize) {
        #[cfg(feature = "metrics")]
        self.handles.queued.increment(bytes as f64);
    }

    /// `bytes` fewer are queued for this viewer.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn unqueued(&self, bytes: usize) {
        #[cfg(feature = "metrics")]
        if bytes > 0 {
            self.handles.queued.decrement(bytes as f64);
        }
    }

    /// A frame published `latency` ago was handed to the connection.
    #[cfg(feature = "metrics")]
    pub(crate) fn latency(&self, latency: Duration) {
        self.handles.latency.record(latency.as_secs_f64());
    }

    /// The viewer left for `reason`.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn disconnected(&self, reason: DisconnectReason) {
        #[cfg(feature = "metrics")]
        {
            self.handles.viewers.decrement(1.0);
            let labels = [
                ("stream", self.stream.to_string()),
                ("reason", reason.as_str().to_owned()),
            ];
            metrics::counter!("mjpeg_disconnects_total", &labels).increment(1);
        }
    }
}

/// A frame was published into the hub named `stream`.
///
/// Runs once per published frame: the label shares the hub's name (no
/// copy), and the counter is looked up each time rather than cached, so a
/// recorder installed after the first frame still sees the hub.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn published(stream: Option<&std::sync::Arc<str>>) {
    #[cfg(feature = "metrics")]
    {
        let stream: metrics::SharedString = match stream {
            Some(name) => std::sync::Arc::clone(name).into(),
            None => UNNAMED.into(),
        };
        metrics::counter!("mjpeg_frames_published_total", "stream" => stream).increment(1);
    }
}

/// An on-demand source of `stream` started.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn source_started(stream: &str) {
    #[cfg(feature = "metrics")]
    {
        let labels = [("stream", stream.to_owned())];
        metrics::counter!("mjpeg_source_starts_total", &labels).increment(1);
    }
    #[cfg(feature = "tracing")]
    tracing::info!(target: "mjpeg_tower", stream, "source started");
}

/// An on-demand source of `stream` was stopped: nobody watched.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn source_stopped(stream: &str) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: "mjpeg_tower", stream, "source stopped: nobody watched for the linger");
}

/// An on-demand source of `stream` failed with `error`; retried after `retry_in`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn source_failed(stream: &str, error: &str, retry_in: Duration) {
    #[cfg(feature = "metrics")]
    {
        let labels = [("stream", stream.to_owned())];
        metrics::counter!("mjpeg_source_failures_total", &labels).increment(1);
    }
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "mjpeg_tower",
        stream,
        error,
        retry_in_ms = retry_in.as_millis() as u64,
        "source failed"
    );
}
