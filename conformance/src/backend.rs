//! The backends under test: the same scenario routes on axum, warp and the
//! bare tower service, each served on its own loopback port.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use futures_util::stream;
use http::{Request, Response};
use mjpeg_tower::server::{RequestBody, Server};
use mjpeg_tower::{BoxError, Frame, FrameHub, Mjpeg, MjpegLayer};
use tower::{ServiceBuilder, service_fn};
use warp::Filter;

/// A framework the layer is checked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `mjpeg-axum`: an axum `Router` behind the layer.
    Axum,
    /// `mjpeg-warp`: warp filters through `warp::service`.
    Warp,
    /// The bare tower service, served by hyper-util.
    Tower,
}

impl Backend {
    /// Every backend, in report order.
    pub const ALL: [Backend; 3] = [Backend::Axum, Backend::Warp, Backend::Tower];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Axum => "axum",
            Backend::Warp => "warp",
            Backend::Tower => "tower",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The finite stream every backend serves at `/finite`.
pub fn finite_frames() -> Vec<Frame> {
    (0..5u8)
        .map(|n| Frame::jpeg(vec![n; 1000 + usize::from(n) * 3000]))
        .collect()
}

/// The burst every backend serves at `/burst`: [`BURST_FRAMES`] frames of
/// [`BURST_LEN`] bytes, all ready at once, each filled with its number.
pub fn burst_frames() -> Vec<Frame> {
    (0..BURST_FRAMES)
        .map(|n| Frame::jpeg(vec![n as u8; BURST_LEN]))
        .collect()
}

/// Frames in `/burst`.
pub const BURST_FRAMES: usize = 100;
/// Bytes per `/burst` frame.
pub const BURST_LEN: usize = 50_000;

/// What `/play` plays to each request: a per-request stream of frames, each
/// after its delay, then the end. The times frames left the producer for the
/// latest request are kept for latency measurements.
#[derive(Clone, Debug, Default)]
pub struct Script {
    frames: Arc<Mutex<Vec<(Duration, Frame)>>>,
    played: Arc<Mutex<Vec<u64>>>,
}

impl Script {
    /// Sets what later requests get.
    pub fn set(&self, frames: Vec<(Duration, Frame)>) {
        if let Ok(mut f) = self.frames.lock() {
            *f = frames;
        }
    }

    /// When each frame of the latest request was produced (unix ms).
    pub fn played(&self) -> Vec<u64> {
        self.played.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn stream(&self) -> Mjpeg {
        use futures_util::StreamExt;
        let frames = self.frames.lock().map(|f| f.clone()).unwrap_or_default();
        let played = self.played.clone();
        if let Ok(mut p) = played.lock() {
            p.clear();
        }
        Mjpeg::new(stream::iter(frames).then(move |(delay, frame)| {
            let played = played.clone();
            async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut p) = played.lock() {
                    p.push(crate::clients::unix_ms());
                }
                frame
            }
        }))
    }
}

/// The text every backend serves at `/`.
pub const PLAIN: &str = "plain route, untouched";

/// Routes, the same on every backend:
/// - `/` plain text ([`PLAIN`]); `/finite` [`finite_frames`]; `/burst`
///   [`burst_frames`]; `/error` two frames then an error; `/live` the hub;
///   `/snapshot` the hub's latest frame; `/slow` a frame every 200 ms, 20 frames;
///   `/play` the [`Script`].
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The hub behind `/live` and `/snapshot`.
    pub hub: FrameHub,
    /// What `/play` plays.
    pub script: Script,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.hub.stop();
        self.task.abort();
    }
}

fn error_stream() -> Mjpeg {
    let items: Vec<Result<Frame, BoxError>> = vec![
        Ok(Frame::jpeg(vec![1; 500])),
        Ok(Frame::jpeg(vec![2; 500])),
        Err("scenario producer failed".into()),
    ];
    Mjpeg::try_new(stream::iter(items))
}

fn slow_stream() -> Mjpeg {
    use futures_util::StreamExt;
    let frames = stream::iter(0..20u8).then(|n| async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Frame::jpeg(vec![n; 800])
    });
    Mjpeg::new(frames)
}

/// Starts `backend` with `layer` and `server` on a fresh loopback port.
pub async fn start(
    backend: Backend,
    layer: MjpegLayer,
    server: Server,
) -> std::io::Result<Running> {
    let hub = FrameHub::new();
    let script = Script::default();
    let listener = server
        .bind("127.0.0.1:0".parse().map_err(std::io::Error::other)?)
        .await?;
    let addr = listener.local_addr()?;
    let task = match backend {
        Backend::Axum => {
            let app = axum::Router::new()
                .route("/", get(|| async { PLAIN }))
                .route(
                    "/finite",
                    get(|| async { Mjpeg::new(stream::iter(finite_frames())) }),
                )
                .route(
                    "/burst",
                    get(|| async { Mjpeg::new(stream::iter(burst_frames())) }),
                )
                .route("/error", get(|| async { error_stream() }))
                .route("/slow", get(|| async { slow_stream() }))
                .route(
                    "/play",
                    get({
                        let script = script.clone();
                        move || async move { script.stream() }
                    }),
                )
                .route(
                    "/live",
                    get(|State(h): State<FrameHub>| async move { h.subscribe() }),
                )
                .route(
                    "/snapshot",
                    get(|State(h): State<FrameHub>| async move { h.snapshot() }),
                )
                .with_state(hub.clone())
                .layer(layer);
            tokio::spawn(server.serve(listener, app))
        }
        Backend::Warp => {
            let (h1, h2, play) = (hub.clone(), hub.clone(), script.clone());
            let routes = warp::path::end()
                .map(|| PLAIN)
                .or(warp::path("finite").map(|| Mjpeg::new(stream::iter(finite_frames()))))
                .or(warp::path("burst").map(|| Mjpeg::new(stream::iter(burst_frames()))))
                .or(warp::path("error").map(error_stream))
                .or(warp::path("slow").map(slow_stream))
                .or(warp::path("play").map(move || play.stream()))
                .or(warp::path("live").map(move || h1.subscribe()))
                .or(warp::path("snapshot").map(move || h2.snapshot()));
            tokio::spawn(mjpeg_warp::serve_with(
                server,
                listener,
                warp::service(routes),
                layer,
                std::future::pending(),
            ))
        }
        Backend::Tower => {
            let (h, play) = (hub.clone(), script.clone());
            let svc = ServiceBuilder::new().layer(layer).service(service_fn(
                move |req: Request<RequestBody>| {
                    let res = match req.uri().path() {
                        "/" => Response::new(PLAIN.into()),
                        "/finite" => Mjpeg::new(stream::iter(finite_frames())).into_http_response(),
                        "/burst" => Mjpeg::new(stream::iter(burst_frames())).into_http_response(),
                        "/error" => error_stream().into_http_response(),
                        "/slow" => slow_stream().into_http_response(),
                        "/play" => play.stream().into_http_response(),
                        "/live" => h.subscribe().into_http_response(),
                        "/snapshot" => h.snapshot().into_http_response(),
                        _ => {
                            let mut res = Response::new("not found".into());
                            *res.status_mut() = http::StatusCode::NOT_FOUND;
                            res
                        }
                    };
                    async move { Ok::<_, Infallible>(res) }
                },
            ));
            tokio::spawn(server.serve(listener, svc))
        }
    };
    Ok(Running {
        addr,
        hub,
        script,
        task,
    })
}
