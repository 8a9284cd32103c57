//! An origin and three edges over a real `nats-server`, each edge serving
//! its own viewers.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use mjpeg_axum::FrameHub;
use mjpeg_example_scenery::testing::{json, next_jpeg, open, serve};
use mjpeg_nats::{LocalBroker, NatsEdge, NatsOrigin};

use super::{Render, STREAM};

/// A broker, or a skip (said on stderr) when `nats-server` is missing and
/// `CI` is not `true`.
fn broker() -> Option<LocalBroker> {
    match LocalBroker::start() {
        Ok(broker) => Some(broker),
        Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true requires nats-server: {err}")
        }
        Err(err) => {
            eprintln!("skipping the multi-node test: {err}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_edges_each_serve_the_origins_sine_wave() {
    let Some(broker) = broker() else { return };
    let origin = NatsOrigin::builder(STREAM)
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    let render = Render {
        fps: 20,
        size: "160x120".parse().unwrap(),
    };
    let renderer = tokio::spawn(super::origin(origin.clone(), render));

    let mut addrs = Vec::new();
    for _ in 0..3 {
        let hub = FrameHub::new();
        let edge = NatsEdge::builder(STREAM).unwrap();
        let edge = edge.connect(&broker.url(), hub.clone()).await.unwrap();
        addrs.push(serve(super::edge_app(hub, edge)).await);
    }
    for addr in &addrs {
        let mut viewer = open(&format!("http://{addr}/stream")).await;
        let first = next_jpeg(&mut viewer).await;
        let second = next_jpeg(&mut viewer).await;
        assert_ne!(first, second, "edge {addr} serves live frames");
        let nats = json(&format!("http://{addr}/nats")).await;
        assert_eq!(nats["connected"], true, "{nats}");
        assert!(nats["frames_received"].as_u64().unwrap() >= 1, "{nats}");
    }
    let page = super::launcher::page(&addrs);
    for addr in &addrs {
        assert!(
            page.contains(&format!("src=\"http://{addr}/stream\"")),
            "{page}"
        );
    }
    renderer.abort();
    assert_eq!(origin.stats().publish_errors, 0);
}
