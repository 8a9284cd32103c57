#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use mjpeg_axum::{FrameHub, MjpegLayer};
use mjpeg_example_scenery::testing::{jpeg, next_jpeg, next_part, open, serve, small_sine, within};
use reqwest::Url;

use super::upstream::{Relay, TIMESTAMP_HEADER};

/// A live sine upstream: its address and a way to kill it.
struct Upstream {
    addr: SocketAddr,
    hub: FrameHub,
    server: tokio::task::JoinHandle<()>,
}

impl Upstream {
    async fn start(addr: SocketAddr) -> Self {
        let hub = FrameHub::new();
        small_sine().spawn(hub.clone());
        let h = hub.clone();
        let app = Router::new()
            .route("/stream", get(move || async move { h.subscribe() }))
            .layer(MjpegLayer::new());
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, hub, server }
    }

    /// Its streams end and its listener closes.
    fn kill(&self) {
        self.hub.stop();
        self.server.abort();
    }
}

/// Serves a relay of `upstream`; returns the relay's stream URL.
async fn start_relay(upstream: &Upstream, overlay: bool) -> String {
    let url = Url::parse(&format!("http://{}/stream", upstream.addr)).unwrap();
    let hub = FrameHub::new();
    Relay {
        overlay,
        ..Relay::new(url.clone())
    }
    .spawn(hub.clone());
    // A short heartbeat keeps the test quick; the binary uses 1 s.
    let layer = super::layer(Duration::from_millis(200), overlay);
    let addr = serve(super::app(hub, layer, &url)).await;
    format!("http://{addr}/stream")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_keeps_the_last_frame_and_reconnects() {
    let upstream = Upstream::start("127.0.0.1:0".parse().unwrap()).await;
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
    let _revived = Upstream::start(upstream.addr).await;
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
    let upstream = Upstream::start("127.0.0.1:0".parse().unwrap()).await;
    let mut parts = open(&start_relay(&upstream, true).await).await;
    for _ in 0..2 {
        let part = next_part(&mut parts).await.expect("a frame");
        jpeg(&part);
        let stamp = part.headers[TIMESTAMP_HEADER].to_str().unwrap();
        assert!(stamp.parse::<u64>().unwrap() > 1_600_000_000_000, "{stamp}");
    }
}

#[test]
fn the_command_line_needs_an_http_upstream() {
    use clap::Parser;
    let ok = super::Args::try_parse_from(["relay", "--upstream", "http://127.0.0.1:1/stream"]);
    assert_eq!(ok.unwrap().addr.port(), 8081);
    assert!(super::Args::try_parse_from(["relay", "--overlay"]).is_err());
    let tls = super::Args::try_parse_from(["relay", "--upstream", "https://example.com/"]);
    assert!(tls.unwrap_err().to_string().contains("without TLS"));
}
