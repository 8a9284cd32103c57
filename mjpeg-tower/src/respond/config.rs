//! [`Config`]: everything a layer was configured with, and what is derived from it.

use std::sync::Arc;
use std::time::Duration;

use http::header;
use http::{HeaderMap, HeaderValue};

use crate::fanout::policy::{OverflowPolicy, QueueLimits};
use crate::lifecycle::callbacks::Callbacks;
use crate::respond::headers::{default_response_headers, strip_unsendable};
use crate::wire::boundary::Boundary;
use crate::wire::encoder::{PartEncoder, default_part_headers};
use crate::wire::framing::Framing;

/// The default per-viewer high-water mark: 512 KiB, about ten 50 KB frames.
pub const DEFAULT_HIGH_WATER_MARK: usize = 512 * 1024;

/// The default memory budget of a layer: 256 MiB queued across all its
/// viewers, what 512 viewers stuck at the default high-water mark hold.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 * 1024 * 1024;

/// Everything a layer was configured with.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) boundary: Boundary,
    pub(crate) framing: Framing,
    pub(crate) part_headers: HeaderMap,
    /// Global response headers as the user left them.
    pub(crate) headers: HeaderMap,
    pub(crate) encoder: Arc<PartEncoder>,
    /// `headers`, without what may never be sent, plus the content type.
    pub(crate) response_headers: HeaderMap,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) repeat_final_frame: bool,
    pub(crate) queue: QueueLimits,
    pub(crate) max_clients: Option<usize>,
    pub(crate) retry_after: Duration,
    pub(crate) callbacks: Arc<Callbacks>,
}

impl Config {
    pub(crate) fn new() -> Self {
        let mut config = Self {
            boundary: Boundary::default(),
            framing: Framing::default(),
            part_headers: default_part_headers(),
            headers: default_response_headers(),
            // Both derived from the fields above by `rebuild`, just below.
            encoder: Arc::new(PartEncoder::new(
                Boundary::default(),
                Framing::default(),
                default_part_headers(),
            )),
            response_headers: HeaderMap::new(),
            heartbeat: None,
            repeat_final_frame: false,
            queue: QueueLimits {
                high_water_mark: DEFAULT_HIGH_WATER_MARK,
                policy: OverflowPolicy::default(),
                min_interval: None,
                budget: Some(DEFAULT_MEMORY_BUDGET),
            },
            max_clients: None,
            retry_after: Duration::from_secs(5),
            callbacks: Arc::default(),
        };
        config.rebuild();
        config
    }

    /// Derives the encoder (and with it the fingerprint under which frames
    /// cache their encodings) and the response headers from the settings.
    pub(crate) fn rebuild(&mut self) {
        self.encoder = Arc::new(PartEncoder::new(
            self.boundary.clone(),
            self.framing,
            self.part_headers.clone(),
        ));
        let mut headers = self.headers.clone();
        strip_unsendable(&mut headers);
        let content_type = format!("multipart/x-mixed-replace; boundary={}", self.boundary);
        if let Ok(value) = HeaderValue::from_str(&content_type) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        self.response_headers = headers;
    }

    /// The global headers without the content type: for snapshots.
    pub(crate) fn plain_headers(&self) -> HeaderMap {
        let mut headers = self.response_headers.clone();
        headers.remove(header::CONTENT_TYPE);
        headers
    }

    /// The content type of a frame that sets none.
    pub(crate) fn default_part_content_type(&self) -> HeaderValue {
        self.part_headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"))
    }
}
