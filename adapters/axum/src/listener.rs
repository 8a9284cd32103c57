//! [`MjpegListener`]: slow-client protection (and HTTPS) for `axum::serve`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::{ListenerExt, TapIo};
use mjpeg_tower::server::{Acceptor, Server, ServerIo};
use tokio::net::TcpListener;

/// A TCP listener for `axum::serve` whose connections get a small send
/// buffer, a write-stall timeout, the idle timeout and connection cap of its
/// [`Server`] and, with the `tls` feature and `Server::tls`, TLS (ALPN `h2`
/// and `http/1.1`); see [`listener`].
///
/// TLS handshakes run beside the accept loop: a slow or silent client does
/// not hold up the others.
#[derive(Debug)]
pub struct MjpegListener {
    acceptor: Acceptor,
}

impl MjpegListener {
    /// Wraps `inner` (bind it with [`Server::bind`] so every socket inherits
    /// the small send buffer from the start) with `server`'s protection.
    pub fn new(inner: TcpListener, server: Server) -> Self {
        Self {
            acceptor: Acceptor::new(server, inner),
        }
    }
}

impl axum::serve::Listener for MjpegListener {
    type Io = ServerIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.acceptor.accept().await {
                Ok(accepted) => return accepted,
                // Nothing to return an error to: wait, as axum's own listener does.
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.acceptor.local_addr()
    }
}

/// What [`listener`] returns: a [`MjpegListener`] that axum's
/// `into_make_service_with_connect_info::<SocketAddr>()` accepts.
pub type Listener = TapIo<MjpegListener, fn(&mut ServerIo)>;

/// Binds `addr` for `axum::serve` with the [`Server`] defaults: a
/// [`DEFAULT_SEND_BUFFER`](crate::DEFAULT_SEND_BUFFER) send buffer and a
/// [`DEFAULT_WRITE_STALL_TIMEOUT`](crate::DEFAULT_WRITE_STALL_TIMEOUT).
///
/// ```no_run
/// # async fn run(app: axum::Router, signal: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
/// use std::net::SocketAddr;
///
/// let listener = mjpeg_axum::listener("127.0.0.1:8080".parse().unwrap()).await?;
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
///     .with_graceful_shutdown(signal)
///     .await
/// # }
/// ```
///
/// # Note
/// A client closed by the stall timeout is reported to `on_disconnect` as
/// [`DisconnectReason::ClientClosed`](crate::DisconnectReason::ClientClosed):
/// `axum::serve` gives a connection's requests no way to carry its
/// [`StallFlag`](crate::StallFlag), so the layer cannot tell it stalled. The
/// [`serve`](crate::serve) helper reports [`DisconnectReason::Overflow`](crate::DisconnectReason::Overflow).
///
/// `axum::serve` runs its own hyper connections, so the [`Server`] settings
/// that live there (the header read timeout, the HTTP/2 limits) do not apply;
/// the socket ones (send buffer, stall and idle timeouts, connection cap,
/// TLS) do.
///
/// # Errors
/// The OS error if the address cannot be bound.
pub async fn listener(addr: SocketAddr) -> io::Result<Listener> {
    listener_with(Server::new(), addr).await
}

/// Like [`listener`], with `server`'s settings, such as its TLS configuration:
///
/// ```no_run
/// # #[cfg(feature = "tls")]
/// # async fn run(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
/// use mjpeg_axum::{Server, TlsConfig};
///
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let server = Server::new().tls(Some(tls));
/// let listener = mjpeg_axum::listener_with(server, "0.0.0.0:8443".parse()?).await?;
/// axum::serve(listener, app).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// The OS error if the address cannot be bound.
pub async fn listener_with(server: Server, addr: SocketAddr) -> io::Result<Listener> {
    let inner = server.bind(addr).await?;
    // The tap does nothing: it makes `ConnectInfo<SocketAddr>` work, which
    // axum implements for tapped listeners whose address is a `SocketAddr`.
    let tap: fn(&mut ServerIo) = |_| {};
    Ok(MjpegListener::new(inner, server).tap_io(tap))
}
