//! Live MJPEG (`multipart/x-mixed-replace`) streaming as tower middleware.
//!
//! Return frames from a handler; [`MjpegLayer`] turns the response into a
//! stream that browsers, ffmpeg, OpenCV, VLC and reverse proxies accept.
//! Every other response passes through untouched.
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::BodyExt;
//! use mjpeg_tower::{Frame, Mjpeg, MjpegLayer};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let frames = futures_util::stream::iter([Frame::jpeg(&b"\xFF\xD8 one \xFF\xD9"[..])]);
//! let mut frames = Some(frames);
//! let svc = ServiceBuilder::new()
//!     .layer(MjpegLayer::new().boundary("frame").unwrap())
//!     .service(service_fn(move |_req: Request<()>| {
//!         let res = Mjpeg::new(frames.take().unwrap()).into_http_response();
//!         async move { Ok::<_, Infallible>(res) }
//!     }));
//!
//! let res = svc.oneshot(Request::new(())).await.unwrap();
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.headers()["content-type"], "multipart/x-mixed-replace; boundary=frame");
//! let body = res.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(
//!     body,
//!     // The part announced after the last frame carries it again: never empty.
//!     Bytes::from_static(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n\xFF\xD8 one \xFF\xD9\
//!                          \r\n--frame\r\nContent-Type: image/jpeg\r\n\r\n\xFF\xD8 one \xFF\xD9\
//!                          \r\n--frame--\r\n"),
//! );
//! # }
//! ```
//!
//! With axum (feature `axum`), a handler returns the responder directly:
//!
//! ```ignore
//! let app = Router::new()
//!     .route("/stream", get(|State(hub): State<FrameHub>| async move { hub.subscribe() }))
//!     .route("/snapshot", get(|State(hub): State<FrameHub>| async move { hub.snapshot() }))
//!     .route("/", get(index))                 // passes through untouched
//!     .with_state(hub)
//!     .layer(MjpegLayer::new());
//! ```
//!
//! # Two ways to produce frames
//! - **Per request**: [`Mjpeg::new`] with a `Stream` of frames; each viewer gets
//!   its own stream from its start. A task drives the stream into the viewer's
//!   queue, so the [`OverflowPolicy`] applies (use [`OverflowPolicy::Wait`]
//!   when every frame must arrive, e.g. recorded footage).
//! - **Broadcast**: one producer [`publish`](FrameHub::publish)es into a
//!   [`FrameHub`]; [`subscribe`](FrameHub::subscribe) gives each viewer the
//!   latest frame at once, then every new one. Frames are encoded once and
//!   shared by reference with every viewer.
//!
//! # Framing and browsers
//! See [`Framing`]: by default the next part's headers are sent right after
//! each frame, so Chrome and Edge draw a frame as soon as it arrives rather
//! than when the next one does. The boundary is sent unquoted (a quoted one
//! freezes Safari); [`MjpegLayer::repeat_final_frame`] works around Safari
//! holding back the last frame of a finite stream.
//!
//! # Runtime
//! The layer runs on tokio: per-request streams are driven by a spawned task
//! (without a runtime the body polls them itself, and drop policies only
//! apply between writes), and [`MjpegLayer::heartbeat`], [`MjpegLayer::max_fps`]
//! and snapshot waits use tokio's timer, so they need a runtime with time
//! enabled (`#[tokio::main]` has it).
//!
//! # Without the layer
//! Like axum's `Sse`, a responder works by itself: returned from a route the
//! layer does not wrap, it streams with the default configuration. The
//! layer adds what needs configuration or shared state:
//!
//! | | without the layer | with [`MjpegLayer`] |
//! |---|---|---|
//! | boundary, framing, headers, heartbeat, fps, high-water mark and policy | the defaults | as configured |
//! | `max_clients`, `Retry-After` | no limit | `503` past the limit |
//! | `on_connect` / `on_disconnect` / `on_idle`, [`Stats`] | none | yes |
//! | a snapshot before the first frame | `503` at once | waits up to the hub's snapshot timeout |
//! | `HEAD` | headers only (the framework does not poll the body) | headers only, and `503` when full |
//!
//! A plain tower service can answer its other routes with the same body
//! type: [`ResponderBody`] converts from `Bytes` and `&'static str`.
//!
//! # Architecture
//! The code reads in the order a frame flows, from `publish` to the socket.
//! Each stage imports only from earlier stages and from `lifecycle`; no
//! process-global state (a test in `tests/architecture.rs` checks both).
//!
//! | folder | stage | what it owns |
//! |---|---|---|
//! | `wire/` | 1 | [`Frame`], [`Boundary`], [`Framing`], the pure part encoder and its fingerprint |
//! | `fanout/` | 2 | a published frame's per-configuration encodings, the per-viewer queue and [`OverflowPolicy`], [`FrameHub`], the task that drives a per-request stream |
//! | `respond/` | 3 | the responders ([`Mjpeg`], [`Subscribe`], [`Snapshot`]), default headers, complete replies, framework integrations |
//! | `layer/` | 4 | [`MjpegLayer`] and its config, [`MjpegService`], [`ResponseFuture`], the dispatch of one request, [`MjpegBody`] and the live stream body |
//! | `lifecycle/` | beside | [`ConnectionInfo`], events and callbacks, [`Stats`], and the one place that decides a [`DisconnectReason`] |
//! | `server/`, `decode/` | apart | serving with slow-client protection; the multipart decoder |
//! | `ingest/` | a source | frames pushed in a request body, published into a [`FrameHub`] |
//! | `pipe/` | a source | whole JPEG frames from a byte pipe, published into a [`FrameHub`] |
//!
//! A frame's encoding is cached under its encoder's fingerprint (boundary,
//! framing, part headers), computed when the layer is configured: any number
//! of differently configured layers can view one hub, and each configuration
//! encodes each frame once.
//!
//! # Feature flags
//! | feature | what it adds |
//! |---|---|
//! | `axum` | `axum_core::response::IntoResponse` for the responders |
//! | `warp` | `warp::Reply` for the responders |
//! | `server` | [`server`]: serving with small send buffers and a write-stall timeout |
//! | `tls` | HTTPS for [`server`] (`server::TlsConfig`): rustls with the `ring` provider, ALPN `h2` and `http/1.1` |
//! | `decode` | `decode`: an incremental parser of multipart streams (for clients, relays, tests) |
//! | `ingest` | `ingest`: frames `POST`ed as a multipart stream or a JPEG, published into a [`FrameHub`] (implies `decode`) |
//! | `pipe` | `pipe`: whole JPEG frames from concatenated JPEGs on any `AsyncRead`, e.g. `ffmpeg -f mjpeg -` |
//! | `metrics` | counters, gauges and a latency histogram through the [`metrics`](https://docs.rs/metrics) facade, labelled `stream` with the hub's [name](FrameHubBuilder::name) (see below) |
//! | `tracing` | [`tracing`](https://docs.rs/tracing) events (target `mjpeg_tower`): a viewer connecting (debug) and leaving with its reason and totals (info), an overflow or budget disconnect (warn), on-demand sources starting, stopping (info) and failing (warn) |
//!
//! # Metrics
//! With the `metrics` feature, install a recorder (e.g.
//! `metrics-exporter-prometheus`) before viewers connect: each viewer
//! registers its handles once, when it connects. The latency histogram
//! records a sample for every frame sent: a recorder that keeps samples until
//! they are drained (`metrics-exporter-prometheus`'s `install_recorder`)
//! needs its upkeep run periodically (`PrometheusHandle::run_upkeep` every few
//! seconds), or memory grows while nobody scrapes.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `mjpeg_frames_published_total` | counter | `stream` |
//! | `mjpeg_frames_sent_total`, `mjpeg_bytes_sent_total` | counter | `stream` |
//! | `mjpeg_frames_dropped_total` | counter | `stream` |
//! | `mjpeg_viewers`, `mjpeg_queued_bytes` | gauge | `stream` |
//! | `mjpeg_frame_latency_seconds` (publish to handed to the connection) | histogram | `stream` |
//! | `mjpeg_disconnects_total` | counter | `stream`, `reason` ([`DisconnectReason::as_str`]) |
//! | `mjpeg_source_starts_total`, `mjpeg_source_failures_total` | counter | `stream` |
//!
//! A per-request stream, or a hub without a name, is labelled `stream="default"`.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The stages, in the order a frame flows through them (see "Architecture"
// above). Each imports only from earlier ones and `lifecycle`.
mod fanout;
mod layer;
mod lifecycle;
mod respond;
mod wire;

#[cfg(feature = "decode")]
#[cfg_attr(docsrs, doc(cfg(feature = "decode")))]
pub mod decode;
#[cfg(feature = "ingest")]
#[cfg_attr(docsrs, doc(cfg(feature = "ingest")))]
pub mod ingest;
#[cfg(feature = "pipe")]
#[cfg_attr(docsrs, doc(cfg(feature = "pipe")))]
pub mod pipe;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
pub mod streams;

pub use self::fanout::hub::{FrameHub, FrameHubBuilder, HubStats};
pub use self::fanout::policy::OverflowPolicy;
pub use self::layer::body::MjpegBody;
pub use self::layer::builder::MjpegLayer;
pub use self::layer::future::ResponseFuture;
pub use self::layer::service::MjpegService;
pub use self::lifecycle::events::{
    ConnectEvent, ConnectionStats, DisconnectEvent, DisconnectReason,
};
pub use self::lifecycle::info::{ConnectionInfo, RemoteAddr, StallFlag};
pub use self::lifecycle::outcome::{BoxError, MemoryBudgetError, OverflowError};
pub use self::lifecycle::stats::{Stats, Status};
pub use self::respond::body::ResponderBody;
pub use self::respond::config::{DEFAULT_HIGH_WATER_MARK, DEFAULT_MEMORY_BUDGET};
pub use self::respond::hub::{Snapshot, Subscribe};
pub use self::respond::mjpeg::Mjpeg;
pub use self::wire::boundary::{Boundary, BoundaryError};
pub use self::wire::frame::Frame;
pub use self::wire::framing::Framing;
