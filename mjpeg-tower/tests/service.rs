//! In-process tests of the layer with tower's `oneshot`: no sockets.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use mjpeg_tower::{BoxError, DisconnectReason, Frame, Framing, Mjpeg, MjpegLayer};
use support::{Event, Recorder, app, body_string};
use tower::ServiceExt;

fn frames(payloads: &[&'static str]) -> Mjpeg {
    let frames: Vec<Frame> = payloads.iter().map(|&p| Frame::from(p)).collect();
    Mjpeg::new(stream::iter(frames))
}

#[tokio::test]
async fn other_responses_pass_through_unchanged() {
    let svc = app(MjpegLayer::new(), |_| {
        Response::builder()
            .status(StatusCode::CREATED)
            .header("content-type", "text/html")
            .header("connection", "close")
            .header("x-custom", "1")
            .body(Bytes::from_static(b"<h1>hi</h1>").into())
            .unwrap()
    });
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers().len(), 3);
    assert_eq!(res.headers()["connection"], "close");
    assert_eq!(res.headers()["content-type"], "text/html");
    assert_eq!(body_string(res).await, "<h1>hi</h1>");
}

#[tokio::test]
async fn stream_response_has_multipart_type_and_no_cache_defaults() {
    let svc = app(MjpegLayer::new().boundary("frame").unwrap(), |_| {
        frames(&["a"]).into_http_response()
    });
    let res = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers();
    assert_eq!(
        h["content-type"],
        "multipart/x-mixed-replace; boundary=frame"
    );
    assert_eq!(
        h["cache-control"],
        "no-cache, no-store, max-age=0, must-revalidate"
    );
    assert_eq!(h["pragma"], "no-cache");
    assert_eq!(h["expires"], "0");
    assert_eq!(h["x-accel-buffering"], "no");
    assert!(h.get("content-length").is_none());
    assert!(http_body::Body::size_hint(res.body()).exact().is_none());
}

#[tokio::test]
async fn the_default_boundary_is_sent_unquoted_and_valid() {
    let svc = app(MjpegLayer::new(), |_| frames(&[]).into_http_response());
    let res = svc.oneshot(Request::new(())).await.unwrap();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    let boundary = ct
        .strip_prefix("multipart/x-mixed-replace; boundary=")
        .unwrap();
    assert!(!boundary.contains('"'));
    mjpeg_tower::Boundary::new(boundary).unwrap();
    assert!(
        body_string(res)
            .await
            .ends_with(&format!("\r\n--{boundary}--\r\n"))
    );
}

#[tokio::test]
async fn user_headers_add_replace_and_remove_but_hop_by_hop_never_go_out() {
    let layer = MjpegLayer::new()
        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
        .header(
            HeaderName::from_static("x-camera"),
            HeaderValue::from_static("porch"),
        )
        .header(header::CONNECTION, HeaderValue::from_static("keep-alive"))
        .header(header::CONTENT_LENGTH, HeaderValue::from_static("10"))
        .remove_header(header::PRAGMA);
    let svc = app(layer, |_| {
        let mut res = frames(&[]).into_http_response();
        // Headers a handler sets (e.g. an axum tuple) win over the layer's.
        res.headers_mut()
            .insert("x-camera", HeaderValue::from_static("garden"));
        res.headers_mut()
            .insert("keep-alive", HeaderValue::from_static("timeout=5"));
        res
    });
    let res = svc.oneshot(Request::new(())).await.unwrap();
    let h = res.headers();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-camera"], "garden");
    assert!(h.get("pragma").is_none());
    for name in [
        "connection",
        "keep-alive",
        "content-length",
        "transfer-encoding",
    ] {
        assert!(h.get(name).is_none(), "{name} must not be sent");
    }
}

#[tokio::test]
async fn part_headers_and_per_frame_headers_are_encoded() {
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .framing(Framing::Standard)
        .part_header(
            HeaderName::from_static("x-source"),
            HeaderValue::from_static("cam1"),
        );
    let svc = app(layer, |_| {
        let frame =
            Frame::new(&b"{}"[..]).with_content_type(HeaderValue::from_static("application/json"));
        Mjpeg::new(stream::iter([frame])).into_http_response()
    });
    let body = body_string(svc.oneshot(Request::new(())).await.unwrap()).await;
    assert_eq!(
        body,
        "--B\r\nContent-Type: application/json\r\nContent-Length: 2\r\nx-source: cam1\r\n\r\n{}\r\n--B\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\nx-source: cam1\r\n\r\n{}\r\n--B--\r\n"
    );
}

#[test]
fn a_bad_boundary_is_a_clear_error_not_a_panic() {
    let err = MjpegLayer::new().boundary("has space").unwrap_err();
    assert_eq!(
        err.to_string(),
        "boundary has ' ' at byte 3; only letters, digits and ' + _ - . are allowed (it is sent unquoted)"
    );
    assert!(MjpegLayer::new().boundary("x".repeat(71)).is_err());
    assert!(MjpegLayer::new().boundary("--x").is_err());
}

#[tokio::test]
async fn a_finite_stream_ends_with_the_close_delimiter_and_reason_completed() {
    let rec = Recorder::default();
    let layer = rec.attach(MjpegLayer::new().boundary("B").unwrap());
    let svc = app(layer.clone(), |_| {
        frames(&["one", "two"]).into_http_response()
    });
    let body = body_string(svc.oneshot(Request::new(())).await.unwrap()).await;
    assert_eq!(
        body,
        "--B\r\nContent-Type: image/jpeg\r\n\r\none\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n\
         two\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n\
         two\r\n--B--\r\n",
        "the part announced after the last frame holds it again: browsers keep it on screen"
    );
    assert_eq!(
        rec.events(),
        [
            Event::Connect { id: 1, active: 1 },
            Event::Disconnect {
                id: 1,
                reason: DisconnectReason::Completed,
                active: 0,
                frames: 2,
                dropped: 0,
                error: None
            },
            Event::Idle,
        ]
    );
    let stats = layer.stats();
    assert_eq!(
        (stats.active, stats.total_connections, stats.frames_sent),
        (0, 1, 2)
    );
    assert_eq!(stats.bytes_sent, body.len() as u64);
}

#[tokio::test]
async fn a_producer_error_ends_with_the_close_delimiter_and_reason_producer_error() {
    let rec = Recorder::default();
    let layer = rec.attach(MjpegLayer::new().boundary("B").unwrap());
    let svc = app(layer, |_| {
        let items: Vec<Result<Frame, BoxError>> =
            vec![Ok(Frame::new(&b"ok"[..])), Err("camera unplugged".into())];
        Mjpeg::try_new(stream::iter(items)).into_http_response()
    });
    let body = body_string(svc.oneshot(Request::new(())).await.unwrap()).await;
    assert!(body.contains("ok\r\n--B\r\n"));
    assert!(body.ends_with("\r\n--B--\r\n"));
    let disconnects = rec.disconnects();
    assert_eq!(
        disconnects,
        [Event::Disconnect {
            id: 1,
            reason: DisconnectReason::ProducerError,
            active: 0,
            frames: 1,
            dropped: 0,
            error: Some("camera unplugged".into()),
        }]
    );
}

#[tokio::test]
async fn max_clients_answers_503_with_retry_after_and_keeps_the_count_right() {
    let layer = MjpegLayer::new()
        .max_clients(Some(1))
        .retry_after(Duration::from_secs(7));
    let svc = app(layer.clone(), |_| {
        Mjpeg::new(stream::pending::<Frame>()).into_http_response()
    });
    let first = svc.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = svc.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.headers()["retry-after"], "7");
    assert_eq!(layer.stats().active, 1);
    drop(first);
    assert_eq!(layer.stats().active, 0);
    let third = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(third.status(), StatusCode::OK);
    let stats = layer.stats();
    assert_eq!(
        (stats.active, stats.total_connections, stats.rejected),
        (1, 2, 1)
    );
}

#[tokio::test]
async fn head_gets_the_headers_and_opens_no_stream() {
    let rec = Recorder::default();
    let layer = rec.attach(MjpegLayer::new());
    let svc = app(layer.clone(), |_| {
        Mjpeg::new(stream::pending::<Frame>()).into_http_response()
    });
    let req = Request::builder().method(Method::HEAD).body(()).unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/x-mixed-replace")
    );
    assert!(http_body::Body::is_end_stream(res.body()));
    assert_eq!(
        http_body::Body::size_hint(res.body()).exact(),
        None,
        "no Content-Length: 0 for an endless stream"
    );
    assert!(rec.events().is_empty());
    assert_eq!(layer.stats().total_connections, 0);
}

#[tokio::test]
async fn dropping_the_body_mid_stream_reports_client_closed_once() {
    let rec = Recorder::default();
    let layer = rec.attach(MjpegLayer::new());
    let svc = app(layer, move |_| {
        Mjpeg::new(stream::iter(["a"]).chain(stream::pending())).into_http_response()
    });
    let mut body = svc.oneshot(Request::new(())).await.unwrap().into_body();
    body.frame().await.unwrap().unwrap(); // opening
    body.frame().await.unwrap().unwrap(); // frame "a"
    drop(body);
    let d = rec.disconnects();
    assert_eq!(d.len(), 1);
    assert!(matches!(
        d[0],
        Event::Disconnect {
            reason: DisconnectReason::ClientClosed,
            active: 0,
            frames: 1,
            ..
        }
    ));
    assert_eq!(rec.events().last(), Some(&Event::Idle));
}

#[tokio::test]
async fn clones_share_counters_but_a_reconfigured_clone_counts_its_own() {
    let base = MjpegLayer::new();
    let limited = base.clone().max_clients(Some(5));
    let svc = app(base.clone(), |_| {
        Mjpeg::new(stream::pending::<Frame>()).into_http_response()
    });
    let _open = svc.oneshot(Request::new(())).await.unwrap();
    assert_eq!(base.stats().active, 1, "a plain clone shares the count");
    assert_eq!(
        limited.stats().active,
        0,
        "a reconfigured clone has its own"
    );
    let svc = tower::Layer::layer(
        &limited,
        tower::service_fn(|_: Request<()>| async {
            Ok::<_, std::convert::Infallible>(Response::new(mjpeg_tower::ResponderBody::from("x")))
        }),
    );
    assert_eq!(svc.get_layer().stats().active, 0);
}
