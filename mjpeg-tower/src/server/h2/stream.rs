//! One HTTP/2 stream: the request to the service, the response head, the body.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use h2::Reason;
use h2::server::SendResponse;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::pipe::Pipe;
use super::window::Windows;
use crate::lifecycle::info::{RemoteAddr, StallFlag};
use crate::lifecycle::outcome::BoxError;
use crate::server::body::RequestBody;
use crate::server::fields::{add_date, content_length};
use crate::wire::hop::HOP_BY_HOP;

/// What a stream needs from its connection.
#[derive(Clone, Debug)]
pub(super) struct StreamContext {
    pub(super) addr: SocketAddr,
    pub(super) flag: StallFlag,
    pub(super) windows: Windows,
    pub(super) stall: Option<Duration>,
}

/// Forgets the stream's window credit however the stream ends.
struct Finished<'a>(&'a Windows, u32);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.finished(self.1);
    }
}

/// Serves one request: calls `service`, sends the head, pipes the body.
pub(super) async fn serve<S, B>(
    mut service: S,
    req: Request<h2::RecvStream>,
    mut respond: SendResponse<Bytes>,
    cx: StreamContext,
) where
    S: Service<Request<RequestBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let _finished = Finished(&cx.windows, respond.stream_id().as_u32());
    // Each stream its own flag, which also reads as set when the whole
    // connection stalled.
    let flag = cx.flag.child();
    let (parts, recv) = req.into_parts();
    let length = content_length(&parts.headers);
    let mut req = Request::from_parts(parts, RequestBody::h2(recv, length));
    req.extensions_mut().insert(flag.clone());
    req.extensions_mut().insert(RemoteAddr(cx.addr));
    let call = async {
        poll_fn(|cx| service.poll_ready(cx)).await.map_err(drop)?;
        service.call(req).await.map_err(drop)
    };
    let response = tokio::select! {
        response = call => response,
        // The client gave up before the response: drop the service's future.
        _ = poll_fn(|cx| respond.poll_reset(cx)) => return,
    };
    let Ok(response) = response else {
        respond.send_reset(Reason::INTERNAL_ERROR);
        return;
    };
    let (mut head, body) = response.into_parts();
    prepare(&mut head.headers);
    if body.is_end_stream() {
        let _ = respond.send_response(Response::from_parts(head, ()), true);
        return;
    }
    if let Some(length) = body.size_hint().exact() {
        head.headers
            .entry(header::CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(length));
    }
    let Ok(tx) = respond.send_response(Response::from_parts(head, ()), false) else {
        return;
    };
    Pipe::new(tx, cx.windows.clone(), cx.stall, flag)
        .run(body)
        .await;
}

/// Removes connection-specific headers and adds `date`, as hyper does.
fn prepare(headers: &mut HeaderMap) {
    if let Some(connection) = headers.remove(header::CONNECTION) {
        // It may name more headers meant for this connection only.
        if let Ok(names) = connection.to_str() {
            for name in names.split(',') {
                headers.remove(name.trim());
            }
        }
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    add_date(headers);
}

#[cfg(test)]
mod tests {
    use http::header::HeaderName;

    use super::*;

    #[test]
    fn connection_headers_go_and_date_comes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close, x-hop"));
        headers.insert("x-hop", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
        prepare(&mut headers);
        let names: Vec<_> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["content-type", "date"]);
    }
}
