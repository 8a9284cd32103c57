//! The limits of `server::Server` against misbehaving clients, on real
//! sockets: header read and idle timeouts, the connection cap, 1,000
//! half-sent request heads.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use support::RawClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `/snapshot` answers one frame; any other path streams `hub`, which gets a
/// frame every 10 ms.
async fn serve(server: Server) -> (SocketAddr, FrameHub) {
    let hub = FrameHub::new();
    hub.publish(Frame::jpeg(vec![0xAB; 1000]));
    let h = hub.clone();
    let addr = support::serve(MjpegLayer::new(), server, move |path| {
        if path == "/snapshot" {
            h.snapshot().into_http_response()
        } else {
            h.subscribe().into_http_response()
        }
    })
    .await;
    let publisher = hub.clone();
    tokio::spawn(async move {
        for _ in 0..6000 {
            publisher.publish(Frame::jpeg(vec![0xAB; 1000]));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    (addr, hub)
}

/// How long until the server closes `stream` (reads and drops what it sends);
/// `None` if it is still open after `limit`.
async fn closed_after(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let left = limit.checked_sub(start.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Connects and sends a request head without its final blank line.
async fn half_head(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    stream
}

#[tokio::test]
async fn half_sent_request_heads_are_closed_after_the_header_timeout() {
    let server = Server::new().header_read_timeout(Some(Duration::from_millis(500)));
    let (addr, _hub) = serve(server).await;
    let mut half = half_head(addr).await;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let (half_closed, silent_closed) = tokio::join!(
        closed_after(&mut half, Duration::from_secs(5)),
        closed_after(&mut silent, Duration::from_secs(5)),
    );
    for closed in [half_closed, silent_closed] {
        let closed = closed.expect("still open 5 s after a 500 ms header timeout");
        assert!(
            closed >= Duration::from_millis(400),
            "closed early: {closed:?}"
        );
    }
    // A whole head within the timeout streams for longer than it.
    let mut viewer = RawClient::get(addr, "/stream").await;
    assert_eq!(viewer.status(), 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let before = viewer.body().len();
    assert!(
        viewer.read_body_until(|b| b.len() > before + 10_000).await,
        "the stream ended"
    );
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_but_streams_are_not() {
    let server = Server::new()
        .header_read_timeout(None)
        .idle_timeout(Some(Duration::from_millis(500)));
    let (addr, hub) = serve(server).await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /snapshot HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let closed = closed_after(&mut idle, Duration::from_secs(5))
        .await
        .expect("an idle keep-alive connection still open after 5 s");
    assert!(
        closed >= Duration::from_millis(400),
        "closed early: {closed:?}"
    );

    let mut viewer = RawClient::get(addr, "/stream").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // What the socket buffered would outlast a stream closed at 500 ms:
    // the hub still counting the viewer is what says it was not.
    assert_eq!(hub.viewers(), 1, "a live stream was closed as idle");
    let before = viewer.body().len();
    assert!(
        viewer.read_body_until(|b| b.len() > before + 10_000).await,
        "a live stream was closed as idle"
    );
}

#[tokio::test]
async fn connections_over_the_cap_get_503_with_retry_after() {
    let (addr, hub) = serve(Server::new().max_connections(Some(2))).await;
    let a = RawClient::get(addr, "/stream").await;
    let _b = RawClient::get(addr, "/stream").await;
    support::wait_until(|| hub.viewers() == 2).await;
    let mut refused = RawClient::get(addr, "/stream").await;
    assert_eq!(refused.status(), 503, "{}", refused.head);
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    assert_eq!(refused.header("connection").as_deref(), Some("close"));
    // Reading to the end proves the server closed it (a 10 s bound panics).
    refused.read_body_until(|_| false).await;
    assert_eq!(refused.body(), b"too many connections\n");
    drop(a);
    support::wait_until(|| hub.viewers() == 1).await;
    let c = RawClient::get(addr, "/stream").await;
    assert_eq!(c.status(), 200, "a slot freed is taken again");
}

/// Raises the soft descriptor limit to the hard one (without unsafe code).
fn raise_fd_limit(at_least: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (soft, hard) = (fields[3], fields[4]);
    if soft.parse::<u64>().is_ok_and(|soft| soft >= at_least) {
        return;
    }
    let status = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={hard}:{hard}"),
        ])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_is_served_beside_1000_half_sent_heads() {
    raise_fd_limit(2_500);
    let server = Server::new().header_read_timeout(Some(Duration::from_secs(60)));
    let (addr, hub) = serve(server).await;
    let mut halves = Vec::with_capacity(1000);
    for _ in 0..1000 {
        halves.push(half_head(addr).await);
    }
    let started = Instant::now();
    let mut viewer = RawClient::get(addr, "/stream").await;
    assert_eq!(viewer.status(), 200);
    viewer
        .read_body_until(|b| support::count(b, b"Content-Type: image/jpeg") >= 5)
        .await;
    eprintln!(
        "viewer served in {:?} beside 1000 half heads",
        started.elapsed()
    );
    assert_eq!(hub.viewers(), 1);
    // The half heads are still open: nothing was closed to make room.
    let mut probe = [0u8; 1];
    let still_open = halves
        .iter_mut()
        .take(10)
        .map(|s| s.try_read(&mut probe))
        .filter(|r| matches!(r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock))
        .count();
    assert_eq!(still_open, 10);
}
