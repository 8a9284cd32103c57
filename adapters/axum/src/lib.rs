//! [axum] glue for [`mjpeg_tower`]: live MJPEG from any axum router.
//!
//! The responders ([`Mjpeg`], [`FrameHub::subscribe`], [`FrameHub::snapshot`])
//! are `IntoResponse`; wrap the router in [`MjpegLayer`] and every other route
//! passes through untouched. Serve it with [`serve`] so viewers that stop
//! reading are dropped instead of holding buffers forever.
//!
//! ```
//! use axum::{Router, extract::State, routing::get};
//! use mjpeg_axum::{FrameHub, MjpegLayer};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let hub = FrameHub::new();
//! let app = Router::new()
//!     .route("/", get(|| async { "<img src=\"/stream\">" }))
//!     .route("/stream", get(|State(hub): State<FrameHub>| async move { hub.subscribe() }))
//!     .route("/snapshot", get(|State(hub): State<FrameHub>| async move { hub.snapshot() }))
//!     .with_state(hub.clone())
//!     .layer(MjpegLayer::new());
//!
//! let listener = mjpeg_axum::bind("127.0.0.1:0".parse().unwrap()).await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(mjpeg_axum::serve(listener, app));
//! hub.publish(vec![0xFF, 0xD8, 0xFF, 0xD9]);
//!
//! // Plain routes are untouched; the stream route streams.
//! let mut s = tokio::net::TcpStream::connect(addr).await?;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").await?;
//! let mut head = vec![0; 512];
//! let n = s.read(&mut head).await?;
//! let head = String::from_utf8_lossy(&head[..n]);
//! assert!(head.starts_with("HTTP/1.1 200 OK"));
//! assert!(head.contains("content-type: multipart/x-mixed-replace; boundary="));
//! # Ok(()) }
//! ```
//!
//! # Slow clients
//! Keep `axum::serve` and give it [`listener`]: every accepted socket gets a
//! [`DEFAULT_SEND_BUFFER`] kernel send buffer and a
//! [`DEFAULT_WRITE_STALL_TIMEOUT`], so a client that reads nothing for that
//! long is disconnected. `ConnectInfo<SocketAddr>` and graceful shutdown
//! work as usual:
//!
//! ```no_run
//! # async fn run(app: axum::Router, hub: mjpeg_axum::FrameHub,
//! #     shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
//! use std::net::SocketAddr;
//! let listener = mjpeg_axum::listener(([0, 0, 0, 0], 8080).into()).await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
//!     .with_graceful_shutdown(async move {
//!         shutdown.await; // e.g. tokio::signal::ctrl_c()
//!         hub.stop(); // viewers get the close delimiter, so shutdown can finish
//!     })
//!     .await
//! # }
//! ```
//!
//! [`serve`] does the same with its own loop and also reports such clients
//! as [`DisconnectReason::Overflow`] (through `axum::serve` they are reported
//! as `ClientClosed`). It also serves a viewer's `GET` without hyper's
//! per-connection buffers: about 6-7 KiB per viewer, where hyper (which
//! `axum::serve` runs) keeps an 8 KiB read and write buffer per connection
//! (19 KiB per viewer when [`Server`] used it; `cargo xtask bench`). Use [`Server`] with [`listener_with`] or
//! [`Server::serve`] to change the buffer or the timeout.
//!
//! With a plain `TcpListener` instead, the layer's high-water mark still
//! bounds what the layer holds per viewer, but a client that stops reading
//! keeps its connection (and the kernel and hyper buffers, up to about
//! 4.4 MB on Linux loopback) until the TCP stack gives up, and the
//! [`OverflowPolicy::Disconnect`] policy cannot close it.
//!
//! # Compression
//! tower-http's `CompressionLayer` compresses `multipart/x-mixed-replace` by
//! default, and a gzip encoder holds frames back until its buffer fills. Either
//! apply `MjpegLayer` outside it (`.layer(CompressionLayer::new()).layer(MjpegLayer::new())`:
//! the stream is made after compression ran, and goes out uncompressed), or
//! give the compression layer a predicate that skips the stream:
//!
//! ```ignore
//! use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
//! let skip_streams = SizeAbove::default()
//!     .and(NotForContentType::IMAGES)
//!     .and(NotForContentType::const_new("multipart/x-mixed-replace"));
//! let app = router.layer(MjpegLayer::new()).layer(CompressionLayer::new().compress_when(skip_streams));
//! ```
//!
//! # Note
//! With both the `axum` and `warp` features of `mjpeg-tower` on (a workspace
//! using both adapters), the responders also implement `warp::Reply`; code
//! that imports both `IntoResponse` and `Reply` must call
//! `IntoResponse::into_response(r)` rather than `r.into_response()`.

mod listener;
mod named;

use std::io;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

pub use self::listener::{Listener, MjpegListener, listener, listener_with};
pub use self::named::streams_router;
pub use mjpeg_tower::server::{
    DEFAULT_SEND_BUFFER, DEFAULT_WRITE_STALL_TIMEOUT, Server, ServerIo, StallIo,
};
#[cfg(feature = "tls")]
pub use mjpeg_tower::server::{TlsConfig, TlsError};
/// Everything of `mjpeg-tower` a handler, a layer setup or a test needs:
/// one crate is enough.
pub use mjpeg_tower::*;

/// Binds `addr` with the [`Server`] defaults (a small send buffer set before `listen`).
///
/// # Errors
/// The OS error if the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    Server::new().bind(addr).await
}

/// Serves `router` on `listener` with slow-client protection (see the crate docs).
///
/// # Errors
/// Only if accepting connections fails for good.
pub async fn serve(listener: TcpListener, router: Router) -> io::Result<()> {
    Server::new().serve(listener, router).await
}

/// Like [`serve`], until `signal` resolves; then open connections get the
/// server's grace period. Stop your hubs first so viewers get the close delimiter.
///
/// # Errors
/// Only if accepting connections fails for good.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    router: Router,
    signal: impl std::future::Future<Output = ()> + Send,
) -> io::Result<()> {
    Server::new()
        .serve_with_shutdown(listener, router, signal)
        .await
}
