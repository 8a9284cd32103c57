//! What the layer answers when a handler or another layer says no, or a
//! responder has nothing yet: in-process, with tower's `oneshot`.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use futures_util::stream;
use http::{HeaderValue, Request, StatusCode, header};
use mjpeg_tower::{Frame, Mjpeg, MjpegLayer};
use support::{app, body_string};
use tower::ServiceExt;

fn frames(payloads: &[&'static str]) -> Mjpeg {
    let frames: Vec<Frame> = payloads.iter().map(|&p| Frame::from(p)).collect();
    Mjpeg::new(stream::iter(frames))
}

#[tokio::test]
async fn an_error_status_around_a_responder_is_kept_and_nothing_is_streamed() {
    let hub = mjpeg_tower::FrameHub::new();
    hub.publish(Frame::jpeg(&b"\xFF\xD8 secret \xFF\xD9"[..]));
    let layer = MjpegLayer::new();
    let h = hub.clone();
    let svc = app(layer.clone(), move |req| {
        let mut res = if req.uri().path() == "/snapshot" {
            h.snapshot().into_http_response()
        } else {
            h.subscribe().into_http_response()
        };
        // What `(StatusCode::UNAUTHORIZED, [(WWW_AUTHENTICATE, ..)], hub.subscribe())` does.
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        res
    });
    for path in ["/stream", "/snapshot"] {
        let req = Request::builder().uri(path).body(()).unwrap();
        let res = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(res.headers()["www-authenticate"], "Basic");
        let ct = res.headers().get("content-type");
        assert!(
            !ct.is_some_and(|v| v.to_str().unwrap().starts_with("multipart/")),
            "{path}"
        );
        assert_eq!(body_string(res).await, "", "{path}: nothing of the stream");
    }
    assert_eq!(layer.stats().total_connections, 0);
    assert_eq!(hub.viewers(), 0);
}

/// tower-http's auth layer wants a `Default` response body: it stacks on
/// either side of the layer without boxing.
#[tokio::test]
#[allow(deprecated)] // `bearer` is deprecated in tower-http 0.6.7 but still the shortest check
async fn validate_request_header_stacks_on_either_side_without_boxing() {
    use tower::ServiceBuilder;
    use tower_http::validate_request::ValidateRequestHeaderLayer;

    let handler = tower::service_fn(|_req: Request<()>| async {
        Ok::<_, std::convert::Infallible>(frames(&["a"]).into_http_response())
    });
    let outside = ServiceBuilder::new()
        .layer(ValidateRequestHeaderLayer::bearer("t"))
        .layer(MjpegLayer::new())
        .service(handler);
    let inside = ServiceBuilder::new()
        .layer(MjpegLayer::new())
        .layer(ValidateRequestHeaderLayer::bearer("t"))
        .service(handler);
    let res = outside.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = inside.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let authorized = || {
        Request::builder()
            .header(header::AUTHORIZATION, "Bearer t")
            .body(())
            .unwrap()
    };
    let res = outside.oneshot(authorized()).await.unwrap();
    assert!(
        body_string(res).await.contains("--"),
        "streams with credentials"
    );
    let res = inside.oneshot(authorized()).await.unwrap();
    assert!(
        body_string(res).await.contains("--"),
        "streams with credentials"
    );
}

/// A snapshot before the first frame answers `503` by itself; behind the
/// layer that is not an error status set by a handler: it waits.
#[tokio::test]
async fn a_snapshot_before_the_first_frame_still_waits_behind_the_layer() {
    let hub = mjpeg_tower::FrameHub::new();
    let h = hub.clone();
    let svc = app(MjpegLayer::new(), move |_| {
        h.snapshot().into_http_response()
    });
    let publisher = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        hub.publish(Frame::jpeg(&b"\xFF\xD8 first \xFF\xD9"[..]));
    });
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    publisher.await.unwrap();
}
