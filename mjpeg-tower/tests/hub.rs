//! The broadcast hub, in process: late joiners, fan-out, stop, snapshots, options.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use http::{Method, Request, StatusCode};
use mjpeg_tower::{DisconnectReason, Frame, FrameHub, MjpegLayer, OverflowPolicy};
use support::{Event, Recorder, app, body_string, next_chunk};
use tokio::time::Instant;
use tower::ServiceExt;

fn layer() -> MjpegLayer {
    MjpegLayer::new().boundary("B").unwrap()
}

#[tokio::test(start_paused = true)]
async fn late_joiner_gets_latest_frame_at_once() {
    let hub = FrameHub::new();
    let producer = hub.clone();
    // A slow camera: one frame every 5 s.
    tokio::spawn(async move {
        for n in 0u32.. {
            producer.publish(Frame::new(format!("frame {n}")));
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    tokio::time::sleep(Duration::from_secs(7)).await; // frames 0 and 1 are out
    let h = hub.clone();
    let svc = app(layer(), move |_| h.subscribe().into_http_response());
    let joined = Instant::now();
    let mut body = svc.oneshot(Request::new(())).await.unwrap().into_body();
    assert_eq!(next_chunk(&mut body).await, "--B\r\n");
    assert_eq!(
        next_chunk(&mut body).await,
        "Content-Type: image/jpeg\r\n\r\n"
    );
    assert_eq!(next_chunk(&mut body).await, "frame 1");
    assert!(joined.elapsed() < Duration::from_millis(50));
    next_chunk(&mut body).await; // delimiter + advance headers
    assert_eq!(next_chunk(&mut body).await, "frame 2");
    assert_eq!(hub.viewers(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_viewers_get_every_frame_and_a_stalled_one_stays_bounded() {
    const VIEWERS: usize = 1000;
    const FRAMES: usize = 20;
    const FRAME_LEN: usize = 50_000;
    const HWM: usize = 200_000;
    let hub = FrameHub::new();
    let h = hub.clone();
    let svc = app(layer().high_water_mark(HWM), move |_| {
        h.subscribe().into_http_response()
    });

    let stalled = svc.clone().oneshot(Request::new(())).await.unwrap(); // never read
    let mut readers = Vec::new();
    for _ in 0..VIEWERS {
        let res = svc.clone().oneshot(Request::new(())).await.unwrap();
        readers.push(tokio::spawn(async move {
            let mut body = res.into_body();
            let mut payload_bytes = 0;
            while payload_bytes < FRAMES * FRAME_LEN {
                let chunk = next_chunk(&mut body).await;
                if chunk.len() == FRAME_LEN {
                    payload_bytes += FRAME_LEN;
                }
            }
            payload_bytes / FRAME_LEN
        }));
    }
    assert_eq!(hub.viewers(), VIEWERS + 1);
    for n in 0..FRAMES {
        hub.publish(Frame::new(vec![n as u8; FRAME_LEN]));
        // Let the readers keep up, as a paced producer would.
        support::wait_until(|| hub.stats().delivered >= ((n + 1) * VIEWERS) as u64).await;
    }
    for reader in readers {
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(30), reader)
                .await
                .unwrap()
                .unwrap(),
            FRAMES
        );
    }
    let stats = hub.stats();
    assert_eq!(stats.published, FRAMES as u64);
    assert!(stats.max_queued_bytes <= HWM + FRAME_LEN, "{stats:?}");
    assert!(
        stats.max_dropped >= (FRAMES - HWM / FRAME_LEN - 1) as u64,
        "{stats:?}"
    );
    assert_eq!(stats.min_delivered, 0, "the stalled viewer took nothing");
    drop(stalled);
}

#[tokio::test]
async fn stop_ends_every_stream_with_the_close_delimiter() {
    let rec = Recorder::default();
    let hub = FrameHub::new();
    hub.publish("only frame");
    let h = hub.clone();
    let layer = rec.attach(layer());
    let svc = app(layer.clone(), move |_| h.subscribe().into_http_response());
    let a = svc.clone().oneshot(Request::new(())).await.unwrap();
    let b = svc.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(hub.viewers(), 2);
    hub.stop();
    for res in [a, b] {
        let body = body_string(res).await;
        assert!(body.contains("only frame"));
        assert!(body.ends_with("\r\n--B--\r\n"), "{body:?}");
    }
    assert_eq!(hub.viewers(), 0);
    let disconnects = rec.disconnects();
    assert_eq!(disconnects.len(), 2);
    assert!(disconnects.iter().all(|e| matches!(
        e,
        Event::Disconnect {
            reason: DisconnectReason::Stopped,
            ..
        }
    )));
    assert_eq!(rec.events().last(), Some(&Event::Idle));
    assert_eq!(layer.stats().active, 0);

    // Later requests get a clear answer.
    let late = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(late.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body_string(late).await.contains("stopped"));
    assert!(!hub.publish("after stop"));
}

#[tokio::test]
async fn snapshot_answers_the_latest_frame_with_its_own_content_type() {
    let hub = FrameHub::new();
    hub.publish(
        Frame::new(&b"\x89PNG"[..]).with_content_type(http::HeaderValue::from_static("image/png")),
    );
    hub.publish(Frame::jpeg(&b"\xFF\xD8jpeg\xFF\xD9"[..]));
    let h = hub.clone();
    let svc = app(layer(), move |_| h.snapshot().into_http_response());
    let res = svc.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["content-length"], "8");
    assert_eq!(
        res.headers()["cache-control"],
        "no-cache, no-store, max-age=0, must-revalidate"
    );
    let res_body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&res_body[..], b"\xFF\xD8jpeg\xFF\xD9");
    let head = Request::builder().method(Method::HEAD).body(()).unwrap();
    let res = svc.oneshot(head).await.unwrap();
    assert_eq!(res.headers()["content-length"], "8");
    assert!(http_body::Body::is_end_stream(res.body()));
}

#[tokio::test(start_paused = true)]
async fn snapshot_waits_for_a_first_frame_then_answers_503() {
    let hub = FrameHub::builder()
        .snapshot_timeout(Duration::from_secs(3))
        .build();
    let h = hub.clone();
    let svc = app(layer(), move |_| h.snapshot().into_http_response());
    let started = Instant::now();
    let res = svc.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert!(body_string(res).await.contains("no frame"));

    let producer = hub.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        producer.publish("first");
    });
    let started = Instant::now();
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(body_string(res).await, "first");
}

#[tokio::test]
async fn duplicate_frames_are_skipped_when_asked() {
    let hub = FrameHub::builder().skip_duplicates(true).build();
    assert!(hub.publish("same"));
    assert!(!hub.publish("same"));
    assert!(hub.publish("other"));
    assert!(hub.publish("same"));
    let stats = hub.stats();
    assert_eq!((stats.published, stats.duplicates_skipped), (3, 1));
    let plain = FrameHub::new();
    assert!(plain.publish("same") && plain.publish("same"));
}

#[tokio::test(start_paused = true)]
async fn max_fps_skips_frames_above_the_rate_for_each_viewer() {
    let hub = FrameHub::new();
    let h = hub.clone();
    let layer = layer()
        .max_fps(Some(5))
        .overflow_policy(OverflowPolicy::KeepLatest);
    let svc = app(layer, move |_| h.subscribe().into_http_response());
    let res = svc.oneshot(Request::new(())).await.unwrap();
    // 50 frames over one second at 50 fps.
    for n in 0..50 {
        hub.publish(Frame::new(format!("f{n:02}")));
        tokio::time::advance(Duration::from_millis(20)).await;
    }
    hub.stop();
    let body = body_string(res).await;
    let sent: Vec<&str> = body
        .split("\r\n\r\n")
        .filter_map(|p| p.get(..3))
        .filter(|p| p.starts_with('f'))
        .collect();
    // On a 200 ms grid, where a frame up to 25 ms early is on time (f09 at
    // 180 ms). The newest skipped frame, f49, is held and goes out before
    // the end; the part announced after it is filled with it again.
    assert_eq!(sent, ["f00", "f09", "f19", "f29", "f39", "f49", "f49"]);
    let stats = hub.stats();
    assert_eq!((stats.delivered, stats.dropped), (6, 44));
}

#[tokio::test]
async fn wait_for_viewers_wakes_the_producer_when_someone_watches() {
    let hub = FrameHub::new();
    let h = hub.clone();
    let waiter = tokio::spawn(async move { h.wait_for_viewers().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiter.is_finished());
    let h = hub.clone();
    let svc = app(layer(), move |_| h.subscribe().into_http_response());
    let res = svc.oneshot(Request::new(())).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    drop(res);
    assert_eq!(hub.viewers(), 0);
}

#[tokio::test]
async fn wait_for_viewers_returns_false_once_the_hub_is_stopped() {
    let hub = FrameHub::new();
    let h = hub.clone();
    let waiter = tokio::spawn(async move { h.wait_for_viewers().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    hub.stop();
    let woke = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert!(!woke, "a stopped hub has no demand");
}

#[tokio::test(start_paused = true)]
async fn a_waiting_snapshot_wakes_a_producer_that_renders_on_demand() {
    let hub = FrameHub::builder()
        .snapshot_timeout(Duration::from_secs(3))
        .build();
    let producer = hub.clone();
    tokio::spawn(async move {
        while producer.wait_for_viewers().await {
            producer.publish("rendered on demand");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let h = hub.clone();
    let svc = app(layer(), move |_| h.snapshot().into_http_response());
    let started = Instant::now();
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(50));
    assert_eq!(body_string(res).await, "rendered on demand");
    // The snapshot was served: no demand is left, so the producer sleeps.
    let published = hub.stats().published;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(hub.stats().published <= published + 1);
}

#[tokio::test]
async fn snapshot_after_stop_answers_503_even_with_a_frame() {
    let hub = FrameHub::new();
    hub.publish("last frame");
    hub.stop();
    let h = hub.clone();
    let svc = app(layer(), move |_| h.snapshot().into_http_response());
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body_string(res).await.contains("stopped"));
    // Without the layer too.
    assert_eq!(
        hub.snapshot().into_http_response().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn snapshot_follows_the_layers_headers_and_keeps_the_handlers() {
    let hub = FrameHub::new();
    hub.publish("frame");
    let h = hub.clone();
    let layer = layer()
        .header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("max-age=2"),
        )
        .remove_header(http::header::EXPIRES);
    let svc = app(layer, move |_| {
        let mut res = h.snapshot().into_http_response();
        res.headers_mut()
            .insert("x-handler", http::HeaderValue::from_static("kept"));
        res
    });
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "max-age=2");
    assert!(res.headers().get("expires").is_none());
    assert_eq!(res.headers()["x-handler"], "kept");
}

/// A publisher hammers the hub from another thread while it is stopped:
/// once `stop` returns, the latest frame never changes again.
#[test]
fn nothing_is_published_after_stop_returns() {
    for _ in 0..200 {
        let hub = FrameHub::new();
        let (h, go) = (hub.clone(), std::sync::Arc::new(std::sync::Barrier::new(2)));
        let g = go.clone();
        let publisher = std::thread::spawn(move || {
            g.wait();
            let mut n = 0u64;
            while h.publish(Frame::new(n.to_be_bytes().to_vec())) {
                n += 1;
            }
        });
        go.wait();
        std::thread::yield_now();
        hub.stop();
        let at_stop = hub.latest();
        publisher.join().unwrap();
        assert_eq!(
            hub.latest(),
            at_stop,
            "a frame was published after stop returned"
        );
    }
}
