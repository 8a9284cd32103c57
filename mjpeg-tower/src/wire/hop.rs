//! Headers that belong to one HTTP/1 connection, not to a response.

use http::header::{self, HeaderName};

/// Hop-by-hop headers: meaningful for one HTTP/1 connection only, and
/// illegal on HTTP/2 (RFC 9113, 8.2.2). A stream must never carry them,
/// and the HTTP/2 server removes them from every response.
pub(crate) const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
];
