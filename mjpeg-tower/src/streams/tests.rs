#![allow(clippy::unwrap_used)] // tests fail loudly

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;

use super::*;
use crate::lifecycle::outcome::BoxError;
use crate::wire::frame::Frame;

const JPEG: [u8; 4] = [0xFF, 0xD8, 0xFF, 0xD9];

/// A source publishing every 10 ms until stopped.
fn ticking() -> OnDemand {
    OnDemand::new(|hub: FrameHub| async move {
        loop {
            hub.publish(Frame::jpeg(JPEG.to_vec()));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}

fn status(streams: &Streams, name: &str) -> SourceStatus {
    let list = streams.list();
    list.into_iter()
        .find(|i| i.name.as_str() == name)
        .unwrap()
        .status
}

async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[test]
fn names_are_checked() {
    for bad in ["", ".hidden", "a/b", "a b", "é", &"x".repeat(65)] {
        assert!(StreamName::new(bad).is_err(), "{bad:?}");
    }
    for good in ["cam1", "front-door", "yard_2.hd", &"x".repeat(64)] {
        assert!(StreamName::new(good).is_ok(), "{good:?}");
    }
}

#[tokio::test]
async fn bad_names_are_400_and_unknown_ones_404() {
    let streams = Streams::new();
    streams.insert("door", FrameHub::new()).unwrap();
    assert_eq!(streams.subscribe("a b").status(), StatusCode::BAD_REQUEST);
    assert_eq!(streams.snapshot("..").status(), StatusCode::BAD_REQUEST);
    assert_eq!(streams.subscribe("yard").status(), StatusCode::NOT_FOUND);
    assert_eq!(streams.subscribe("door").status(), StatusCode::OK);
    assert!(streams.insert("no/slash", FrameHub::new()).is_err());
}

#[tokio::test]
async fn the_list_is_json_by_name() {
    let streams = Streams::new();
    let door = FrameHub::new();
    door.publish(Frame::jpeg(JPEG.to_vec()));
    streams.insert("door", door).unwrap();
    streams.insert_on_demand("attic", ticking()).unwrap();
    let json = info::to_json(&streams.list());
    assert_eq!(
        json,
        r#"[{"name":"attic","viewers":0,"published":0,"status":"idle","starts":0,"failures":0},{"name":"door","viewers":0,"published":1,"status":"static","starts":0,"failures":0}]"#
    );
}

#[tokio::test(start_paused = true)]
async fn on_demand_sources_start_with_a_viewer_and_stop_after_the_linger() {
    let streams = Streams::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    streams.on_event(move |e| seen.lock().unwrap().push(e.clone()));
    let hub = streams
        .insert_on_demand("cam", ticking().linger(Duration::from_secs(5)))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(hub.stats().published, 0, "nothing runs before a request");

    let mut viewer = streams.subscribe("cam").into_http_response().into_body();
    let first = http_body_util::BodyExt::frame(&mut viewer).await;
    assert!(first.unwrap().is_ok());
    assert_eq!(hub.viewers(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(status(&streams, "cam"), SourceStatus::Running);
    // Watching for longer than the linger keeps it running.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(status(&streams, "cam"), SourceStatus::Running);

    // The viewer leaves: the source keeps running for the linger, then stops.
    drop(viewer);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(status(&streams, "cam"), SourceStatus::Running);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(status(&streams, "cam"), SourceStatus::Idle);
    let stopped_at = hub.stats().published;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(hub.stats().published, stopped_at, "the source is stopped");
    let name = StreamName::new("cam").unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        [
            SourceEvent::Started { name: name.clone() },
            SourceEvent::Stopped { name }
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_source_answers_503_with_its_reason_and_is_retried_with_backoff() {
    let streams = Streams::new();
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let source = OnDemand::new(move |_hub: FrameHub| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(tokio::time::Instant::now());
            Err::<(), BoxError>("camera unplugged".into())
        }
    })
    .backoff(Duration::from_secs(1), Duration::from_secs(4))
    .linger(Duration::from_secs(30));
    streams.insert_on_demand("cam", source).unwrap();

    // A waiting viewer keeps the retries going.
    let viewer = streams.subscribe("cam").into_http_response();
    settle().await;
    tokio::time::sleep(Duration::from_millis(8_500)).await;
    let times = attempts.lock().unwrap().clone();
    let gaps: Vec<_> = times.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, [1, 2, 4], "retried after 1, 2, 4 s (capped)");

    let refused = streams.snapshot("cam");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = refused.into_http_response();
    assert!(res.headers().contains_key("retry-after"));
    let body = http_body_util::BodyExt::collect(res.into_body()).await;
    let body = body.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("camera unplugged"), "{body}");
    let list = streams.list();
    assert_eq!((list[0].starts, list[0].failures), (4, 4));
    drop(viewer);
}

#[tokio::test(start_paused = true)]
async fn removing_a_stream_stops_its_source_and_closes_its_viewers() {
    let streams = Streams::new();
    let hub = streams.insert_on_demand("cam", ticking()).unwrap();
    let _viewer = streams.subscribe("cam").into_http_response();
    settle().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(streams.remove("cam"));
    assert!(hub.is_stopped());
    assert!(streams.get("cam").is_none());
    assert_eq!(streams.subscribe("cam").status(), StatusCode::NOT_FOUND);
    settle().await;
    let published = hub.stats().published;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(hub.stats().published, published);
}

#[tokio::test(start_paused = true)]
async fn stop_ends_every_stream_and_source() {
    let streams = Streams::new();
    let door = FrameHub::new();
    streams.insert("door", door.clone()).unwrap();
    let yard = streams.insert_on_demand("yard", ticking()).unwrap();
    let _viewer = streams.subscribe("yard").into_http_response();
    settle().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    streams.stop();
    assert!(door.is_stopped() && yard.is_stopped());
    assert!(streams.list().is_empty());
    settle().await;
    let published = yard.stats().published;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(yard.stats().published, published, "the source is stopped");
}
