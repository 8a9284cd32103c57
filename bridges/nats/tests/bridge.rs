//! Origin -> real `nats-server` -> edges -> HTTP viewers.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::{Duration, Instant};

use http::HeaderValue;
use mjpeg_nats::{NatsEdge, NatsOrigin};
use mjpeg_tower::FrameHub;
use support::{ServedEdge, broker, eventually, frame, next_part, publish_every, seq, within};

const NO_HEARTBEAT: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn edge_viewer_gets_origin_frames_with_their_part_headers() {
    let Some(broker) = broker("edge_viewer_gets_origin_frames_with_their_part_headers") else {
        return;
    };
    let origin = NatsOrigin::builder("cam")
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    let edge = ServedEdge::start(&broker.url(), "cam", NO_HEARTBEAT).await;
    let publisher = publish_every(origin.clone(), Duration::from_millis(20));
    let mut viewer = edge.viewer().await;
    let first = seq(&next_part(&mut viewer).await);
    let part = next_part(&mut viewer).await;
    assert!(seq(&part) > first, "live frames follow");
    assert_eq!(part.content_type(), Some("image/jpeg"));
    assert_eq!(part.body, frame(seq(&part), 2000).into_data());
    publisher.abort();
    let stats = edge.edge.stats();
    // The first frame may come from the "latest" request rather than live.
    assert!(stats.frames_published >= 2, "{stats:?}");
    assert!(stats.connected && stats.last_latency.is_some(), "{stats:?}");
    assert_eq!(origin.stats().publish_errors, 0);
}

#[tokio::test]
async fn late_joiner_on_a_fresh_edge_gets_the_latest_frame_at_once() {
    let Some(broker) = broker("late_joiner_on_a_fresh_edge_gets_the_latest_frame_at_once") else {
        return;
    };
    let origin = NatsOrigin::builder("rare")
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    // One frame, long before any edge exists; nothing after it.
    origin.publish(frame(7, 2000));
    eventually("the frame to be sent", || origin.stats().published == 1).await;

    let started = Instant::now();
    let edge = ServedEdge::start(&broker.url(), "rare", NO_HEARTBEAT).await;
    let mut viewer = edge.viewer().await;
    let part = next_part(&mut viewer).await;
    let waited = started.elapsed();
    assert_eq!(seq(&part), 7);
    eprintln!("fresh edge + viewer: first frame after {waited:?}");
    assert!(waited < Duration::from_secs(1), "took {waited:?}");
    assert_eq!(edge.edge.stats().latest_fetched, 1);
    assert_eq!(origin.stats().latest_requests, 1);
}

#[tokio::test]
async fn broker_restart_keeps_viewers_and_resumes_within_two_seconds() {
    let Some(mut broker) = broker("broker_restart_keeps_viewers_and_resumes_within_two_seconds")
    else {
        return;
    };
    let origin = NatsOrigin::builder("live")
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    let edge = ServedEdge::start(&broker.url(), "live", Duration::from_millis(100)).await;
    let publisher = publish_every(origin.clone(), Duration::from_millis(20));
    let mut viewer = edge.viewer().await;
    next_part(&mut viewer).await;

    broker.kill();
    // The origin keeps publishing into the void; the viewer keeps getting
    // the last frame (heartbeat) and stays connected.
    let down = Instant::now();
    let mut last_before = 0;
    while down.elapsed() < Duration::from_millis(800) {
        last_before = last_before.max(seq(&next_part(&mut viewer).await));
    }
    let stats = edge.edge.stats();
    assert!(!stats.connected && stats.disconnects >= 1, "{stats:?}");

    broker.restart().unwrap();
    let back = Instant::now();
    loop {
        let part = next_part(&mut viewer).await;
        if seq(&part) > last_before {
            break;
        }
    }
    let resumed = back.elapsed();
    eprintln!("live frames resumed {resumed:?} after the broker came back");
    assert!(resumed < Duration::from_secs(2), "took {resumed:?}");
    publisher.abort();

    let edge_stats = edge.edge.stats();
    assert!(edge_stats.reconnects >= 1, "{edge_stats:?}");
    let origin_stats = origin.stats();
    assert!(origin_stats.reconnects >= 1, "{origin_stats:?}");
    assert!(origin_stats.dropped_disconnected >= 1, "{origin_stats:?}");
    assert_eq!(edge.hub.stats().viewers, 1, "the viewer never left");
}

#[tokio::test]
async fn two_megabyte_frame_crosses_the_default_one_megabyte_limit() {
    let Some(broker) = broker("two_megabyte_frame_crosses_the_default_one_megabyte_limit") else {
        return;
    };
    let origin = NatsOrigin::builder("big")
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    let hub = FrameHub::new();
    let edge = NatsEdge::builder("big")
        .unwrap()
        .connect(&broker.url(), hub.clone())
        .await
        .unwrap();
    let big = frame(3, 2 * 1024 * 1024)
        .with_header("x-note".parse().unwrap(), HeaderValue::from_static("big"));
    origin.publish(big.clone());
    eventually("the big frame at the edge", || hub.latest().is_some()).await;
    assert_eq!(hub.latest().unwrap(), big);
    assert_eq!(origin.stats().chunked, 1);
    assert_eq!(edge.stats().incomplete, 0);
    // The connection survived (the broker closes it on an oversized message).
    origin.publish(frame(4, 100));
    eventually("a small frame after it", || {
        hub.latest().is_some_and(|f| f.headers()["x-seq"] == "4")
    })
    .await;
    assert_eq!(origin.stats().disconnects, 0);
}

#[tokio::test]
async fn a_dead_edge_affects_only_its_own_viewers() {
    let Some(broker) = broker("a_dead_edge_affects_only_its_own_viewers") else {
        return;
    };
    let origin = NatsOrigin::builder("iso")
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    let doomed = ServedEdge::start(&broker.url(), "iso", NO_HEARTBEAT).await;
    let survivor = ServedEdge::start(&broker.url(), "iso", NO_HEARTBEAT).await;
    let publisher = publish_every(origin.clone(), Duration::from_millis(20));
    let mut doomed_viewer = doomed.viewer().await;
    let mut viewer = survivor.viewer().await;
    next_part(&mut doomed_viewer).await;
    next_part(&mut viewer).await;

    drop(doomed);
    // Its viewer's stream ends...
    within(async {
        while let Some(Ok(_)) = futures_util::StreamExt::next(&mut doomed_viewer).await {}
    })
    .await;
    // ...while the other edge's viewer goes on getting live frames.
    let before = origin.stats();
    let mut last = seq(&next_part(&mut viewer).await);
    for _ in 0..10 {
        let now = seq(&next_part(&mut viewer).await);
        assert!(now > last);
        last = now;
    }
    publisher.abort();
    let after = origin.stats();
    assert!(after.published > before.published);
    assert_eq!(after.publish_errors, 0);
    assert_eq!(after.disconnects, 0);
}

#[tokio::test]
async fn origin_never_waits_while_the_broker_is_down() {
    let Some(mut broker) = broker("origin_never_waits_while_the_broker_is_down") else {
        return;
    };
    let origin = NatsOrigin::builder("down")
        .unwrap()
        .connect(&broker.url())
        .await
        .unwrap();
    broker.kill();
    eventually("the origin to see the loss", || {
        origin.stats().disconnects == 1
    })
    .await;
    let started = Instant::now();
    for seq in 0..10_000 {
        assert!(origin.publish(frame(seq, 50_000)));
        if seq % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let stats = origin.stats();
    assert_eq!(stats.published, 0, "{stats:?}");
    assert_eq!(
        stats.dropped + stats.dropped_disconnected + u64::from(origin_has_one_waiting(&stats)),
        10_000,
        "{stats:?}"
    );
}

/// At most one frame may still sit in the slot.
fn origin_has_one_waiting(stats: &mjpeg_nats::OriginStats) -> bool {
    stats.dropped + stats.dropped_disconnected < 10_000
}
