//! The named-stream routes on a real socket: the list, refusals, an
//! on-demand source that starts for a viewer.
#![allow(clippy::unwrap_used)] // tests fail loudly

mod support;

use std::time::Duration;

use axum::Router;
use futures_util::StreamExt;
use mjpeg_axum::streams::{OnDemand, Streams};
use mjpeg_axum::{Frame, FrameHub, MjpegLayer};

const JPEG: [u8; 4] = [0xFF, 0xD8, 0xFF, 0xD9];

async fn serve(streams: Streams) -> String {
    let app: Router = mjpeg_axum::streams_router(streams).layer(MjpegLayer::new());
    let listener = mjpeg_axum::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mjpeg_axum::serve(listener, app));
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_streams_are_listed_served_and_refused_with_reasons() {
    let streams = Streams::new();
    let door = FrameHub::new();
    door.publish(Frame::jpeg(JPEG.to_vec()));
    streams.insert("door", door).unwrap();
    let yard = streams
        .insert_on_demand(
            "yard",
            OnDemand::new(|hub: FrameHub| async move {
                loop {
                    hub.publish(Frame::jpeg(JPEG.to_vec()));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .linger(Duration::from_millis(300)),
        )
        .unwrap();
    let url = serve(streams.clone()).await;

    let list = reqwest::get(format!("{url}/streams")).await.unwrap();
    assert_eq!(list.headers()["content-type"], "application/json");
    let list = list.text().await.unwrap();
    assert!(list.contains(r#""name":"door""#), "{list}");
    assert!(
        list.contains(r#""name":"yard","viewers":0,"published":0,"status":"idle""#),
        "{list}"
    );

    let bad = reqwest::get(format!("{url}/streams/a%20b/stream"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("stream name"));
    let unknown = reqwest::get(format!("{url}/streams/attic/snapshot"))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let snap = reqwest::get(format!("{url}/streams/door/snapshot"))
        .await
        .unwrap();
    assert_eq!(snap.headers()["content-type"], "image/jpeg");
    assert_eq!(snap.bytes().await.unwrap(), JPEG[..]);

    // The on-demand source starts for a viewer and stops after it leaves.
    let live = reqwest::get(format!("{url}/streams/yard/stream"))
        .await
        .unwrap();
    assert!(
        live.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/x-mixed-replace")
    );
    let mut body = live.bytes_stream();
    let mut seen = Vec::new();
    while seen.windows(2).filter(|w| w == &[0xFF, 0xD8]).count() < 3 {
        seen.extend_from_slice(&body.next().await.unwrap().unwrap());
    }
    assert!(yard.stats().published >= 3);
    drop(body);
    support::wait_until(|| streams.list()[1].status.as_str() == "idle").await;
    let stopped = yard.stats().published;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(yard.stats().published, stopped);
}
