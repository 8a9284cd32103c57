//! Responders returned from a plain tower service with no `MjpegLayer`: they
//! stream with the default configuration, as axum's `Sse` does.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::convert::Infallible;
use std::time::Duration;

use futures_util::stream;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use mjpeg_tower::decode::Decoder;
use mjpeg_tower::{Frame, FrameHub, Mjpeg, MjpegLayer, ResponderBody};
use support::body_string;
use tower::{ServiceExt, service_fn};

const BOUNDARY: &str = "mjpeg-tower-boundary-2f9c4e7a1d";

#[tokio::test]
async fn mjpeg_streams_with_the_defaults_without_a_layer() {
    let res = Mjpeg::new(stream::iter(["one", "two"])).into_http_response();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        format!("multipart/x-mixed-replace; boundary={BOUNDARY}").as_str()
    );
    assert_eq!(
        res.headers()["cache-control"],
        "no-cache, no-store, max-age=0, must-revalidate"
    );
    assert!(res.headers().get("content-length").is_none());
    let body = body_string(res).await;
    let mut decoder = Decoder::new(BOUNDARY).unwrap().strict(true);
    decoder.push(body.as_bytes());
    let mut parts = Vec::new();
    while let Some(part) = decoder.next_part().unwrap() {
        parts.push(part.body);
    }
    assert!(decoder.is_closed());
    assert_eq!(parts, ["one", "two", "two"]);
}

#[tokio::test]
async fn subscribe_streams_a_hub_without_a_layer_and_counts_as_a_viewer() {
    let hub = FrameHub::new();
    hub.publish("latest");
    let res = hub.subscribe().into_http_response();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(hub.viewers(), 0, "nothing opens before the body is polled");
    let mut body = res.into_body();
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("latest") {
        let chunk = body.frame().await.unwrap().unwrap().into_data().unwrap();
        seen.extend_from_slice(&chunk);
    }
    assert_eq!(hub.viewers(), 1);
    hub.stop();
    let rest = body.collect().await.unwrap().to_bytes();
    assert!(rest.ends_with(format!("--{BOUNDARY}--\r\n").as_bytes()));
    drop(rest);
    assert_eq!(hub.viewers(), 0);
}

#[tokio::test]
async fn a_stopped_hub_and_a_snapshot_answer_without_a_layer() {
    let hub = FrameHub::new();
    assert_eq!(
        hub.snapshot().into_http_response().status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "no frame yet, and nothing to wait with"
    );
    hub.publish(Frame::jpeg("jpeg bytes"));
    let snap = hub.snapshot().into_http_response();
    assert_eq!(snap.status(), StatusCode::OK);
    assert_eq!(snap.headers()["content-type"], "image/jpeg");
    assert_eq!(snap.headers()["content-length"], "10");
    assert_eq!(body_string(snap).await, "jpeg bytes");
    hub.stop();
    assert_eq!(
        hub.subscribe().into_http_response().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn behind_a_layer_the_layer_answers_and_the_default_body_never_opens() {
    let hub = FrameHub::new();
    hub.publish("x");
    let layer = MjpegLayer::new().boundary("B").unwrap();
    let h = hub.clone();
    let svc = tower::ServiceBuilder::new()
        .layer(layer.clone())
        .service(service_fn(move |_req: Request<()>| {
            let res = h.subscribe().into_http_response();
            async move { Ok::<_, Infallible>(res) }
        }));
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "multipart/x-mixed-replace; boundary=B"
    );
    assert_eq!(hub.viewers(), 1, "exactly one viewer: the layer's");
    assert_eq!(layer.stats().active, 1);
    drop(res);
    tokio::time::timeout(Duration::from_secs(5), async {
        while hub.viewers() != 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
}

#[test]
fn plain_routes_can_share_the_body_type() {
    let plain: http::Response<ResponderBody> = http::Response::new("hello".into());
    assert_eq!(http_body::Body::size_hint(plain.body()).exact(), Some(5));
}
