//! `axum::serve` with `mjpeg_axum::listener`: the framework's own server,
//! `ConnectInfo` and graceful shutdown, with slow-client protection.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::routing::get;
use mjpeg_axum::{DisconnectReason, Frame, FrameHub, MjpegLayer, Server};
use support::wait_until;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn app(hub: FrameHub, reasons: Arc<Mutex<Vec<DisconnectReason>>>) -> Router {
    Router::new()
        .route(
            "/whoami",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/stream",
            get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .with_state(hub)
        .layer(
            MjpegLayer::new()
                .boundary("B")
                .unwrap()
                .on_disconnect(move |e| reasons.lock().unwrap().push(e.reason)),
        )
}

/// Sends a GET and returns the response head (and whatever body came with it).
async fn get_head(addr: SocketAddr, path: &str) -> (tokio::net::TcpStream, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    (stream, String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test]
async fn axum_serve_keeps_connect_info_graceful_shutdown_and_closes_stalled_viewers() {
    let hub = FrameHub::new();
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let server = Server::new().write_stall_timeout(Some(Duration::from_millis(300)));
    let listener = mjpeg_axum::listener_with(server, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(
        axum::serve(
            listener,
            app(hub.clone(), Arc::clone(&reasons))
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .into_future(),
    );

    // ConnectInfo<SocketAddr> reaches the handler.
    let (client, head) = get_head(addr, "/whoami").await;
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.ends_with(&client.local_addr().unwrap().to_string()),
        "{head}"
    );

    // A viewer that never reads is closed by the stall timeout.
    let (_silent, head) = get_head(addr, "/stream").await;
    assert!(
        head.contains("multipart/x-mixed-replace; boundary=B"),
        "{head}"
    );
    wait_until(|| hub.viewers() == 1).await;
    let big = hub.clone();
    let producer = tokio::spawn(async move {
        for n in 0..=255u8 {
            big.publish(Frame::jpeg(vec![n; 100_000]));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    wait_until(|| hub.viewers() == 0).await;
    assert_eq!(
        reasons.lock().unwrap().as_slice(),
        [DisconnectReason::ClientClosed],
        "documented: axum::serve cannot carry the stall flag to the layer"
    );
    producer.abort();

    // Graceful shutdown: stop the hubs first, then the server.
    let (mut viewer, _) = get_head(addr, "/stream").await;
    wait_until(|| hub.viewers() == 1).await;
    hub.stop();
    let mut rest = Vec::new();
    let mut buf = vec![0; 65536];
    while !String::from_utf8_lossy(&rest).contains("--B--\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), viewer.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before the close delimiter");
        rest.extend_from_slice(&buf[..n]);
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
