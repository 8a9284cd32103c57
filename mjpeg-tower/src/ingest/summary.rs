//! [`IngestSummary`]: what an ingest published.

use std::fmt;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

/// What one ingested request published; `200 OK` with these counts as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IngestSummary {
    /// Frames published into the hub.
    pub frames: u64,
    /// Payload bytes of those frames.
    pub bytes: u64,
    /// Parts skipped without failing the request: empty parts, and `image/jpeg`
    /// parts that are not a whole JPEG (no `FF D8` start or `FF D9` end).
    pub skipped: u64,
}

impl IngestSummary {
    /// `200 OK`, `text/plain`, the counts in one line.
    pub fn into_http_response(self) -> Response<Bytes> {
        let mut res = Response::new(Bytes::from(format!("{self}\n")));
        *res.status_mut() = StatusCode::OK;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res
    }
}

impl fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "published {} frames ({} bytes), skipped {}",
            self.frames, self.bytes, self.skipped
        )
    }
}
