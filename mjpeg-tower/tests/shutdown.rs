//! Graceful shutdown of HTTP/1.1 connections under `Server`: a live stream
//! keeps running until its hub stops, an idle keep-alive connection closes
//! at once, and `serve_with_shutdown` returns when they are gone, well before
//! the grace period. (HTTP/2's twin is in `h2_serve.rs`.)
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Either, Full};
use mjpeg_tower::server::{RequestBody, Server};
use mjpeg_tower::{DisconnectReason, Frame, FrameHub, MjpegLayer};
use support::Recorder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::{ServiceBuilder, service_fn};

/// Reads until `needle` has arrived; returns what was read.
async fn read_until(tcp: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    while !got.windows(needle.len()).any(|w| w == needle) {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("nothing arrived for 5 s")
            .unwrap();
        assert!(
            n > 0,
            "closed before {needle:?}: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// Reads to the end of the stream, failing after 5 s.
async fn read_to_eof(tcp: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest))
        .await
        .expect("the connection stayed open")
        .unwrap();
    rest
}

#[tokio::test]
async fn shutdown_closes_idle_http1_connections_and_waits_for_live_streams() {
    let rec = Recorder::default();
    let hub = FrameHub::new();
    let h = hub.clone();
    let server = Server::new().shutdown_grace(Duration::from_secs(30));
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = ServiceBuilder::new()
        .layer(rec.attach(MjpegLayer::new()))
        .service(service_fn(move |req: Request<RequestBody>| {
            let res = if req.uri().path() == "/stream" {
                h.subscribe().into_http_response().map(Either::Left)
            } else {
                Response::new(Either::Right(
                    Full::new(Bytes::from_static(b"ok")).map_err(|e| match e {}),
                ))
            };
            async move { Ok::<_, Infallible>(res) }
        }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_with_shutdown(listener, svc, async move {
        let _ = stopped.await;
    }));
    hub.publish(Frame::jpeg(vec![0xAB; 1000]));

    // A keep-alive connection that asked once and now idles.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /plain HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    read_until(&mut idle, b"ok").await;
    // A live stream.
    let mut live = TcpStream::connect(addr).await.unwrap();
    live.write_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    read_until(&mut live, &[0xAB; 1000]).await;

    stop.send(()).unwrap();
    // The idle connection closes at once, not after the grace period.
    assert!(read_to_eof(&mut idle).await.is_empty());
    // The live stream still runs; stopping the hub ends it with the close
    // delimiter, and serve returns.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hub.viewers(), 1);
    let stopped_at = Instant::now();
    hub.stop();
    let rest = read_to_eof(&mut live).await;
    // The close delimiter (`--boundary--`), then chunked encoding's end.
    assert!(
        rest.windows(4).any(|w| w == b"--\r\n") && rest.ends_with(b"0\r\n\r\n"),
        "no close delimiter: {:?}",
        String::from_utf8_lossy(&rest)
    );
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("serve did not return after its connections closed")
        .unwrap()
        .unwrap();
    assert!(stopped_at.elapsed() < Duration::from_secs(5));
    let events = rec.wait_disconnects(1).await;
    assert_eq!(events[0].reason().unwrap().0, DisconnectReason::Stopped);
}
