//! [warp] glue for [`mjpeg_tower`]: live MJPEG from warp filters.
//!
//! The responders ([`Mjpeg`], [`FrameHub::subscribe`], [`FrameHub::snapshot`])
//! are [`warp::Reply`]s. warp filters are not tower services, but
//! `warp::service(routes)` is: [`serve`] wraps it in [`MjpegLayer`] and serves
//! it with hyper-util (HTTP/1.1 and h2c), with the same slow-client protection
//! (small send buffer, write-stall timeout) as the axum adapter.
//!
//! ```
//! use warp::Filter;
//! use mjpeg_warp::{FrameHub, MjpegLayer};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let hub = FrameHub::new();
//! let h = hub.clone();
//! let stream = warp::path("stream").map(move || h.subscribe());
//! let index = warp::path::end().map(|| warp::reply::html("<img src=\"/stream\">"));
//! let routes = stream.or(index);
//!
//! let listener = mjpeg_warp::bind("127.0.0.1:0".parse().unwrap()).await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(mjpeg_warp::serve(listener, warp::service(routes), MjpegLayer::new()));
//! hub.publish(vec![0xFF, 0xD8, 0xFF, 0xD9]);
//!
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
//! # Why not `warp::serve`
//! The responders work with `warp::serve` too (they stream with the default
//! configuration), but warp 0.4's own server cannot give the layer or the
//! protection: `warp::serve` takes filters, not tower services, so
//! [`MjpegLayer`] cannot wrap what it serves; and its `Server::incoming`
//! accepts only its own `Accept` trait, which lives in a private module and
//! is implemented for tokio's `TcpListener` and `UnixListener` only, so no
//! IO wrapper with a write-stall timeout can be put between it and the
//! socket. A listener from [`bind`] passed to `warp::serve(..).incoming(..)`
//! does keep the small send buffer (accepted sockets inherit it). [`serve`]
//! has both, over hyper-util.
//!
//! # HTTPS
//! With the `tls` feature, a [`Server`] with a `TlsConfig` given to
//! [`serve_with`] serves HTTPS with ALPN `h2` and `http/1.1`:
//!
//! ```no_run
//! # #[cfg(feature = "tls")]
//! # async fn run(routes: impl warp::Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible> + Clone + Send + Sync + 'static) -> Result<(), Box<dyn std::error::Error>> {
//! use mjpeg_warp::{MjpegLayer, Server, TlsConfig};
//!
//! let server = Server::new().tls(Some(TlsConfig::from_pem_files("cert.pem", "key.pem")?));
//! let listener = server.bind("0.0.0.0:8443".parse()?).await?;
//! mjpeg_warp::serve_with(server, listener, warp::service(routes), MjpegLayer::new(), std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! # Note
//! With both the `axum` and `warp` features of `mjpeg-tower` on, the
//! responders also implement axum's `IntoResponse`; code that imports both
//! traits must call `Reply::into_response(r)` rather than `r.into_response()`.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tokio::net::TcpListener;
use tower_layer::Layer;
use tower_service::Service;

pub use mjpeg_tower::server::{
    DEFAULT_SEND_BUFFER, DEFAULT_WRITE_STALL_TIMEOUT, RequestBody, Server, ServerIo, StallIo,
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

/// Serves `service` (made with [`warp::service`]) behind `layer` on
/// `listener`, with slow-client protection.
///
/// # Note
/// warp keeps the trait that filter errors must implement private, so a
/// helper cannot take the filter itself; `warp::service(routes)` is the one
/// extra call.
///
/// # Errors
/// Only if accepting connections fails for good.
pub async fn serve<S, B>(listener: TcpListener, service: S, layer: MjpegLayer) -> io::Result<()>
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    serve_with(
        Server::new(),
        listener,
        service,
        layer,
        std::future::pending(),
    )
    .await
}

/// Like [`serve`], with a [`Server`] of your settings, until `signal` resolves.
///
/// # Errors
/// Only if accepting connections fails for good.
pub async fn serve_with<S, B>(
    server: Server,
    listener: TcpListener,
    service: S,
    layer: MjpegLayer,
    signal: impl std::future::Future<Output = ()> + Send,
) -> io::Result<()>
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    server
        .serve_with_shutdown(listener, layer.layer(service), signal)
        .await
}
