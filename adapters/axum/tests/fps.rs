//! `?fps=N` mapped to `hub.subscribe().max_fps(..)` in an axum handler,
//! over a real socket: the limited viewer gets its rate, the other every frame.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::future::IntoFuture;
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use futures_util::StreamExt;
use mjpeg_axum::{Frame, FrameHub, MjpegLayer};
use mjpeg_tower::decode::{Decoder, PartStream};
use tokio::time::Instant;

/// `fps=N` from a query string.
fn fps(query: Option<&str>) -> Option<u32> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("fps="))?
        .parse()
        .ok()
}

fn app(hub: FrameHub) -> Router {
    Router::new()
        .route(
            "/stream",
            get(
                |State(hub): State<FrameHub>, RawQuery(query): RawQuery| async move {
                    hub.subscribe().max_fps(fps(query.as_deref()))
                },
            ),
        )
        .with_state(hub)
        .layer(MjpegLayer::new())
}

/// Parts received from `url` during `window`.
async fn parts_within(url: String, window: Duration) -> usize {
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let decoder = Decoder::from_content_type(&content_type).unwrap();
    let mut parts = PartStream::new(decoder, Box::pin(res.bytes_stream()));
    let deadline = Instant::now() + window;
    let mut n = 0;
    while let Ok(Some(part)) = tokio::time::timeout_at(deadline, parts.next()).await {
        assert!(part.unwrap().body.starts_with(b"\xFF\xD8"));
        n += 1;
    }
    n
}

#[tokio::test]
async fn a_query_parameter_sets_one_viewers_frame_rate() {
    let hub = FrameHub::new();
    let listener = mjpeg_axum::listener("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    tokio::spawn(axum::serve(listener, app(hub.clone())).into_future());
    // 50 fps until the test ends.
    let producer = hub.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for n in 0u64.. {
            tick.tick().await;
            producer.publish(Frame::jpeg(
                [&b"\xFF\xD8"[..], &n.to_be_bytes(), b"\xFF\xD9"].concat(),
            ));
        }
    });

    let window = Duration::from_secs(3);
    let (limited, unlimited) = tokio::join!(
        parts_within(format!("http://{addr}/stream?fps=5"), window),
        parts_within(format!("http://{addr}/stream"), window),
    );
    // 5 fps for 3 s is 15 frames (16 with the latest one sent at once);
    // margins for a loaded machine, never more than the limit allows.
    assert!(
        (8..=17).contains(&limited),
        "?fps=5: {limited} frames in 3 s"
    );
    assert!(
        unlimited >= 3 * limited,
        "unlimited: {unlimited}, ?fps=5: {limited}"
    );
}
