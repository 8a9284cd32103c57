//! `HEAD` on a stream route, on a real socket: what `GET` would answer,
//! without the body.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use support::{RawClient, Recorder, serve};

fn numbered(n: u8) -> Frame {
    Frame::jpeg(vec![n; 1000])
}

fn layer(rec: &Recorder) -> MjpegLayer {
    rec.attach(MjpegLayer::new().boundary("B").unwrap())
}

/// Sends a raw `HEAD` and returns the response head, lowercased.
async fn head(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("HEAD / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut head))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8(head).unwrap().to_lowercase()
}

#[tokio::test]
async fn head_answers_what_get_would_without_a_body_or_a_zero_length() {
    let rec = Recorder::default();
    let hub = FrameHub::new();
    hub.publish(numbered(1));
    let h = hub.clone();
    let addr = serve(layer(&rec).max_clients(Some(1)), Server::new(), move |_| {
        h.subscribe().into_http_response()
    })
    .await;
    let res = head(addr).await;
    assert!(res.starts_with("http/1.1 200 ok\r\n"), "{res}");
    assert!(res.contains("content-type: multipart/x-mixed-replace; boundary=b\r\n"));
    assert!(
        !res.contains("content-length"),
        "a stream has no length: {res}"
    );
    assert!(res.ends_with("\r\n\r\n"), "no body after the head: {res}");

    // One viewer fills max_clients: GET and HEAD both get 503 + Retry-After.
    let _viewer = RawClient::get(addr, "/").await;
    let res = head(addr).await;
    assert!(
        res.starts_with("http/1.1 503 service unavailable\r\n"),
        "{res}"
    );
    assert!(res.contains("retry-after: 5\r\n"), "{res}");
    assert_eq!(RawClient::get(addr, "/").await.status(), 503);
    assert_eq!(
        rec.events().len(),
        1,
        "HEAD opened no stream: {:?}",
        rec.events()
    );
}
