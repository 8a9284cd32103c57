#![allow(clippy::unwrap_used)] // test helpers fail loudly

use mjpeg_example_scenery::testing::{json, next_jpeg, open, small_sine, text};
use mjpeg_warp::{FrameHub, MjpegLayer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_stats_and_page() {
    let hub = FrameHub::new();
    let _renderer = small_sine().spawn(hub.clone());
    let layer = MjpegLayer::new();
    let service = warp::service(super::app(hub, layer.clone()));
    let listener = mjpeg_warp::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mjpeg_warp::serve(listener, service, layer));

    let mut parts = open(&format!("http://{addr}/stream")).await;
    let first = next_jpeg(&mut parts).await;
    let second = next_jpeg(&mut parts).await;
    assert_ne!(first, second);

    let stats = json(&format!("http://{addr}/stats")).await;
    assert_eq!(stats["viewers"], 1, "{stats}");
    assert!(stats["frames_sent"].as_u64().unwrap() >= 2, "{stats}");
    let html = text(&format!("http://{addr}/")).await;
    assert!(html.contains(r#"<img src="/stream""#), "{html}");
}
