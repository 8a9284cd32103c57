//! Producers and callbacks that misbehave, and frames that are degenerate:
//! each must end cleanly, be counted, and leave nothing behind.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream;
use http::{HeaderName, HeaderValue, Request};
use mjpeg_tower::{DisconnectReason, Frame, FrameHub, Mjpeg, MjpegLayer};
use support::{Event, Recorder, app, body_string};
use tower::ServiceExt;

#[tokio::test]
async fn a_stream_that_panics_ends_with_the_close_delimiter_and_producer_error() {
    let rec = Recorder::default();
    let layer = rec.attach(MjpegLayer::new().boundary("B").unwrap());
    let svc = app(layer.clone(), |_| {
        let frames = stream::iter(["one", "two", "boom"]).map(|f| {
            assert_ne!(f, "boom", "camera driver bug");
            Frame::from(f)
        });
        Mjpeg::new(frames).into_http_response()
    });
    let body = tokio::time::timeout(
        Duration::from_secs(10),
        body_string(svc.oneshot(Request::new(())).await.unwrap()),
    )
    .await
    .expect("the viewer must not hang");
    assert!(body.contains("\r\n\r\ntwo\r\n"), "{body:?}");
    assert!(body.ends_with("\r\n--B--\r\n"), "{body:?}");
    let events = rec.wait_disconnects(1).await;
    let Event::Disconnect {
        reason,
        error,
        frames,
        ..
    } = &events[0]
    else {
        unreachable!()
    };
    assert_eq!(*reason, DisconnectReason::ProducerError);
    assert_eq!(*frames, 2);
    assert!(
        error.as_deref().unwrap().contains("camera driver bug"),
        "{error:?}"
    );
    assert_eq!(layer.stats().active, 0, "the slot is given back");
}

#[tokio::test]
async fn panicking_connect_and_disconnect_callbacks_neither_abort_nor_leak_a_slot() {
    // Both lock one mutex: the first panic poisons it, so the second panics too.
    let shared = Arc::new(Mutex::new(0u32));
    let (a, b) = (Arc::clone(&shared), Arc::clone(&shared));
    let layer = MjpegLayer::new()
        .max_clients(Some(1))
        .on_connect(move |_| {
            let _guard = a.lock().unwrap();
            panic!("connect bug");
        })
        .on_disconnect(move |_| {
            *b.lock().unwrap() += 1;
        })
        .on_idle(|| panic!("idle bug"));
    let svc = app(layer.clone(), |_| {
        Mjpeg::new(stream::pending::<Frame>()).into_http_response()
    });
    for _ in 0..3 {
        let attempt = tokio::spawn(svc.clone().oneshot(Request::new(())));
        assert!(attempt.await.is_err(), "on_connect panicked");
        assert_eq!(layer.stats().active, 0);
    }
    // Still serving: a layer without the buggy callbacks on the same process.
    let svc = app(MjpegLayer::new(), |_| {
        Mjpeg::new(stream::iter(["x"])).into_http_response()
    });
    assert_eq!(svc.oneshot(Request::new(())).await.unwrap().status(), 200);
}

#[tokio::test]
async fn empty_frames_are_never_sent_or_published() {
    let hub = FrameHub::new();
    assert!(!hub.publish(Frame::new(Vec::new())));
    assert!(hub.latest().is_none());
    assert!(hub.publish("x"));
    assert!(!hub.publish(""));
    assert_eq!(hub.latest().unwrap().data().as_ref(), b"x");
    assert_eq!(hub.stats().published, 1);

    let layer = MjpegLayer::new().boundary("B").unwrap();
    let svc = app(layer.clone(), |_| {
        Mjpeg::new(stream::iter(["", "a", "", "", "b", ""])).into_http_response()
    });
    let body = body_string(svc.oneshot(Request::new(())).await.unwrap()).await;
    assert!(
        !body.contains("\r\n\r\n\r\n--B"),
        "an empty part went out: {body:?}"
    );
    assert_eq!(layer.stats().frames_sent, 2);
}

#[tokio::test]
async fn skip_duplicates_compares_headers_and_content_type_too() {
    let hub = FrameHub::builder().skip_duplicates(true).build();
    let stamped = |ts: &'static str| {
        Frame::jpeg("same").with_header(
            HeaderName::from_static("x-ts"),
            HeaderValue::from_static(ts),
        )
    };
    assert!(hub.publish(stamped("1")));
    assert!(!hub.publish(stamped("1")), "a true duplicate is skipped");
    assert!(hub.publish(stamped("2")), "a new timestamp is a new frame");
    assert_eq!(hub.latest().unwrap().headers()["x-ts"], "2");
    assert!(
        hub.publish(Frame::new("same").with_content_type(HeaderValue::from_static("image/png"))),
        "another content type is a new frame"
    );
    assert_eq!(hub.stats().duplicates_skipped, 1);
}

#[tokio::test]
async fn a_frame_whose_payload_contains_the_delimiter_is_never_sent_and_is_counted() {
    let layer = MjpegLayer::new().boundary("B").unwrap();
    let svc = app(layer.clone(), |_| {
        Mjpeg::new(stream::iter(["a", "text\r\n--B\r\nfake part", "b"])).into_http_response()
    });
    let body = body_string(svc.oneshot(Request::new(())).await.unwrap()).await;
    assert!(!body.contains("fake part"), "{body:?}");
    assert!(body.contains("\r\n\r\na\r\n") && body.contains("\r\n\r\nb\r\n"));
    let stats = layer.stats();
    assert_eq!((stats.frames_sent, stats.frames_dropped), (2, 1));
}
