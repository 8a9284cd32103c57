//! Helpers shared by the integration tests: serving on port 0 and reading
//! real multipart parts over HTTP.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use mjpeg_examples::producer::RenderLoop;
use mjpeg_examples::render::Size;
use mjpeg_tower::decode::{Decoder, Part, PartStream};
use mjpeg_tower::{FrameHub, MjpegLayer};
use tokio::task::JoinHandle;

/// The longest any single step of a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A multipart response being read part by part.
pub type Parts = PartStream<Body>;

/// Serves `app` on a fresh port; returns the address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = mjpeg_axum::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mjpeg_axum::serve(listener, app));
    addr
}

/// GETs `url` and decodes its body as a multipart stream.
pub async fn open(url: &str) -> Parts {
    let res = within(reqwest::get(url)).await.unwrap();
    assert_eq!(res.status(), 200, "GET {url}");
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("multipart/x-mixed-replace; boundary="),
        "{content_type}"
    );
    let decoder = Decoder::from_content_type(&content_type).unwrap();
    PartStream::new(decoder, Box::pin(res.bytes_stream()))
}

/// The next part, `None` once the stream has ended; panics after [`TIMEOUT`].
pub async fn next_part(parts: &mut Parts) -> Option<Part> {
    within(parts.next()).await.map(|part| part.unwrap())
}

/// Asserts that `part` is one whole JPEG labelled as one; returns its bytes.
pub fn jpeg(part: &Part) -> Bytes {
    assert_eq!(part.content_type(), Some("image/jpeg"));
    assert_jpeg(&part.body);
    part.body.clone()
}

/// Asserts that `bytes` start with SOI and end with EOI.
pub fn assert_jpeg(bytes: &[u8]) {
    assert!(bytes.len() > 4, "{} bytes", bytes.len());
    assert_eq!(bytes[..2], [0xFF, 0xD8], "no JPEG start marker");
    assert_eq!(bytes[bytes.len() - 2..], [0xFF, 0xD9], "no JPEG end marker");
}

/// Runs `fut`, panicking if it takes longer than [`TIMEOUT`].
pub async fn within<F: Future>(fut: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, fut).await.expect("timed out")
}

/// Polls `check` every 20 ms until it holds; panics after [`TIMEOUT`].
pub async fn eventually(mut check: impl FnMut() -> bool) {
    within(async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A small, quiet sine render loop: cheap enough for debug builds.
pub fn small_sine() -> RenderLoop {
    RenderLoop {
        fps: 25,
        size: Size::new(160, 120).unwrap(),
        quality: 70,
        log: false,
    }
}

/// A running sine server: its hub, its server task, its render loop.
pub struct Sine {
    pub addr: SocketAddr,
    pub hub: FrameHub,
    pub server: JoinHandle<std::io::Result<()>>,
    pub renderer: JoinHandle<()>,
}

impl Sine {
    /// Starts the sine app on `addr` (port 0 for a fresh one).
    pub async fn start(addr: SocketAddr) -> Self {
        let hub = FrameHub::new();
        let renderer = small_sine().spawn(hub.clone());
        let listener = mjpeg_axum::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = mjpeg_examples::sine::app(hub.clone(), MjpegLayer::new());
        let server = tokio::spawn(mjpeg_axum::serve(listener, app));
        Self {
            addr,
            hub,
            server,
            renderer,
        }
    }

    /// Kills it: streams end, the listener closes, rendering stops.
    pub fn kill(&self) {
        self.hub.stop();
        self.server.abort();
        self.renderer.abort();
    }
}
