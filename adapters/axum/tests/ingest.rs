//! Push ingest over real sockets: an axum handler publishes what clients
//! `POST` (ffmpeg's `mpjpeg` muxer, our own stream, one JPEG) into a hub
//! that viewers watch; malformed and broken-off bodies publish nothing.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::collections::BTreeSet;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::StreamExt;
use mjpeg_axum::{Frame, FrameHub, MjpegLayer};
use mjpeg_tower::decode::{Decoder, PartStream};
use mjpeg_tower::ingest::{Ingest, IngestError, IngestSummary};
use support::wait_until;
use tokio::io::AsyncWriteExt;

async fn push(State(hub): State<FrameHub>, req: Request) -> Result<IngestSummary, IngestError> {
    Ingest::new().request(req, &hub).await
}

/// `/push` into `hub` and `/stream` of it; `/source` streams `source`.
async fn serve(hub: &FrameHub, source: &FrameHub) -> SocketAddr {
    let source = source.clone();
    let app = Router::new()
        .route("/push", post(push))
        .route(
            "/stream",
            get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .route("/source", get(move || async move { source.subscribe() }))
        .with_state(hub.clone())
        .layer(MjpegLayer::new());
    let listener = mjpeg_axum::listener("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    tokio::spawn(axum::serve(listener, app).into_future());
    addr
}

/// A viewer of `url` collecting distinct whole JPEGs until it has `n`.
fn viewer(url: String, n: usize) -> tokio::task::JoinHandle<BTreeSet<Bytes>> {
    tokio::spawn(async move {
        let res = reqwest::get(url).await.unwrap();
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        let decoder = Decoder::from_content_type(&ct).unwrap();
        let mut parts = PartStream::new(decoder, Box::pin(res.bytes_stream()));
        let mut seen = BTreeSet::new();
        let read = async {
            while seen.len() < n {
                let body = parts.next().await.unwrap().unwrap().body;
                assert!(body.starts_with(b"\xFF\xD8") && body.ends_with(b"\xFF\xD9"));
                seen.insert(body);
            }
        };
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap();
        seen
    })
}

fn ffmpeg_missing() -> bool {
    let found = std::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found || !std::env::var("CI").is_ok_and(|v| v == "true"),
        "ffmpeg is required in CI"
    );
    if !found {
        eprintln!("skipped: ffmpeg is not installed");
    }
    !found
}

#[tokio::test]
async fn ffmpeg_posts_an_mjpeg_stream_that_viewers_receive() {
    if ffmpeg_missing() {
        return;
    }
    let hub = FrameHub::new();
    let addr = serve(&hub, &FrameHub::new()).await;
    let watching = viewer(format!("http://{addr}/stream"), 10);
    wait_until(|| hub.viewers() == 1).await;
    let status = tokio::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-f", "lavfi"])
        .args(["-i", "testsrc=size=320x240:rate=10", "-frames:v", "10"])
        .args(["-f", "mpjpeg", "-method", "POST"])
        .args([
            "-content_type",
            "multipart/x-mixed-replace; boundary=ffmpeg",
        ])
        .arg(format!("http://{addr}/push"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(Duration::from_secs(60), status)
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    assert_eq!(hub.stats().published, 10);
    assert_eq!(watching.await.unwrap().len(), 10);
}

#[tokio::test]
async fn our_own_stream_relayed_by_post_reaches_the_hubs_viewers() {
    let (hub, source) = (FrameHub::new(), FrameHub::new());
    let addr = serve(&hub, &source).await;
    let watching = viewer(format!("http://{addr}/stream"), 10);
    wait_until(|| hub.viewers() == 1).await;

    // GET the source stream and POST it, as it comes, to /push.
    let upstream = reqwest::get(format!("http://{addr}/source")).await.unwrap();
    let ct = upstream.headers()["content-type"].clone();
    let posting = tokio::spawn(
        reqwest::Client::new()
            .post(format!("http://{addr}/push"))
            .header("content-type", ct)
            .body(reqwest::Body::wrap_stream(upstream.bytes_stream()))
            .send(),
    );
    wait_until(|| source.viewers() == 1).await;
    for n in 0..10u8 {
        source.publish(Frame::jpeg(vec![0xFF, 0xD8, n, 0xFF, 0xD9]));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    source.stop(); // the close delimiter ends the POST
    let res = posting.await.unwrap().unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.starts_with("published "), "{text}");
    let seen = watching.await.unwrap();
    let expected: BTreeSet<Bytes> = (0..10u8)
        .map(|n| Bytes::from(vec![0xFF, 0xD8, n, 0xFF, 0xD9]))
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_single_jpeg_and_a_malformed_stream() {
    let hub = FrameHub::new();
    let addr = serve(&hub, &FrameHub::new()).await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/push");

    let jpeg = &b"\xFF\xD8 one picture \xFF\xD9"[..];
    let res = client
        .post(&url)
        .header("content-type", "image/jpeg")
        .body(jpeg)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        "published 1 frames (17 bytes), skipped 0\n"
    );
    assert_eq!(hub.latest().unwrap().data().as_ref(), jpeg);

    // The header block never ends: 400 with the decoder's reason.
    let malformed = b"--B\r\nContent-Type: image/jpeg\r\n\xFF\xD8\xFF\xD9".repeat(1000);
    let res = client
        .post(&url)
        .header("content-type", "multipart/x-mixed-replace; boundary=B")
        .body(malformed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let reason = res.text().await.unwrap();
    assert!(
        reason.starts_with("malformed multipart stream: part 1: more than 32 header lines"),
        "{reason}"
    );

    let res = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(hub.stats().published, 1);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_part_publishes_nothing_partial() {
    let hub = FrameHub::new();
    let addr = serve(&hub, &FrameHub::new()).await;
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = "POST /push HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
                Content-Type: multipart/x-mixed-replace; boundary=B\r\n\r\n";
    socket.write_all(head.as_bytes()).await.unwrap();
    let first = b"--B\r\nContent-Type: image/jpeg\r\n\r\n\xFF\xD8 first \xFF\xD9\r\n";
    // Every byte of the second part's Content-Length, but no delimiter
    // after it: the client went away before the part was confirmed.
    let second =
        b"--B\r\nContent-Type: image/jpeg\r\nContent-Length: 12\r\n\r\n\xFF\xD8 second \xFF\xD9";
    for chunk in [&first[..], &second[..]] {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        socket.write_all(&framed).await.unwrap();
    }
    wait_until(|| hub.stats().published == 1).await;
    drop(socket);
    // Give the server time to see the disconnect and finish the request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hub.stats().published, 1);
    assert_eq!(
        hub.latest().unwrap().data().as_ref(),
        b"\xFF\xD8 first \xFF\xD9"
    );
}
