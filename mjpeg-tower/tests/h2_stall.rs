//! Issue 13, found by trying: one HTTP/2 stream whose viewer stops reading,
//! among 15 healthy siblings on the same connection, is closed (`RST_STREAM`)
//! and reported as `Overflow` after the write-stall timeout, and the
//! siblings keep (or, with small client windows, get back) their rate.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mjpeg_tower::server::Server;
use mjpeg_tower::{DisconnectReason, Frame, FrameHub, MjpegLayer, OverflowPolicy};
use support::Recorder;
use tokio::net::TcpStream;

const FRAME: usize = 50_000;

async fn serve(rec: &Recorder) -> (SocketAddr, FrameHub) {
    serve_with(rec, OverflowPolicy::Disconnect).await
}

async fn serve_with(rec: &Recorder, policy: OverflowPolicy) -> (SocketAddr, FrameHub) {
    let layer = rec.attach(
        MjpegLayer::new()
            .overflow_policy(policy)
            .high_water_mark(4 * FRAME)
            .max_clients(Some(16)),
    );
    let hub = FrameHub::new();
    let h = hub.clone();
    let server = Server::new().write_stall_timeout(Some(Duration::from_secs(2)));
    let addr = support::serve(layer, server, move |_| h.subscribe().into_http_response()).await;
    let publisher = hub.clone();
    tokio::spawn(async move {
        for _ in 0..30 * 20 {
            publisher.publish(Frame::jpeg(vec![0xAB; FRAME]));
            tokio::time::sleep(Duration::from_millis(33)).await;
        }
    });
    (addr, hub)
}

/// 16 streams on one h2c connection with the given client windows; stream 0
/// is never read. Returns the bytes each healthy stream read in `watch`.
async fn fifteen_readers_and_one_stalled(
    addr: SocketAddr,
    stream_window: u32,
    connection_window: u32,
    watch: Duration,
) -> (Vec<usize>, h2::RecvStream) {
    let (counters, stalled) = open_streams(addr, stream_window, connection_window).await;
    (measure(&counters, watch).await, stalled)
}

/// The bytes each counter grew by in `watch`.
async fn measure(counters: &[Arc<AtomicUsize>], watch: Duration) -> Vec<usize> {
    let start: Vec<usize> = counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    tokio::time::sleep(watch).await;
    counters
        .iter()
        .zip(start)
        .map(|(c, s)| c.load(Ordering::Relaxed) - s)
        .collect()
}

/// Opens the 16 streams; returns the healthy ones' byte counters and the unread stream.
async fn open_streams(
    addr: SocketAddr,
    stream_window: u32,
    connection_window: u32,
) -> (Vec<Arc<AtomicUsize>>, h2::RecvStream) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::Builder::new()
        .initial_window_size(stream_window)
        .initial_connection_window_size(connection_window)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut client = client.ready().await.unwrap();
    let mut stalled = None;
    let mut counters = Vec::new();
    for n in 0..16 {
        let req = http::Request::get("http://x/stream").body(()).unwrap();
        let (response, _) = client.send_request(req, true).unwrap();
        client = client.ready().await.unwrap();
        let body = response.await.unwrap().into_body();
        if n == 0 {
            stalled = Some(body); // held, never read
            continue;
        }
        let read = Arc::new(AtomicUsize::new(0));
        counters.push(read.clone());
        tokio::spawn(async move {
            let mut body = body;
            while let Some(Ok(data)) = body.data().await {
                read.fetch_add(data.len(), Ordering::Relaxed);
                let _ = body.flow_control().release_capacity(data.len());
            }
        });
    }
    (counters, stalled.unwrap())
}

/// Waits (bounded) for the stalled stream's `Overflow` report; returns when it came.
async fn overflow_reported(rec: &Recorder) -> Instant {
    support::wait_until(|| {
        rec.disconnects().iter().any(|e| {
            e.reason()
                .is_some_and(|(r, _)| r == DisconnectReason::Overflow)
        })
    })
    .await;
    Instant::now()
}

/// The client sees the server's reset on the unread stream, after the
/// buffered data: `CANCEL`.
async fn reset_by_server(mut stalled: h2::RecvStream) {
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stalled.data().await {
                Some(Ok(_)) => {}
                Some(Err(err)) => return Some(err),
                None => return None,
            }
        }
    })
    .await
    .expect("the unread stream was never reset");
    let reason = end.and_then(|err| err.reason());
    assert_eq!(
        reason,
        Some(h2::Reason::CANCEL),
        "the stream ended without a reset"
    );
}

#[tokio::test]
async fn a_stalled_h2_stream_is_disconnected_and_reported() {
    let rec = Recorder::default();
    let (addr, hub) = serve(&rec).await;
    let started = Instant::now();
    let (read, stalled) =
        fifteen_readers_and_one_stalled(addr, 1 << 20, 32 << 20, Duration::from_secs(1)).await;
    let reported = overflow_reported(&rec).await - started;
    eprintln!(
        "healthy streams read {read:?} bytes in 1 s; Overflow after {reported:?}; viewers {}",
        hub.viewers()
    );
    // The timeout is 2 s; the stream stalls once the client's 1 MiB window is spent.
    assert!(
        reported < Duration::from_secs(8),
        "reported late: {reported:?}"
    );
    let reasons: Vec<_> = rec
        .disconnects()
        .iter()
        .filter_map(|e| e.reason())
        .collect();
    assert_eq!(
        reasons,
        [(DisconnectReason::Overflow, 15)],
        "only the stalled stream goes"
    );
    reset_by_server(stalled).await;
    // Its `max_clients` slot is free: a 17th viewer is served.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    let mut client = client.ready().await.unwrap();
    let req = http::Request::get("http://x/stream").body(()).unwrap();
    let (response, _) = client.send_request(req, true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn healthy_h2_siblings_keep_their_rate_with_large_client_windows() {
    let rec = Recorder::default();
    let (addr, _hub) = serve(&rec).await;
    let (read, _stalled) =
        fifteen_readers_and_one_stalled(addr, 1 << 20, 32 << 20, Duration::from_secs(3)).await;
    eprintln!(
        "1 MiB stream / 32 MiB connection windows: healthy streams read {read:?} bytes in 3 s"
    );
    // 30 fps x 50 KB for 3 s is 4.5 MB; at least a third of it, on a busy machine.
    for bytes in &read {
        assert!(*bytes > 1_500_000, "a healthy stream starved: {read:?}");
    }
}

#[tokio::test]
async fn healthy_h2_siblings_get_their_rate_back_with_default_client_windows() {
    let rec = Recorder::default();
    // The siblings wait as long as the unread stream holds the window: under
    // `Disconnect` they would overflow too. `KeepLatest` lets them catch up.
    let (addr, _hub) = serve_with(&rec, OverflowPolicy::KeepLatest).await;
    let (counters, stalled) = open_streams(addr, 65_535, 65_535).await;
    let before = measure(&counters, Duration::from_millis(500)).await;
    eprintln!("64 KiB windows: healthy streams read {before:?} bytes in 0.5 s before the reset");
    // The unread stream holds the whole connection window until the server
    // resets it; a client drops a reset stream's data, which frees the window.
    overflow_reported(&rec).await;
    reset_by_server(stalled).await;
    let read = measure(&counters, Duration::from_secs(3)).await;
    eprintln!("64 KiB windows: healthy streams read {read:?} bytes in 3 s after the reset");
    for bytes in &read {
        assert!(*bytes > 1_500_000, "a healthy stream starved: {read:?}");
    }
    let reasons: Vec<_> = rec
        .disconnects()
        .iter()
        .filter_map(|e| e.reason())
        .collect();
    assert_eq!(
        reasons,
        [(DisconnectReason::Overflow, 15)],
        "only the stalled stream goes"
    );
}
