//! An HTTP/2 client that opens and resets streams in a loop does not grow
//! the server's memory. Alone in its binary: RSS is per process.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use tokio::net::TcpStream;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Opens streams on HTTP/2 connections and resets each at once, `total`
/// times, reconnecting whenever the server sends `GOAWAY`; returns the
/// connections used.
async fn open_and_reset(addr: SocketAddr, total: usize) -> usize {
    let mut connections = 0;
    let mut sent = 0;
    while sent < total && connections < 10_000 {
        connections += 1;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let Ok((client, conn)) = h2::client::handshake(tcp).await else {
            continue;
        };
        tokio::spawn(conn);
        let mut client = client;
        while sent < total {
            let Ok(ready) = client.ready().await else {
                break;
            };
            client = ready;
            let req = http::Request::get("http://x/stream").body(()).unwrap();
            let Ok((_response, mut stream)) = client.send_request(req, false) else {
                break;
            };
            stream.send_reset(h2::Reason::CANCEL);
            sent += 1;
            if sent % 64 == 0 {
                tokio::task::yield_now().await;
            }
        }
    }
    connections
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2_client_resetting_streams_in_a_loop_does_not_grow_memory() {
    let layer = MjpegLayer::new();
    let hub = FrameHub::new();
    hub.publish(Frame::jpeg(vec![0xAB; 1000]));
    let h = hub.clone();
    let addr = support::serve(layer.clone(), Server::new(), move |_| {
        h.subscribe().into_http_response()
    })
    .await;
    open_and_reset(addr, 2_000).await; // warm up allocator and runtime
    let before = rss_kib();
    let connections = open_and_reset(addr, 20_000).await;
    support::wait_until(|| layer.stats().active == 0).await;
    let after = rss_kib();
    eprintln!(
        "20000 streams reset over {connections} connections: RSS {before} KiB -> {after} KiB"
    );
    assert!(
        after < before + 32 * 1024,
        "RSS grew by {} KiB",
        after - before
    );
    // Still serving HTTP/2.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    let mut client = client.ready().await.unwrap();
    let req = http::Request::get("http://x/stream").body(()).unwrap();
    let (response, _stream) = client.send_request(req, true).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let chunk: Bytes = tokio::time::timeout(Duration::from_secs(10), body.data())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(!chunk.is_empty());
}
