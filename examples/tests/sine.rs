//! The `sine` router served on port 0, read with a real HTTP client.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use support::{Sine, eventually, jpeg, next_part, open, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_yields_jpeg_parts_that_move() {
    let sine = Sine::start("127.0.0.1:0".parse().unwrap()).await;
    let mut parts = open(&format!("http://{}/stream", sine.addr)).await;
    let mut frames = Vec::new();
    for _ in 0..3 {
        let part = next_part(&mut parts).await.expect("an endless stream");
        frames.push(jpeg(&part));
    }
    assert_ne!(frames[0], frames[1]);
    assert_ne!(frames[1], frames[2]);
    assert_ne!(frames[0], frames[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_is_one_jpeg() {
    let sine = Sine::start("127.0.0.1:0".parse().unwrap()).await;
    let res = within(reqwest::get(format!("http://{}/snapshot", sine.addr)))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let body = within(res.bytes()).await.unwrap();
    support::assert_jpeg(&body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_is_json_with_viewers() {
    let sine = Sine::start("127.0.0.1:0".parse().unwrap()).await;
    let url = format!("http://{}/stats", sine.addr);
    let res = within(reqwest::get(&url)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let stats: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(stats["viewers"], 0);
    assert_eq!(stats["status"], "idle");
    for field in ["frames_published", "frames_sent", "frames_dropped"] {
        assert!(stats[field].is_u64(), "{field} in {stats}");
    }

    let mut parts = open(&format!("http://{}/stream", sine.addr)).await;
    next_part(&mut parts).await.expect("a frame");
    let body = within(reqwest::get(&url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(stats["viewers"], 1);
    assert_eq!(stats["status"], "streaming");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_page_shows_the_stream() {
    let sine = Sine::start("127.0.0.1:0".parse().unwrap()).await;
    let res = within(reqwest::get(format!("http://{}/", sine.addr)))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<img src="/stream""#), "{html}");
    assert!(html.contains("/stats"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renders_only_while_someone_watches() {
    let sine = Sine::start("127.0.0.1:0".parse().unwrap()).await;
    let published = || sine.hub.stats().published;
    // One frame at start, for /snapshot; then nothing without viewers.
    eventually(|| published() == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(published(), 1);

    let mut parts = open(&format!("http://{}/stream", sine.addr)).await;
    for _ in 0..3 {
        next_part(&mut parts).await.expect("a frame");
    }
    assert!(published() >= 3, "{}", published());

    // The viewer leaves: once a frame in flight is out, rendering pauses again.
    drop(parts);
    eventually(|| sine.hub.viewers() == 0).await;
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
