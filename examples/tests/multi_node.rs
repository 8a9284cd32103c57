//! The multi-node example: an origin and three edges over a real
//! `nats-server`, each edge serving its own viewers.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use mjpeg_examples::multi_node;
use mjpeg_examples::render::Size;
use mjpeg_nats::{LocalBroker, NatsOrigin};
use mjpeg_tower::FrameHub;
use support::{jpeg, next_part, open, serve, within};

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

#[tokio::test]
async fn three_edges_each_serve_the_origins_sine_wave() {
    let Some(broker) = broker() else { return };
    let origin = NatsOrigin::builder(multi_node::STREAM)
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    let renderer = multi_node::origin(origin.clone(), 20, Size::new(160, 120).unwrap(), 70);

    let mut addrs = Vec::new();
    for i in 1..=3 {
        let hub = FrameHub::new();
        let edge = multi_node::edge(&broker.url(), hub.clone()).await.unwrap();
        let app = multi_node::edge_app(hub, edge, &format!("edge {i}"));
        addrs.push(serve(app).await);
    }
    for addr in &addrs {
        let mut viewer = open(&format!("http://{addr}/stream")).await;
        let first = jpeg(&next_part(&mut viewer).await.unwrap());
        let second = jpeg(&next_part(&mut viewer).await.unwrap());
        assert_ne!(first, second, "edge {addr} serves live frames");
        let nats = within(reqwest::get(format!("http://{addr}/nats")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let nats: serde_json::Value = serde_json::from_str(&nats).unwrap();
        assert_eq!(nats["connected"], true, "{nats}");
        assert!(nats["frames_received"].as_u64().unwrap() >= 1, "{nats}");
    }
    let page = multi_node::launcher_page(&addrs);
    for addr in &addrs {
        assert!(
            page.contains(&format!("src=\"http://{addr}/stream\"")),
            "{page}"
        );
    }
    renderer.abort();
    assert_eq!(origin.stats().publish_errors, 0);
}
