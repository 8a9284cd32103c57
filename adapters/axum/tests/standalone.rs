//! The responders in an axum router with no `MjpegLayer`: they stream with
//! the default configuration, as axum's own `Sse` does.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use futures_util::stream;
use mjpeg_axum::{Frame, FrameHub, Mjpeg};
use mjpeg_tower::decode::Decoder;
use support::wait_until;

const BOUNDARY: &str = "mjpeg-tower-boundary-2f9c4e7a1d";

fn parts(body: &[u8]) -> Vec<Vec<u8>> {
    let mut decoder = Decoder::new(BOUNDARY).unwrap().strict(true);
    decoder.push(body);
    let mut parts = Vec::new();
    while let Some(part) = decoder.next_part().unwrap() {
        parts.push(part.body.to_vec());
    }
    assert!(decoder.is_closed(), "no close delimiter");
    parts
}

#[tokio::test]
async fn responders_stream_without_the_layer_on_plain_axum_serve() {
    let hub = FrameHub::new();
    hub.publish(Frame::jpeg("latest"));
    let app = Router::new()
        .route(
            "/finite",
            get(|| async { Mjpeg::new(stream::iter(["a", "b"])) }),
        )
        .route(
            "/stream",
            get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .route(
            "/snapshot",
            get(|State(hub): State<FrameHub>| async move { hub.snapshot() }),
        )
        .with_state(hub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app).into_future());

    let res = reqwest::get(format!("http://{addr}/finite")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        format!("multipart/x-mixed-replace; boundary={BOUNDARY}").as_str()
    );
    assert!(res.headers().get("content-length").is_none());
    let body = res.bytes().await.unwrap();
    assert_eq!(parts(&body), [b"a".to_vec(), b"b".to_vec(), b"b".to_vec()]);

    let snap = reqwest::get(format!("http://{addr}/snapshot"))
        .await
        .unwrap();
    assert_eq!(snap.status(), 200);
    assert_eq!(snap.headers()["content-type"], "image/jpeg");
    assert_eq!(snap.bytes().await.unwrap(), "latest");

    let live = reqwest::get(format!("http://{addr}/stream")).await.unwrap();
    assert_eq!(live.status(), 200);
    let waiting = tokio::spawn(live.bytes());
    wait_until(|| hub.viewers() == 1).await;
    hub.stop();
    let body = waiting.await.unwrap().unwrap();
    assert_eq!(parts(&body), [b"latest".to_vec(), b"latest".to_vec()]);
}
