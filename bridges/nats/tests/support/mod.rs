//! Shared by the integration tests: a real broker (or a skip), an edge
//! served over HTTP, and a viewer reading its parts.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderName, HeaderValue};
use mjpeg_nats::{LocalBroker, NatsEdge, NatsOrigin};
use mjpeg_tower::decode::{Decoder, Part, PartStream};
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use tokio::task::JoinHandle;

/// The longest any single step may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The sequence header the tests' frames carry.
pub const X_SEQ: HeaderName = HeaderName::from_static("x-seq");

/// A broker on a free port, or `None` (a skip, said on stderr) when
/// `nats-server` is missing and `CI` is not `true`. Under `CI=true` a
/// missing broker fails the test.
pub fn broker(test: &str) -> Option<LocalBroker> {
    match LocalBroker::start() {
        Ok(broker) => Some(broker),
        Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: CI=true requires nats-server: {err}")
        }
        Err(err) => {
            eprintln!("skipping {test}: {err}");
            None
        }
    }
}

/// A JPEG-looking frame `seq` of `len` bytes, with an `X-Seq` header.
pub fn frame(seq: u64, len: usize) -> Frame {
    let mut data = vec![(seq % 251) as u8; len.max(4)];
    data[..2].copy_from_slice(&[0xFF, 0xD8]);
    let n = data.len();
    data[n - 2..].copy_from_slice(&[0xFF, 0xD9]);
    Frame::jpeg(data).with_header(X_SEQ, HeaderValue::from(seq))
}

/// Publishes frame 0, 1, 2... every `every` until aborted.
pub fn publish_every(origin: NatsOrigin, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        for seq in 0.. {
            tick.tick().await;
            origin.publish(frame(seq, 2000));
        }
    })
}

/// An edge with its hub, served over HTTP on a fresh port.
pub struct ServedEdge {
    pub edge: NatsEdge,
    pub hub: FrameHub,
    pub addr: SocketAddr,
    server: JoinHandle<std::io::Result<()>>,
}

impl ServedEdge {
    /// Connects an edge of `name` to `url` and serves its hub at `/stream`,
    /// with a heartbeat of `heartbeat`.
    pub async fn start(url: &str, name: &str, heartbeat: Duration) -> Self {
        let hub = FrameHub::new();
        let edge = within(NatsEdge::builder(name).unwrap().connect(url, hub.clone()))
            .await
            .unwrap();
        let app = Router::new()
            .route(
                "/stream",
                get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
            )
            .with_state(hub.clone())
            .layer(MjpegLayer::new().heartbeat(Some(heartbeat)));
        let listener = mjpeg_axum::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(mjpeg_axum::serve(listener, app));
        Self {
            edge,
            hub,
            addr,
            server,
        }
    }

    /// Opens a viewer of the edge's stream.
    pub async fn viewer(&self) -> Parts {
        open(&format!("http://{}/stream", self.addr)).await
    }
}

impl Drop for ServedEdge {
    fn drop(&mut self) {
        self.hub.stop();
        self.server.abort();
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A multipart response being read part by part.
pub type Parts = PartStream<Body>;

/// GETs `url` and decodes its body as a multipart stream.
pub async fn open(url: &str) -> Parts {
    let res = within(reqwest::get(url)).await.unwrap();
    assert_eq!(res.status(), 200, "GET {url}");
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let decoder = Decoder::from_content_type(&content_type).unwrap();
    PartStream::new(decoder, Box::pin(res.bytes_stream()))
}

/// The next part; panics when the stream ends, fails, or is silent for [`TIMEOUT`].
pub async fn next_part(parts: &mut Parts) -> Part {
    within(parts.next())
        .await
        .expect("the stream ended")
        .expect("the stream failed")
}

/// The `X-Seq` of `part`.
pub fn seq(part: &Part) -> u64 {
    part.headers[X_SEQ].to_str().unwrap().parse().unwrap()
}

/// Runs `fut`, panicking if it takes longer than [`TIMEOUT`].
pub async fn within<F: Future>(fut: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, fut).await.expect("timed out")
}

/// Polls `check` every 10 ms until it holds; panics after [`TIMEOUT`].
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(TIMEOUT, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}
