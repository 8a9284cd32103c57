//! Response headers: the defaults every stream and snapshot starts from, and
//! how a handler's own headers combine with them.

use crate::wire::hop::HOP_BY_HOP;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue};

/// The response headers a layer starts from: caching off, nginx buffering off.
pub(crate) fn default_response_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("0"));
    headers.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    headers
}

/// Removes hop-by-hop headers (illegal on HTTP/2) and framing headers the
/// stream must never carry.
pub(crate) fn strip_unsendable(headers: &mut HeaderMap) {
    for name in HOP_BY_HOP
        .iter()
        .chain(&[header::TRAILER, header::CONTENT_LENGTH])
    {
        headers.remove(name);
    }
}

/// `base`, then the handler's own headers (which win), minus what may not be
/// sent. The handler's response was a placeholder: its content type and
/// encoding (a compression layer inside the layer may have gzipped it)
/// describe that placeholder, not the stream.
pub(crate) fn merge_handler_headers(mut base: HeaderMap, mut handler: HeaderMap) -> HeaderMap {
    handler.remove(header::CONTENT_TYPE);
    handler.remove(header::CONTENT_ENCODING);
    strip_unsendable(&mut handler);
    for name in handler.keys() {
        base.remove(name);
    }
    for (name, value) in &handler {
        base.append(name.clone(), value.clone());
    }
    base
}

/// `headers` without the entries `placeholder` has with the same value.
pub(crate) fn without(headers: &HeaderMap, placeholder: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        let ours = placeholder.get_all(name).iter().any(|v| v == value);
        if !ours {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}
