//! mjpeg-warp on real sockets: parts, lifecycle, stalls, h2c, and what the
//! send buffer setting changes.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use mjpeg_tower::decode::{Decoder, PartStream};
use mjpeg_warp::{DisconnectReason, Frame, FrameHub, MjpegLayer, Server};
use tokio::io::AsyncWriteExt;
use warp::Filter;

type Reasons = Arc<Mutex<Vec<(DisconnectReason, usize)>>>;

async fn start(hub: &FrameHub, layer: MjpegLayer, server: Server) -> SocketAddr {
    let h = hub.clone();
    let stream = warp::path("stream").map(move || h.subscribe());
    let plain = warp::path::end().map(|| "plain warp route");
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mjpeg_warp::serve_with(
        server,
        listener,
        warp::service(stream.or(plain)),
        layer,
        std::future::pending(),
    ));
    addr
}

fn layer(reasons: &Reasons) -> MjpegLayer {
    let reasons = reasons.clone();
    MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .on_disconnect(move |e| reasons.lock().unwrap().push((e.reason, e.active)))
}

fn produce(hub: &FrameHub, len: usize) -> tokio::task::JoinHandle<()> {
    let hub = hub.clone();
    tokio::spawn(async move {
        for n in 0u32.. {
            hub.publish(Frame::jpeg(vec![n as u8; len]));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

async fn wait_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition not met within 10 s");
}

async fn three_parts(res: reqwest::Response) {
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    let parts = PartStream::new(Decoder::from_content_type(&ct).unwrap(), res.bytes_stream());
    let parts: Vec<_> =
        tokio::time::timeout(Duration::from_secs(10), parts.take(3).collect::<Vec<_>>())
            .await
            .unwrap();
    assert!(parts.iter().all(|p| p.as_ref().unwrap().body.len() == 1000));
}

#[tokio::test]
async fn warp_filters_stream_parts_and_report_a_dropped_client_once() {
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let addr = start(&hub, layer(&reasons), Server::new()).await;
    let producer = produce(&hub, 1000);
    assert_eq!(
        reqwest::get(format!("http://{addr}/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "plain warp route"
    );
    let res = reqwest::get(format!("http://{addr}/stream")).await.unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "multipart/x-mixed-replace; boundary=B"
    );
    three_parts(res).await;
    wait_until(|| reasons.lock().unwrap().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        *reasons.lock().unwrap(),
        [(DisconnectReason::ClientClosed, 0)]
    );
    producer.abort();
}

#[tokio::test]
async fn h2c_works_through_warp_too() {
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let addr = start(&hub, layer(&reasons), Server::new()).await;
    let producer = produce(&hub, 1000);
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
    assert!(res.headers().get("connection").is_none());
    three_parts(res).await;
    producer.abort();
}

/// A viewer that sends its request and then reads nothing.
async fn silent_viewer(addr: SocketAddr, hub: &FrameHub) -> tokio::net::TcpStream {
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    silent
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    wait_until(|| hub.viewers() == 1).await;
    silent
}

/// Bytes the layer handed to the connection while the client read nothing:
/// all of it sits in hyper's and the kernel's buffers.
async fn buffered_outside_the_layer(server: Server) -> u64 {
    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let mjpeg = layer(&reasons);
    let addr = start(&hub, mjpeg.clone(), server).await;
    let _silent = silent_viewer(addr, &hub).await;
    let producer = produce(&hub, 100_000);
    // Wait until nothing more gets out: the buffers are full.
    let mut last = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = mjpeg.stats().bytes_sent;
        if now == last && now > 0 {
            break;
        }
        last = now;
    }
    producer.abort();
    last
}

#[tokio::test]
async fn a_small_send_buffer_keeps_little_outside_the_layer_and_the_stall_timeout_closes() {
    let small = buffered_outside_the_layer(Server::new().write_stall_timeout(None)).await;
    let os_default = buffered_outside_the_layer(
        Server::new()
            .send_buffer_size(None)
            .write_stall_timeout(None),
    )
    .await;
    println!(
        "buffered outside the layer for a non-reading client: {small} bytes with a 64 KiB send buffer, {os_default} bytes with the OS default"
    );
    assert!(small < os_default, "{small} vs {os_default}");

    let (hub, reasons) = (FrameHub::new(), Reasons::default());
    let server = Server::new().write_stall_timeout(Some(Duration::from_millis(300)));
    let addr = start(&hub, layer(&reasons), server).await;
    let _silent = silent_viewer(addr, &hub).await;
    let producer = produce(&hub, 100_000);
    wait_until(|| !reasons.lock().unwrap().is_empty()).await;
    assert_eq!(reasons.lock().unwrap()[0], (DisconnectReason::Overflow, 0));
    producer.abort();
}
