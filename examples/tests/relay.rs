//! The `relay` example chained behind a live `sine` upstream.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use bytes::Bytes;
use mjpeg_examples::relay::{self, Relay, TIMESTAMP_HEADER};
use mjpeg_tower::FrameHub;
use reqwest::Url;
use support::{Parts, Sine, jpeg, next_part, open, serve, within};

/// Serves a relay of `upstream`; returns the relay's stream URL.
async fn start_relay(upstream: &Sine, overlay: bool) -> String {
    let url = Url::parse(&format!("http://{}/stream", upstream.addr)).unwrap();
    let hub = FrameHub::new();
    Relay {
        overlay,
        ..Relay::new(url.clone())
    }
    .spawn(hub.clone());
    // A short heartbeat keeps the test quick; the binary uses 1 s.
    let layer = relay::layer(Duration::from_millis(200), overlay);
    let addr = serve(relay::app(hub, layer, &url)).await;
    format!("http://{addr}/stream")
}

async fn next_jpeg(parts: &mut Parts) -> Bytes {
    jpeg(
        &next_part(parts)
            .await
            .expect("the relay's stream never ends"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_keeps_the_last_frame_and_reconnects() {
    let upstream = Sine::start("127.0.0.1:0".parse().unwrap()).await;
    let mut parts = open(&start_relay(&upstream, false).await).await;
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(next_jpeg(&mut parts).await);
    }
    assert_ne!(frames[1], frames[2], "the upstream's frames move");

    // The upstream dies. The relay's viewer is not cut off: the heartbeat
    // repeats the last frame, so the same bytes arrive twice in a row.
    upstream.kill();
    let frozen = within(async {
        let mut previous = next_jpeg(&mut parts).await;
        loop {
            let frame = next_jpeg(&mut parts).await;
            if frame == previous {
                break frame;
            }
            previous = frame;
        }
    })
    .await;
    assert_eq!(next_jpeg(&mut parts).await, frozen, "heartbeat");

    // A new upstream on the same address: the relay reconnects by itself
    // and its viewer sees live frames again.
    let _revived = Sine::start(upstream.addr).await;
    within(async {
        let mut live = next_jpeg(&mut parts).await;
        while live == frozen {
            live = next_jpeg(&mut parts).await;
        }
        let mut next = next_jpeg(&mut parts).await;
        while next == live {
            next = next_jpeg(&mut parts).await;
        }
        assert_ne!(next, frozen);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlay_adds_a_timestamp_to_each_part() {
    let upstream = Sine::start("127.0.0.1:0".parse().unwrap()).await;
    let mut parts = open(&start_relay(&upstream, true).await).await;
    for _ in 0..2 {
        let part = next_part(&mut parts).await.expect("a frame");
        jpeg(&part);
        let stamp = part.headers[TIMESTAMP_HEADER].to_str().unwrap();
        assert!(stamp.parse::<u64>().unwrap() > 1_600_000_000_000, "{stamp}");
    }
}
