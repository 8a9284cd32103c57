//! The layer on real loopback sockets, served by `server::Server`, read by a
//! raw HTTP/1.1 client and checked with the strict decoder.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use http::Request;
use mjpeg_tower::decode::{Decoder, Part};
use mjpeg_tower::server::RequestBody;
use mjpeg_tower::server::Server;
use mjpeg_tower::{
    BoxError, DisconnectReason, Frame, FrameHub, Framing, Mjpeg, MjpegLayer, OverflowPolicy,
};
use support::{Event, RawClient, Recorder, serve};
use tower::{ServiceBuilder, service_fn};

const FRAME_LEN: usize = 50_000;

/// Every part of `body`, parsed strictly; asserts the stream was closed.
fn parts(body: &[u8]) -> Vec<Part> {
    let mut decoder = Decoder::new("B").unwrap().strict(true);
    decoder.push(body);
    let mut parts = Vec::new();
    while let Some(part) = decoder.next_part().unwrap() {
        parts.push(part);
    }
    while let Some(part) = decoder.finish().unwrap() {
        parts.push(part);
    }
    assert!(decoder.is_closed(), "no close delimiter");
    parts
}

/// A 50 KB frame whose every byte is `n`: a torn part would show.
fn numbered(n: u8) -> Frame {
    Frame::jpeg(vec![n; FRAME_LEN])
}

/// The frame numbers received, asserting each part is whole. A stream that
/// ended in the default framing ends on its last frame twice (the part
/// announced after it is filled with it): that repeat is left out.
fn numbers(parts: &[Part]) -> Vec<u8> {
    let mut numbers: Vec<u8> = parts
        .iter()
        .map(|p| {
            assert_eq!(p.body.len(), FRAME_LEN, "torn part");
            assert!(p.body.iter().all(|&b| b == p.body[0]), "mixed part");
            p.body[0]
        })
        .collect();
    if let [.., a, b] = numbers[..] {
        if a == b {
            numbers.pop();
        }
    }
    numbers
}

/// Publishes frames 0 to 255 into `hub`, `every` apart, until aborted.
fn produce(hub: &FrameHub, every: Duration) -> tokio::task::JoinHandle<()> {
    let hub = hub.clone();
    tokio::spawn(async move {
        for n in 0..=255u8 {
            hub.publish(numbered(n));
            tokio::time::sleep(every).await;
        }
    })
}

/// A new hub, served at every path through `layer` by `server`.
async fn serve_hub(layer: MjpegLayer, server: Server) -> (std::net::SocketAddr, FrameHub) {
    let hub = FrameHub::new();
    let h = hub.clone();
    let addr = serve(layer, server, move |_| h.subscribe().into_http_response()).await;
    (addr, hub)
}

fn layer(rec: &Recorder) -> MjpegLayer {
    rec.attach(MjpegLayer::new().boundary("B").unwrap())
}

#[tokio::test]
async fn a_finite_stream_arrives_whole_in_both_framings_and_completes() {
    for framing in [Framing::Standard, Framing::AdvanceHeaders] {
        let rec = Recorder::default();
        let addr = serve(layer(&rec).framing(framing), Server::new(), |_| {
            let frames: Vec<Frame> = (0..10)
                .map(|n| Frame::jpeg(format!("frame {n} {}", "x".repeat(n * 1000))))
                .collect();
            Mjpeg::new(stream::iter(frames)).into_http_response()
        })
        .await;
        let mut client = RawClient::get(addr, "/").await;
        assert_eq!(client.status(), 200);
        assert_eq!(
            client.header("content-type").unwrap(),
            "multipart/x-mixed-replace; boundary=B"
        );
        client.read_body_until(|_| false).await;
        let parts = parts(client.body());
        // The part opened after the last frame carries it again, so no
        // browser is left with an empty part.
        assert_eq!(parts.len(), 11, "{framing:?}");
        for (n, part) in parts.iter().enumerate() {
            let n = n.min(9);
            assert_eq!(part.body, format!("frame {n} {}", "x".repeat(n * 1000)));
            assert_eq!(part.content_type(), Some("image/jpeg"));
            let expected_len = (framing == Framing::Standard).then_some(part.body.len());
            assert_eq!(part.content_length(), expected_len);
        }
        let d = rec.wait_disconnects(1).await;
        assert!(matches!(
            d[0],
            Event::Disconnect {
                reason: DisconnectReason::Completed,
                frames: 10,
                active: 0,
                ..
            }
        ));
    }
}

#[tokio::test]
async fn a_producer_error_closes_the_stream_cleanly() {
    let rec = Recorder::default();
    let addr = serve(layer(&rec), Server::new(), |_| {
        let items: Vec<Result<Frame, BoxError>> =
            vec![Ok(numbered(1)), Err("decoder crashed".into())];
        Mjpeg::try_new(stream::iter(items)).into_http_response()
    })
    .await;
    let mut client = RawClient::get(addr, "/").await;
    client.read_body_until(|_| false).await;
    assert!(client.ended, "the chunked body must end cleanly");
    assert_eq!(numbers(&parts(client.body())), [1]);
    let d = rec.wait_disconnects(1).await;
    assert!(
        matches!(&d[0], Event::Disconnect { reason: DisconnectReason::ProducerError, error: Some(e), .. } if e == "decoder crashed")
    );
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_is_reported_once() {
    let rec = Recorder::default();
    let layer = layer(&rec);
    let (addr, hub) = serve_hub(layer.clone(), Server::new()).await;
    let publishing = produce(&hub, Duration::from_millis(5));
    let mut client = RawClient::get(addr, "/").await;
    client
        .read_body_until(|b| support::count(b, b"\r\n--B\r\n") >= 3)
        .await;
    assert_eq!(hub.viewers(), 1);
    drop(client);
    let d = rec.wait_disconnects(1).await;
    assert_eq!(
        d[0].reason(),
        Some((DisconnectReason::ClientClosed, 0)),
        "{d:?}"
    );
    support::wait_until(|| hub.viewers() == 0).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        rec.disconnects().len(),
        1,
        "on_disconnect fires exactly once"
    );
    assert_eq!(rec.events().last(), Some(&Event::Idle));
    assert_eq!(layer.stats().active, 0);
    publishing.abort();
}

#[tokio::test]
async fn a_client_that_leaves_a_quiet_stream_is_reported_at_once() {
    // No frame comes after the first: only the read side can tell.
    let rec = Recorder::default();
    let layer = layer(&rec);
    let (addr, hub) = serve_hub(layer.clone(), Server::new()).await;
    hub.publish(numbered(1));
    let mut client = RawClient::get(addr, "/").await;
    client
        .read_body_until(|b| support::count(b, b"\r\n--B\r\n") >= 1)
        .await;
    let closed_at = tokio::time::Instant::now();
    drop(client);
    let d = rec.wait_disconnects(1).await;
    assert_eq!(
        d[0].reason(),
        Some((DisconnectReason::ClientClosed, 0)),
        "{d:?}"
    );
    let took = closed_at.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn a_client_that_closes_while_the_server_is_write_blocked_is_reported_at_once() {
    let rec = Recorder::default();
    let layer = layer(&rec);
    let server = Server::new().write_stall_timeout(None);
    let (addr, hub) = serve_hub(layer.clone(), server).await;
    let client = RawClient::send(addr, "/").await; // reads nothing
    support::wait_until(|| hub.viewers() == 1).await;
    let publishing = produce(&hub, Duration::from_millis(2));
    // Write-blocked: the bytes handed to the connection stop growing.
    let mut last = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = layer.stats().bytes_sent;
        if now == last && now > 0 {
            break;
        }
        last = now;
    }
    assert!(rec.disconnects().is_empty());
    let closed_at = tokio::time::Instant::now();
    drop(client);
    let d = rec.wait_disconnects(1).await;
    let took = closed_at.elapsed();
    assert_eq!(
        d[0].reason(),
        Some((DisconnectReason::ClientClosed, 0)),
        "{d:?}"
    );
    // Not a timing target: only proof it did not wait for a TCP timeout.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    publishing.abort();
}

#[tokio::test]
async fn aborting_the_server_closes_its_open_streams() {
    let rec = Recorder::default();
    let hub = FrameHub::new();
    let h = hub.clone();
    let svc = ServiceBuilder::new().layer(layer(&rec)).service(service_fn(
        move |_req: Request<RequestBody>| {
            let res = h.subscribe().into_http_response();
            async move { Ok::<_, Infallible>(res) }
        },
    ));
    let server = Server::new();
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(server.serve(listener, svc));
    hub.publish(numbered(0));
    let mut client = RawClient::get(addr, "/").await;
    client
        .read_body_until(|b| support::count(b, b"\r\n--B\r\n") >= 1)
        .await;
    assert_eq!(hub.viewers(), 1);
    serving.abort();
    let d = rec.wait_disconnects(1).await;
    assert!(matches!(d[0], Event::Disconnect { active: 0, .. }), "{d:?}");
    support::wait_until(|| hub.viewers() == 0).await;
    // The client sees the connection end.
    client.read_body_until(|_| false).await;
}

/// Publishes 60 numbered frames into a hub whose only viewer reads nothing
/// until the producer is done, then stops the hub and returns what arrived.
async fn stalled_viewer_of_a_hub(policy: OverflowPolicy) -> (Vec<u8>, mjpeg_tower::HubStats) {
    const HWM: usize = 4 * FRAME_LEN;
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .high_water_mark(HWM)
        .overflow_policy(policy);
    let (addr, hub) = serve_hub(layer, Server::new()).await;
    let mut client = RawClient::get(addr, "/").await;
    support::wait_until(|| hub.viewers() == 1).await;
    let mut worst = 0;
    for n in 0..60 {
        // Never blocks, whatever the viewer does.
        hub.publish(numbered(n));
        tokio::time::sleep(Duration::from_millis(2)).await;
        worst = worst.max(hub.stats().max_queued_bytes);
    }
    assert!(worst <= HWM + FRAME_LEN, "{policy:?}: {worst} bytes queued");
    let stats = hub.stats();
    hub.stop();
    client.read_body_until(|_| false).await;
    (numbers(&parts(client.body())), stats)
}

#[tokio::test]
async fn a_stalled_viewer_under_keep_latest_is_bounded_and_ends_on_the_latest_frame() {
    let (got, stats) = stalled_viewer_of_a_hub(OverflowPolicy::KeepLatest).await;
    assert!(stats.max_dropped > 0, "{stats:?}");
    assert_eq!(got.last(), Some(&59));
    assert!(got.windows(2).all(|w| w[0] < w[1]), "order kept: {got:?}");
    assert_eq!(got.len() as u64 + stats.max_dropped, 60);
}

#[tokio::test]
async fn a_stalled_viewer_under_drop_newest_is_bounded_and_keeps_the_oldest() {
    let (got, stats) = stalled_viewer_of_a_hub(OverflowPolicy::DropNewest).await;
    assert!(stats.max_dropped > 0, "{stats:?}");
    // The oldest kept in one unbroken run from frame 0; not the newest
    // (keep latest would jump to it after a gap).
    assert!(
        got.iter().enumerate().all(|(i, &n)| usize::from(n) == i),
        "{got:?}"
    );
    assert!(!got.contains(&59), "{got:?}");
    assert!(got.windows(2).all(|w| w[0] < w[1]), "order kept: {got:?}");
}

#[tokio::test]
async fn wait_holds_a_per_request_stream_back_and_delivers_every_frame() {
    const FRAMES: usize = 200;
    let pulled = Arc::new(AtomicUsize::new(0));
    let p = pulled.clone();
    let layer = MjpegLayer::new()
        .boundary("B")
        .unwrap()
        .high_water_mark(2 * FRAME_LEN)
        .overflow_policy(OverflowPolicy::Wait);
    let addr = serve(layer, Server::new(), move |_| {
        let p = p.clone();
        let frames = stream::iter(0..FRAMES).map(move |n| {
            p.fetch_add(1, Ordering::Relaxed);
            numbered(n as u8)
        });
        Mjpeg::new(frames).into_http_response()
    })
    .await;
    let mut client = RawClient::send(addr, "/").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Kernel buffers (64 KiB send, 16 KiB receive) and the frames the
    // connection took to write (up to 128 KiB and one) take some; the
    // layer holds at most the mark plus one.
    let while_stalled = pulled.load(Ordering::Relaxed);
    assert!(
        while_stalled < 40,
        "the producer ran ahead: {while_stalled} of {FRAMES} frames pulled"
    );
    client.read_head().await;
    client.read_body_until(|_| false).await;
    let got = numbers(&parts(client.body()));
    assert_eq!(got, (0..FRAMES).map(|n| n as u8).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_by_the_stall_timeout_with_reason_overflow() {
    for policy in [OverflowPolicy::Disconnect, OverflowPolicy::KeepLatest] {
        let rec = Recorder::default();
        let hub = FrameHub::new();
        let h = hub.clone();
        let layer = layer(&rec)
            .high_water_mark(2 * FRAME_LEN)
            .overflow_policy(policy);
        let server = Server::new().write_stall_timeout(Some(Duration::from_millis(300)));
        let addr = serve(layer.clone(), server, move |_| {
            h.subscribe().into_http_response()
        })
        .await;
        let _client = RawClient::send(addr, "/").await; // never reads
        support::wait_until(|| hub.viewers() == 1).await;
        let publishing = produce(&hub, Duration::from_millis(5));
        let d = rec.wait_disconnects(1).await;
        assert_eq!(
            d[0].reason(),
            Some((DisconnectReason::Overflow, 0)),
            "{policy:?}: {d:?}"
        );
        support::wait_until(|| hub.viewers() == 0).await;
        assert!(layer.stats().overflow_events >= 1);
        publishing.abort();
    }
}
