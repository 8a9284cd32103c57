//! mjpeg-axum on real sockets: parts, passthrough, lifecycle, stalls, h2c, compression.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use futures_util::{StreamExt, stream};
use mjpeg_axum::{DisconnectReason, Frame, FrameHub, Mjpeg, MjpegLayer, Server};
use mjpeg_tower::decode::{Decoder, Part, PartStream};
use tokio::io::AsyncWriteExt;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};

use support::wait_until;

type Reasons = Arc<Mutex<Vec<(DisconnectReason, usize)>>>;

fn router(hub: FrameHub) -> Router {
    Router::new()
        .route("/", get(|| async { "plain text route" }))
        .route(
            "/stream",
            get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .route(
            "/snapshot",
            get(|State(hub): State<FrameHub>| async move { hub.snapshot() }),
        )
        .route(
            "/finite",
            get(|| async {
                Mjpeg::new(stream::iter((0..5u8).map(|n| Frame::jpeg(vec![n; 1000]))))
            }),
        )
        .with_state(hub)
}

fn layer(reasons: &Reasons) -> MjpegLayer {
    let reasons = reasons.clone();
    MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .on_disconnect(move |e| reasons.lock().unwrap().push((e.reason, e.active)))
}

async fn start(app: Router, server: Server) -> SocketAddr {
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener, app));
    addr
}

/// Publishes a distinct frame every 5 ms until aborted.
fn produce(hub: &FrameHub) -> tokio::task::JoinHandle<()> {
    let hub = hub.clone();
    tokio::spawn(async move {
        for n in 0u32.. {
            hub.publish(Frame::jpeg(format!("frame {n}")));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

async fn read_parts(res: reqwest::Response, n: usize) -> Vec<Part> {
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    let parts = PartStream::new(Decoder::from_content_type(&ct).unwrap(), res.bytes_stream());
    let read = parts.take(n).map(Result::unwrap).collect::<Vec<_>>();
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap()
}

#[tokio::test]
async fn streams_valid_parts_and_leaves_other_routes_alone() {
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let addr = start(router(hub.clone()).layer(layer(&reasons)), Server::new()).await;
    let producer = produce(&hub);

    let plain = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(plain.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(plain.text().await.unwrap(), "plain text route");

    let res = reqwest::get(format!("http://{addr}/stream")).await.unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "multipart/x-mixed-replace; boundary=B"
    );
    assert_eq!(
        res.headers()["cache-control"],
        "no-cache, no-store, max-age=0, must-revalidate"
    );
    let parts = read_parts(res, 5).await;
    let numbers: Vec<u32> = parts
        .iter()
        .map(|p| std::str::from_utf8(&p.body).unwrap()[6..].parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(parts.iter().all(|p| p.content_type() == Some("image/jpeg")));

    let snap = reqwest::get(format!("http://{addr}/snapshot"))
        .await
        .unwrap();
    assert_eq!(snap.status(), 200);
    assert!(snap.text().await.unwrap().starts_with("frame "));
    producer.abort();
}

#[tokio::test]
async fn a_finite_stream_completes_and_a_dropped_client_is_reported_once() {
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let mjpeg = layer(&reasons);
    let addr = start(router(hub.clone()).layer(mjpeg.clone()), Server::new()).await;

    let res = reqwest::get(format!("http://{addr}/finite")).await.unwrap();
    let body = res.bytes().await.unwrap();
    let mut decoder = Decoder::new("B").unwrap().strict(true);
    decoder.push(&body);
    let mut count = 0;
    while decoder.next_part().unwrap().is_some() {
        count += 1;
    }
    // Five frames, the last one twice: it also fills the part announced after it.
    assert_eq!((count, decoder.is_closed()), (6, true));
    wait_until(|| reasons.lock().unwrap().len() == 1).await;
    assert_eq!(reasons.lock().unwrap()[0], (DisconnectReason::Completed, 0));

    let producer = produce(&hub);
    let res = reqwest::get(format!("http://{addr}/stream")).await.unwrap();
    let mut body = res.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    wait_until(|| reasons.lock().unwrap().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        reasons.lock().unwrap()[1..],
        [(DisconnectReason::ClientClosed, 0)]
    );
    assert_eq!(mjpeg.stats().active, 0);
    producer.abort();
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_reason_overflow() {
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let server = Server::new().write_stall_timeout(Some(Duration::from_millis(300)));
    let addr = start(router(hub.clone()).layer(layer(&reasons)), server).await;
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    silent
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    wait_until(|| hub.viewers() == 1).await;
    let big = hub.clone();
    let producer = tokio::spawn(async move {
        for n in 0..=255u8 {
            big.publish(Frame::jpeg(vec![n; 100_000]));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    wait_until(|| !reasons.lock().unwrap().is_empty()).await;
    assert_eq!(reasons.lock().unwrap()[0], (DisconnectReason::Overflow, 0));
    wait_until(|| hub.viewers() == 0).await;
    producer.abort();
}

#[tokio::test]
async fn h2c_streams_without_hop_by_hop_headers() {
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let addr = start(router(hub.clone()).layer(layer(&reasons)), Server::new()).await;
    let producer = produce(&hub);
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = client
        .get(format!("http://{addr}/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    for name in [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
    ] {
        assert!(res.headers().get(name).is_none(), "{name} on HTTP/2");
    }
    assert_eq!(read_parts(res, 3).await.len(), 3);
    producer.abort();
}

/// Reads the first part of `/stream` through a `CompressionLayer` wrapped around
/// the whole app; returns the response's `content-encoding`, if any.
async fn through_compression(app: Router, hub: &FrameHub) -> Option<String> {
    let addr = start(app, Server::new()).await;
    let producer = produce(hub);
    let client = reqwest::Client::new();
    let res = client
        .get(format!("http://{addr}/stream"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let encoding = res
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_string());
    if encoding.is_none() {
        assert_eq!(read_parts(res, 3).await.len(), 3, "parts arrive live");
    }
    producer.abort();
    encoding
}

#[tokio::test]
async fn compression_layer_needs_a_predicate_that_skips_the_stream() {
    // The trap: the default predicate compresses multipart/x-mixed-replace.
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let app = router(hub.clone())
        .layer(layer(&reasons))
        .layer(CompressionLayer::new());
    assert_eq!(
        through_compression(app, &hub).await.as_deref(),
        Some("gzip")
    );

    // The fix the docs show: skip the stream's content type.
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let skip = SizeAbove::default()
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::const_new("multipart/x-mixed-replace"));
    let app = router(hub.clone())
        .layer(layer(&reasons))
        .layer(CompressionLayer::new().compress_when(skip));
    assert_eq!(through_compression(app, &hub).await, None);

    // Or put the MjpegLayer outside: the compressed placeholder's encoding
    // must not leak onto the raw stream.
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let app = router(hub.clone())
        .layer(CompressionLayer::new())
        .layer(layer(&reasons));
    assert_eq!(through_compression(app, &hub).await, None);
}
