#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::time::Duration;

use mjpeg_axum::FrameHub;
use mjpeg_example_scenery::testing::{
    assert_jpeg, eventually, json, next_jpeg, next_part, open, serve, small_sine, text, within,
};

/// Serves the app with a small render loop; returns its address and hub.
async fn start() -> (String, FrameHub) {
    let hub = FrameHub::new();
    small_sine().spawn(hub.clone());
    let addr = serve(super::app(hub.clone())).await;
    (format!("http://{addr}"), hub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_yields_jpeg_parts_that_move() {
    let (url, _hub) = start().await;
    let mut parts = open(&format!("{url}/stream")).await;
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(next_jpeg(&mut parts).await);
    }
    assert_ne!(frames[0], frames[1]);
    assert_ne!(frames[1], frames[2]);
    assert_ne!(frames[0], frames[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_is_one_jpeg() {
    let (url, _hub) = start().await;
    let res = within(reqwest::get(format!("{url}/snapshot")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_jpeg(&within(res.bytes()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_is_json_with_viewers() {
    let (url, _hub) = start().await;
    let stats = json(&format!("{url}/stats")).await;
    assert_eq!(stats["viewers"], 0);
    assert_eq!(stats["status"], "idle");
    for field in ["frames_published", "frames_sent", "frames_dropped"] {
        assert!(stats[field].is_u64(), "{field} in {stats}");
    }

    let mut parts = open(&format!("{url}/stream")).await;
    next_part(&mut parts).await.expect("a frame");
    let stats = json(&format!("{url}/stats")).await;
    assert_eq!(stats["viewers"], 1);
    assert_eq!(stats["status"], "streaming");
    assert!(stats["frames_sent"].as_u64().unwrap() >= 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_page_shows_the_stream_and_stats() {
    let (url, _hub) = start().await;
    let html = text(&format!("{url}/")).await;
    assert!(html.contains(r#"<img src="/stream""#), "{html}");
    assert!(html.contains("/stats"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renders_only_while_someone_watches() {
    let (url, hub) = start().await;
    let published = || hub.stats().published;
    // One frame at start, for /snapshot; then nothing without viewers.
    eventually(|| published() == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(published(), 1);

    let mut parts = open(&format!("{url}/stream")).await;
    for _ in 0..3 {
        next_part(&mut parts).await.expect("a frame");
    }
    assert!(published() >= 3, "{}", published());

    // The viewer leaves: once a frame in flight is out, rendering pauses again.
    drop(parts);
    eventually(|| hub.viewers() == 0).await;
    let mut last = published();
    within(async {
        loop {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let now = published();
            if now == last {
                break;
            }
            last = now;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(published(), last);
}

#[test]
fn the_command_line_is_checked() {
    use clap::Parser;
    let args = super::Args::try_parse_from(["sine", "--fps", "10", "--size", "320x240"]).unwrap();
    assert_eq!((args.fps, args.size.width, args.quality), (10, 320, 80));
    assert!(super::Args::try_parse_from(["sine", "--fps", "0"]).is_err());
    assert!(super::Args::try_parse_from(["sine", "--size", "8x8"]).is_err());
    assert!(super::Args::try_parse_from(["sine", "--colour", "red"]).is_err());
}
