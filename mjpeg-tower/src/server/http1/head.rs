//! Request heads in, response heads out.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri, Version};

use crate::server::fields::{add_date, content_length};

/// The most headers a request may carry (hyper's default too).
const MAX_HEADERS: usize = 100;

/// The longest request head read before answering `431`.
pub(super) const MAX_HEAD: usize = 64 * 1024;

/// A whole request head, and what to do with it.
#[derive(Debug)]
pub(super) enum Parsed {
    /// A request this loop serves, the head's length in bytes, and whether
    /// the client lets the connection stay open after it.
    Ours {
        request: Box<Request<()>>,
        len: usize,
        keep_alive: bool,
    },
    /// A request for hyper: it has a body, an upgrade, an `Expect`, is not
    /// HTTP/1.1 or not a `GET`. Nothing of it is consumed.
    Hyper,
    /// A malformed head, answered with this status before closing.
    Bad(StatusCode),
}

/// Parses the request head at the start of `bytes`; `None` until it is whole.
///
/// Only a `GET` over HTTP/1.1 without any body framing, upgrade or
/// expectation is served here: those are all a viewer sends, and each of
/// them leaves no request body to read. Anything else goes to hyper.
pub(super) fn parse(bytes: &[u8]) -> Option<Parsed> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if bytes.len() >= MAX_HEAD => {
            return Some(Parsed::Bad(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        }
        Ok(httparse::Status::Partial) => return None,
        Err(httparse::Error::TooManyHeaders) => {
            return Some(Parsed::Bad(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        }
        // Let hyper answer what it can (an HTTP/1.0 client, say) and
        // refuse what it cannot, in its own words.
        Err(_) => return Some(Parsed::Hyper),
    };
    if len > MAX_HEAD {
        return Some(Parsed::Bad(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
    }
    if req.version != Some(1) || req.method != Some("GET") {
        return Some(Parsed::Hyper);
    }
    let Some(Ok(uri)) = req.path.map(Uri::try_from) else {
        return Some(Parsed::Bad(StatusCode::BAD_REQUEST));
    };
    let mut map = HeaderMap::with_capacity(req.headers.len());
    let mut keep_alive = true;
    for h in req.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else {
            return Some(Parsed::Bad(StatusCode::BAD_REQUEST));
        };
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::UPGRADE
            || name == header::EXPECT
        {
            return Some(Parsed::Hyper);
        }
        let Ok(value) = HeaderValue::from_bytes(h.value) else {
            return Some(Parsed::Bad(StatusCode::BAD_REQUEST));
        };
        if name == header::CONNECTION {
            for token in value.to_str().unwrap_or_default().split(',') {
                let token = token.trim();
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("upgrade") {
                    return Some(Parsed::Hyper);
                }
            }
        }
        map.append(name, value);
    }
    let mut request = Request::new(());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = map;
    Some(Parsed::Ours {
        request: Box::new(request),
        len,
        keep_alive,
    })
}

/// How a response body is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body at all (`1xx`, `204`, `304`).
    None,
    /// `content-length` bytes.
    Length(u64),
    /// `transfer-encoding: chunked`: a stream of unknown length.
    Chunked,
}

/// The response head as bytes, with `date` added and the framing chosen as
/// hyper would: the app's `content-length` if it set one, else the body's
/// exact size, else chunked. `close` adds `connection: close`.
pub(super) fn encode(
    status: StatusCode,
    headers: &mut HeaderMap,
    exact: Option<u64>,
    close: bool,
) -> (Vec<u8>, Framing) {
    headers.remove(header::TRANSFER_ENCODING);
    let framing = if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        headers.remove(header::CONTENT_LENGTH);
        Framing::None
    } else if let Some(length) = content_length(headers) {
        Framing::Length(length)
    } else if let Some(length) = exact {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        Framing::Length(length)
    } else {
        headers.remove(header::CONTENT_LENGTH);
        Framing::Chunked
    };
    add_date(headers);
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers.iter() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if framing == Framing::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    // Another field line adds to the app's tokens (`keep-alive`, say):
    // the client must learn that the connection ends here.
    if close && !asks_close(headers) {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    (out, framing)
}

/// Whether the app asked for the connection to close after its response.
pub(super) fn asks_close(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

/// A short response that ends the connection: `400`, `431` or `500`.
pub(super) fn refusal(status: StatusCode) -> Vec<u8> {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    encode(status, &mut headers, None, true).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(bytes: &[u8]) -> (Box<Request<()>>, usize, bool) {
        match parse(bytes) {
            Some(Parsed::Ours {
                request,
                len,
                keep_alive,
            }) => (request, len, keep_alive),
            other => panic!("expected ours, got {other:?}"),
        }
    }

    #[test]
    fn a_viewer_get_is_ours_and_leaves_what_follows() {
        let bytes = b"GET /camera/1?q=2 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nGET /next";
        let (request, len, keep_alive) = ours(bytes);
        assert_eq!(request.uri(), "/camera/1?q=2");
        assert_eq!(request.headers()["host"], "a");
        assert_eq!(request.headers()["accept"], "*/*");
        assert_eq!(&bytes[len..], b"GET /next");
        assert!(keep_alive);
        let (_, _, keep_alive) = ours(b"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
        assert!(!keep_alive);
    }

    #[test]
    fn a_half_head_waits_and_an_endless_one_is_refused() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n").is_none());
        let mut long = b"GET / HTTP/1.1\r\nx-long: ".to_vec();
        long.resize(MAX_HEAD, b'a');
        assert!(matches!(
            parse(&long),
            Some(Parsed::Bad(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE))
        ));
    }

    #[test]
    fn bodies_upgrades_and_other_versions_go_to_hyper() {
        for head in [
            &b"POST /ingest HTTP/1.1\r\nContent-Length: 3\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            b"GET / HTTP/1.0\r\n\r\n",
            b"HEAD / HTTP/1.1\r\n\r\n",
        ] {
            assert!(
                matches!(parse(head), Some(Parsed::Hyper)),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn a_stream_is_chunked_and_a_sized_body_has_its_length() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let (head, framing) = encode(StatusCode::OK, &mut headers.clone(), None, false);
        let head = String::from_utf8(head).unwrap_or_default();
        assert_eq!(framing, Framing::Chunked);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ndate: "));
        assert!(head.ends_with(" GMT\r\ntransfer-encoding: chunked\r\n\r\n"));
        let (head, framing) = encode(StatusCode::NOT_FOUND, &mut headers, Some(9), true);
        let head = String::from_utf8(head).unwrap_or_default();
        assert_eq!(framing, Framing::Length(9));
        assert!(head.contains("content-length: 9\r\n"));
        assert!(head.ends_with("connection: close\r\n\r\n"));
        let (_, framing) = encode(
            StatusCode::NOT_MODIFIED,
            &mut HeaderMap::new(),
            Some(0),
            false,
        );
        assert_eq!(framing, Framing::None);
    }
}
