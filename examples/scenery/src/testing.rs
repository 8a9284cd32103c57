//! What the examples' tests share: serving on a free port and reading real
//! multipart parts over HTTP. Each step panics after [`TIMEOUT`].
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // test helpers fail loudly

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::serve::Listener as _;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use mjpeg_axum::decode::{Decoder, Part, PartStream};

use crate::canvas::Size;
use crate::render_loop::RenderLoop;

/// The longest any single step of a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A multipart response being read part by part.
pub type Parts = PartStream<Body>;

/// Serves `app` with `axum::serve` on `addr` (port 0 for a free one), as
/// the examples do; returns the address.
pub async fn serve_on(addr: SocketAddr, app: Router) -> SocketAddr {
    let listener = mjpeg_axum::listener(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app).into_future());
    addr
}

/// Serves `app` on a free loopback port; returns the address.
pub async fn serve(app: Router) -> SocketAddr {
    serve_on(([127, 0, 0, 1], 0).into(), app).await
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

/// GETs `url` and returns its body as text.
pub async fn text(url: &str) -> String {
    within(async { reqwest::get(url).await.unwrap().text().await.unwrap() }).await
}

/// GETs `url`, checks it is served as JSON and parses it.
pub async fn json(url: &str) -> serde_json::Value {
    let res = within(reqwest::get(url)).await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/json", "{url}");
    serde_json::from_slice(&within(res.bytes()).await.unwrap()).unwrap()
}

/// The next part, `None` once the stream has ended.
pub async fn next_part(parts: &mut Parts) -> Option<Part> {
    within(parts.next()).await.map(|part| part.unwrap())
}

/// The next part's JPEG; panics if the stream ended.
pub async fn next_jpeg(parts: &mut Parts) -> Bytes {
    jpeg(&next_part(parts).await.expect("the stream ended"))
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

/// Polls `check` every 20 ms until it holds.
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
