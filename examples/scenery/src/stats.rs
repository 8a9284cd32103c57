//! The JSON served at `/stats`: a hub's and its layer's counters.

use mjpeg_axum::{FrameHub, MjpegLayer};
use serde::Serialize;

/// What `/stats` reports.
///
/// ```
/// use mjpeg_example_scenery::stats::StatsReport;
/// use mjpeg_axum::{FrameHub, MjpegLayer};
///
/// let hub = FrameHub::new();
/// hub.publish(vec![0xFF, 0xD8, 0xFF, 0xD9]);
/// let report = StatsReport::collect(&hub, &MjpegLayer::new());
/// assert_eq!(report.frames_published, 1);
/// assert!(report.to_json().contains(r#""status":"idle""#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatsReport {
    /// Viewers streaming from the hub now.
    pub viewers: usize,
    /// Frames the producer published into the hub.
    pub frames_published: u64,
    /// Frames handed to connections, summed over viewers.
    pub frames_sent: u64,
    /// Frames dropped for slow viewers, summed over viewers.
    pub frames_dropped: u64,
    /// Body bytes handed to connections.
    pub bytes_sent: u64,
    /// Streams ever opened.
    pub connections_total: u64,
    /// The layer's status: `idle`, `streaming`, `dropping` or `overflowing`.
    pub status: &'static str,
}

impl StatsReport {
    /// Reads the counters of `hub` and of the `layer` that serves it.
    pub fn collect(hub: &FrameHub, layer: &MjpegLayer) -> Self {
        let hub = hub.stats();
        let layer = layer.stats();
        Self {
            viewers: hub.viewers,
            frames_published: hub.published,
            frames_sent: layer.frames_sent,
            frames_dropped: layer.frames_dropped,
            bytes_sent: layer.bytes_sent,
            connections_total: layer.total_connections,
            status: layer.status.as_str(),
        }
    }

    /// The report as a JSON object.
    pub fn to_json(&self) -> String {
        // Serializing plain numbers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}
