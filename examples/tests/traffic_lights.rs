//! The `traffic-lights` router: a finite per-request stream.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use mjpeg_examples::traffic::{TrafficLights, app};
use support::{jpeg, next_part, open, serve, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_loop_delivers_three_lights_then_closes() {
    let lights = TrafficLights::new(1, Duration::from_millis(20)).unwrap();
    let addr = serve(app(lights)).await;
    let mut parts = open(&format!("http://{addr}/lights")).await;
    let mut frames = Vec::new();
    while let Some(part) = next_part(&mut parts).await {
        frames.push(jpeg(&part));
    }
    assert!(parts.decoder().is_closed(), "no close delimiter");
    // Red, yellow, green; then green again, filling the part announced
    // after it, so it stays on screen in every browser.
    assert_eq!(frames.len(), 4, "{} frames", frames.len());
    assert_ne!(frames[0], frames[1]);
    assert_ne!(frames[1], frames[2]);
    assert_ne!(frames[0], frames[2]);
    assert_eq!(frames[3], frames[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_viewer_gets_the_whole_stream() {
    let lights = TrafficLights::new(2, Duration::from_millis(10)).unwrap();
    let addr = serve(app(lights)).await;
    let url = format!("http://{addr}/lights");
    let (mut a, mut b) = (open(&url).await, open(&url).await);
    let (mut count_a, mut count_b) = (0, 0);
    while next_part(&mut a).await.is_some() {
        count_a += 1;
    }
    while next_part(&mut b).await.is_some() {
        count_b += 1;
    }
    assert_eq!((count_a, count_b), (7, 7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_page_shows_the_lights() {
    let lights = TrafficLights::new(1, Duration::from_millis(20)).unwrap();
    let addr = serve(app(lights)).await;
    let html = within(reqwest::get(format!("http://{addr}/")))
        .await
        .unwrap();
    assert!(html.text().await.unwrap().contains(r#"<img src="/lights""#));
}
