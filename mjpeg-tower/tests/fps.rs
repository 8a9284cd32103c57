//! Per-viewer frame rates on one hub (`hub.subscribe().max_fps(..)`), in
//! paused time: deterministic, whatever the machine's load.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use http::Request;
use http_body_util::BodyExt;
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use support::app;
use tower::ServiceExt;

/// `fps=N` from a query string.
fn fps(query: Option<&str>) -> Option<u32> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("fps="))?
        .parse()
        .ok()
}

/// The distinct frames a viewer of `path` receives until the hub stops.
async fn viewer(layer: MjpegLayer, hub: &FrameHub, path: &str) -> tokio::task::JoinHandle<usize> {
    let h = hub.clone();
    let svc = app(layer, move |req| {
        h.subscribe()
            .max_fps(fps(req.uri().query()))
            .into_http_response()
    });
    let req = Request::get(path).body(()).unwrap();
    let mut body = svc.oneshot(req).await.unwrap().into_body();
    tokio::spawn(async move {
        let mut seen = BTreeSet::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            if let Some(n) = data.strip_prefix(b"frame ") {
                seen.insert(n.to_vec());
            }
        }
        seen.len()
    })
}

fn within_5_percent(got: usize, want: usize) -> bool {
    got.abs_diff(want) * 20 <= want
}

#[tokio::test(start_paused = true)]
async fn viewers_at_2_and_30_fps_on_a_30_fps_hub_each_get_their_rate() {
    let hub = FrameHub::new();
    let layer = || MjpegLayer::new().boundary("B").unwrap();
    let slow = viewer(layer(), &hub, "/stream?fps=2").await;
    let fast = viewer(layer(), &hub, "/stream?fps=30").await;
    let all = viewer(layer(), &hub, "/stream").await;
    // The layer caps at 10: a viewer asking for 30 gets 10.
    let capped = viewer(layer().max_fps(Some(10)), &hub, "/stream?fps=30").await;
    assert_eq!(hub.viewers(), 4);

    // 60 s at 30 fps: long enough that the first and last frames (sent
    // whatever the rate) weigh under 5%.
    let mut tick = tokio::time::interval(Duration::from_secs(1) / 30);
    for n in 0..1800 {
        tick.tick().await;
        hub.publish(Frame::jpeg(format!("frame {n}")));
    }
    hub.stop();
    let (slow, fast, all, capped) = (
        slow.await.unwrap(),
        fast.await.unwrap(),
        all.await.unwrap(),
        capped.await.unwrap(),
    );
    assert!(
        within_5_percent(slow, 120),
        "2 fps viewer: {slow} frames in 60 s"
    );
    assert!(
        within_5_percent(fast, 1800),
        "30 fps viewer: {fast} frames in 60 s"
    );
    assert_eq!(all, 1800);
    assert!(
        within_5_percent(capped, 600),
        "capped viewer: {capped} frames in 60 s"
    );
    // Each frame was published once, whatever the viewers' rates.
    assert_eq!(hub.stats().published, 1800);
}

#[tokio::test(start_paused = true)]
async fn a_slow_viewer_still_gets_the_last_frame_of_a_burst() {
    let hub = FrameHub::new();
    let layer = MjpegLayer::new().boundary("B").unwrap();
    let h = hub.clone();
    let svc = app(layer, move |_| {
        h.subscribe().max_fps(Some(1)).into_http_response()
    });
    let mut body = svc.oneshot(Request::new(())).await.unwrap().into_body();
    // A burst of five frames, then the source goes quiet.
    for n in 0..5 {
        hub.publish(Frame::jpeg(format!("frame {n}")));
    }
    let mut got = Vec::new();
    let read = async {
        while got.len() < 2 {
            let data = body.frame().await.unwrap().unwrap().into_data().unwrap();
            if data.starts_with(b"frame ") {
                got.push(data);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .unwrap();
    assert_eq!(got, ["frame 0", "frame 4"]);
}
