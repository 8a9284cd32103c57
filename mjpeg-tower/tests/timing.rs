//! In-process tests of the layer's timing and pacing: heartbeat, final-frame
//! repeat, fps limits, and driving without a runtime. No sockets.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream;
use http::Request;
use http_body_util::BodyExt;
use mjpeg_tower::{DisconnectReason, Frame, Framing, Mjpeg, MjpegLayer};
use support::{Recorder, app, body_string};
use tower::ServiceExt;

fn frames(payloads: &[&'static str]) -> Mjpeg {
    let frames: Vec<Frame> = payloads.iter().map(|&p| Frame::from(p)).collect();
    Mjpeg::new(stream::iter(frames))
}

#[tokio::test(start_paused = true)]
async fn heartbeat_re_sends_the_last_frame_when_the_source_is_idle() {
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .heartbeat(Some(Duration::from_secs(2)));
    let svc = app(layer, |_| {
        Mjpeg::new(stream::iter(["still"]).chain(stream::pending())).into_http_response()
    });
    let mut body = svc.oneshot(Request::new(())).await.unwrap().into_body();
    let mut next = async || {
        let frame = body.frame().await.unwrap().unwrap();
        String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
    };
    assert_eq!(next().await, "--B\r\n");
    assert_eq!(next().await, "Content-Type: image/jpeg\r\n\r\n");
    assert_eq!(next().await, "still");
    assert!(next().await.starts_with("\r\n--B\r\n"));
    let before = tokio::time::Instant::now();
    // Bounded: with no heartbeat, the body would stay pending for ever.
    let beat = tokio::time::timeout(Duration::from_secs(10), next()).await;
    assert_eq!(beat.as_deref(), Ok("still"), "no heartbeat");
    let waited = before.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
        "waited {waited:?}"
    );
}

#[tokio::test]
async fn repeat_final_frame_sends_the_last_frame_once_more_before_the_close() {
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .repeat_final_frame(true);
    let svc = app(layer, |_| frames(&["1", "2"]).into_http_response());
    let body = body_string(svc.oneshot(Request::new(())).await.unwrap()).await;
    // Sent, repeated, and filling the part announced after it.
    assert_eq!(support::count(body.as_bytes(), b"\r\n\r\n2\r\n"), 3);
    assert_eq!(support::count(body.as_bytes(), b"\r\n\r\n1\r\n"), 1);
    assert!(body.ends_with("\r\n--B--\r\n"));
}

#[tokio::test]
async fn completed_is_reported_only_once_the_close_delimiter_is_out() {
    let rec = Recorder::default();
    let layer = rec.attach(MjpegLayer::new().repeat_final_frame(true));
    let svc = app(layer, |_| frames(&["only"]).into_http_response());
    let mut body = svc.oneshot(Request::new(())).await.unwrap().into_body();
    for _ in 0..4 {
        // opening, frame, tail, the repeated frame: the close is still to come.
        body.frame().await.unwrap().unwrap();
    }
    drop(body);
    assert_eq!(
        rec.disconnects()[0].reason(),
        Some((DisconnectReason::ClientClosed, 0))
    );
}

#[tokio::test]
async fn a_panicking_on_connect_gives_its_client_slot_back() {
    let layer = MjpegLayer::new()
        .max_clients(Some(1))
        .on_connect(|_| panic!("callback bug"));
    let svc = app(layer.clone(), |_| {
        Mjpeg::new(stream::pending::<Frame>()).into_http_response()
    });
    let attempt = tokio::spawn(svc.oneshot(Request::new(())));
    assert!(attempt.await.is_err(), "the callback panicked");
    assert_eq!(layer.stats().active, 0);
}

#[tokio::test(start_paused = true)]
async fn wait_with_max_fps_paces_the_stream_instead_of_dropping() {
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .overflow_policy(mjpeg_tower::OverflowPolicy::Wait)
        .max_fps(Some(5));
    let svc = app(layer.clone(), |_| {
        frames(&["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]).into_http_response()
    });
    let started = tokio::time::Instant::now();
    let body = body_string(svc.oneshot(Request::new(())).await.unwrap()).await;
    let sent: Vec<&str> = body
        .split("\r\n\r\n")
        .filter_map(|p| p.get(..1))
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    // The last one twice: it also fills the part announced after it.
    assert_eq!(
        sent,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "9"]
    );
    assert_eq!(layer.stats().frames_dropped, 0);
    assert_eq!(layer.stats().frames_sent, 10);
    // Ten frames at 5 fps.
    assert!(
        started.elapsed() >= Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
}

/// Outside any tokio runtime there is no task to drive the stream: the body
/// polls it itself, and every frame still arrives.
#[test]
fn without_a_tokio_runtime_the_body_drives_the_stream_itself() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    assert!(tokio::runtime::Handle::try_current().is_err());
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .framing(Framing::Standard);
    let svc = app(layer, |_| frames(&["a", "bc"]).into_http_response());
    let mut cx = Context::from_waker(Waker::noop());
    let mut call = std::pin::pin!(svc.oneshot(Request::new(())));
    let Poll::Ready(Ok(res)) = call.as_mut().poll(&mut cx) else {
        panic!("the response should be ready at once");
    };
    let mut body = std::pin::pin!(res.into_body());
    let mut wire = Vec::new();
    loop {
        match http_body::Body::poll_frame(body.as_mut(), &mut cx) {
            Poll::Ready(Some(frame)) => {
                wire.extend_from_slice(&frame.unwrap().into_data().unwrap())
            }
            Poll::Ready(None) => break,
            Poll::Pending => panic!("an always-ready stream stalled without a runtime"),
        }
    }
    assert_eq!(
        String::from_utf8(wire).unwrap(),
        "--B\r\nContent-Type: image/jpeg\r\nContent-Length: 1\r\n\r\na\r\n--B\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nbc\r\n--B\r\n\
         Content-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nbc\r\n--B--\r\n"
    );
}

#[tokio::test(start_paused = true)]
async fn a_frame_mid_interval_postpones_the_heartbeat() {
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .heartbeat(Some(Duration::from_secs(2)));
    let svc = app(layer, |_| {
        let late = futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Frame::from("late")
        });
        Mjpeg::new(
            stream::iter([Frame::from("early")])
                .chain(late)
                .chain(stream::pending()),
        )
        .into_http_response()
    });
    let started = tokio::time::Instant::now();
    let mut body = svc.oneshot(Request::new(())).await.unwrap().into_body();
    let mut payloads = Vec::new();
    while payloads.len() < 3 {
        // Bounded: with no heartbeat, the body would stay pending for ever.
        let chunk = tokio::time::timeout(Duration::from_secs(10), support::next_chunk(&mut body))
            .await
            .expect("no heartbeat");
        let framing = chunk.starts_with("--B")
            || chunk.starts_with("\r\n--B")
            || chunk.starts_with("Content-Type:");
        if !framing {
            payloads.push((chunk, started.elapsed()));
        }
    }
    assert_eq!(payloads[0].0, "early");
    assert_eq!(
        payloads[1],
        ("late".to_string(), Duration::from_millis(1500))
    );
    // Idle for 2 s after the late frame: not 2 s after the start.
    assert_eq!(
        payloads[2],
        ("late".to_string(), Duration::from_millis(3500))
    );
}
