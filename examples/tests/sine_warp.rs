//! The `sine` routes as warp filters, served through `mjpeg_warp`.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use mjpeg_examples::sine_warp::app;
use mjpeg_tower::{FrameHub, MjpegLayer};
use support::{jpeg, next_part, open, small_sine, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_yields_jpeg_parts() {
    let hub = FrameHub::new();
    let _renderer = small_sine().spawn(hub.clone());
    let layer = MjpegLayer::new();
    let service = warp::service(app(hub, layer.clone()));
    let listener = mjpeg_warp::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mjpeg_warp::serve(listener, service, layer));

    let mut parts = open(&format!("http://{addr}/stream")).await;
    let first = jpeg(&next_part(&mut parts).await.expect("a frame"));
    let second = jpeg(&next_part(&mut parts).await.expect("a frame"));
    assert_ne!(first, second);

    let res = within(reqwest::get(format!("http://{addr}/stats")))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    let stats: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(stats["viewers"], 1);

    let html = within(reqwest::get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert!(html.text().await.unwrap().contains(r#"<img src="/stream""#));
}
