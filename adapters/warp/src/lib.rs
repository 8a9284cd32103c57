//! [warp] glue for [`mjpeg_tower`]: live MJPEG from warp filters.
//!
//! The responders ([`Mjpeg`], [`FrameHub::subscribe`], [`FrameHub::snapshot`])
//! are [`warp::Reply`]s. warp filters are not tower services, but
//! `warp::service(filter)` is: [`serve`] wraps it in [`MjpegLayer`] and serves
//! it with hyper-util (HTTP/1.1 and h2c), with the same slow-client protection
//! as the axum adapter.
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
//! tokio::spawn(mjpeg_warp::serve(listener, routes, MjpegLayer::new()));
//! # Ok(()) }
//! ```
//!
//! # Note
//! With both the `axum` and `warp` features of `mjpeg-tower` on, the
//! responders also implement axum's `IntoResponse`; code that imports both
//! traits must call `Reply::into_response(r)` rather than `r.into_response()`.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tower_layer::Layer;
use warp::{Filter, Reply, reject::Reject};

pub use mjpeg_tower::server::{DEFAULT_SEND_BUFFER, DEFAULT_WRITE_STALL_TIMEOUT, Server};
pub use mjpeg_tower::{
    Boundary, BoundaryError, ConnectEvent, ConnectionInfo, ConnectionStats, DisconnectEvent,
    DisconnectReason, Frame, FrameHub, FrameHubBuilder, Framing, HubStats, Mjpeg, MjpegLayer,
    OverflowPolicy, Snapshot, Stats, Status, Subscribe,
};

/// Binds `addr` with the [`Server`] defaults (a small send buffer set before `listen`).
///
/// # Errors
/// The OS error if the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    Server::new().bind(addr).await
}

/// Serves `filter` behind `layer` on `listener` with slow-client protection.
///
/// # Errors
/// Only if accepting connections fails for good.
pub async fn serve<F>(listener: TcpListener, filter: F, layer: MjpegLayer) -> io::Result<()>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: Reply,
    F::Error: Reject,
{
    serve_with(
        Server::new(),
        listener,
        filter,
        layer,
        std::future::pending(),
    )
    .await
}

/// Serves `filter` behind `layer` with a [`Server`] of your settings, until `signal` resolves.
///
/// # Errors
/// Only if accepting connections fails for good.
pub async fn serve_with<F>(
    server: Server,
    listener: TcpListener,
    filter: F,
    layer: MjpegLayer,
    signal: impl std::future::Future<Output = ()> + Send,
) -> io::Result<()>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: Reply,
    F::Error: Reject,
{
    let service = layer.layer(warp::service(filter));
    server.serve_with_shutdown(listener, service, signal).await
}
