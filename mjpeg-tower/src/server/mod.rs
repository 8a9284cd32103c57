//! Serving with slow-client protection: a small send buffer and a write-stall timeout.
//!
//! A response body cannot end a connection whose client stopped reading:
//! hyper stops polling a body once the socket is full. [`Server`] owns the
//! socket, so it can: each accepted connection gets a small kernel send
//! buffer (so little is buffered outside the layer's own high-water mark) and
//! an IO wrapper that fails a write pending for longer than the stall
//! timeout. hyper then closes the connection, the body is dropped, and
//! `on_disconnect` reports [`DisconnectReason::Overflow`](crate::DisconnectReason::Overflow).
//!
//! It serves HTTP/1.1 and HTTP/2 (h2c, prior knowledge) on one port.
//!
//! ```no_run
//! use mjpeg_tower::server::Server;
//! # async fn run<S>(service: S) -> std::io::Result<()>
//! # where S: tower_service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<http_body_util::Full<bytes::Bytes>>, Error = std::convert::Infallible> + Clone + Send + 'static, S::Future: Send + 'static {
//! let server = Server::new().write_stall_timeout(Some(std::time::Duration::from_secs(5)));
//! let listener = server.bind("127.0.0.1:8080".parse().unwrap()).await?;
//! server.serve(listener, service).await
//! # }
//! ```

mod stall;

use std::future::{Future, pending};
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tower_service::Service;

pub use self::stall::StallIo;
use crate::lifecycle::info::{RemoteAddr, StallFlag};
use crate::lifecycle::outcome::BoxError;

/// The default kernel send buffer per connection: 64 KiB.
///
/// Linux autotunes loopback send buffers to about 4 MB. For a client that
/// stopped reading, the bytes buffered outside the layer (hyper's write buffer
/// plus both kernels' socket buffers) measured 4.4 MB with the OS default and
/// 0.7 MB with 64 KiB (100 KB frames; the `mjpeg-warp` socket tests print it).
pub const DEFAULT_SEND_BUFFER: u32 = 64 * 1024;

/// The default write-stall timeout: 10 s.
pub const DEFAULT_WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves a tower service over TCP with slow-client protection; see the [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
pub struct Server {
    send_buffer: Option<u32>,
    stall_timeout: Option<Duration>,
    shutdown_grace: Duration,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A server with a [`DEFAULT_SEND_BUFFER`] send buffer and a
    /// [`DEFAULT_WRITE_STALL_TIMEOUT`] stall timeout.
    pub fn new() -> Self {
        Self {
            send_buffer: Some(DEFAULT_SEND_BUFFER),
            stall_timeout: Some(DEFAULT_WRITE_STALL_TIMEOUT),
            shutdown_grace: Duration::from_secs(5),
        }
    }

    /// Sets the kernel send buffer of each connection (`None`: the OS default).
    pub fn send_buffer_size(mut self, bytes: Option<u32>) -> Self {
        self.send_buffer = bytes;
        self
    }

    /// Closes a connection whose writes made no progress for this long
    /// (`None`: never). This is what drops viewers that stopped reading.
    pub fn write_stall_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// How long a graceful shutdown waits for open connections (default 5 s).
    ///
    /// Streams do not end by themselves: stop the hubs first
    /// ([`FrameHub::stop`](crate::FrameHub::stop)) so viewers get the close delimiter.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Binds a listener with the send buffer already set, so every accepted
    /// socket inherits it from the start.
    ///
    /// # Errors
    /// The OS error if the address cannot be bound.
    pub async fn bind(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        if let Some(bytes) = self.send_buffer {
            socket.set_send_buffer_size(bytes)?;
        }
        socket.bind(addr)?;
        socket.listen(1024)
    }

    /// Accepts the next connection from `listener`, protected as
    /// [`protect`](Self::protect) says: for servers of your own, such as the
    /// `axum::serve` listener of `mjpeg-axum`.
    ///
    /// Running out of file descriptors or a connection aborted before it was
    /// accepted is waited out (50 ms) rather than returned.
    ///
    /// # Errors
    /// Any other accept error.
    pub async fn accept(
        &self,
        listener: &TcpListener,
    ) -> io::Result<(StallIo<TcpStream>, SocketAddr)> {
        loop {
            match listener.accept().await {
                Ok((stream, addr)) => return Ok((self.protect(stream), addr)),
                Err(err) if is_transient(&err) => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Applies this server's protection to an accepted socket: `TCP_NODELAY`,
    /// the send buffer, and a [`StallIo`] with the write-stall timeout and a
    /// fresh [`StallFlag`] ([`StallIo::flag`]).
    pub fn protect(&self, stream: TcpStream) -> StallIo<TcpStream> {
        let _ = stream.set_nodelay(true);
        if let Some(bytes) = self.send_buffer {
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(bytes as usize);
        }
        StallIo::new(stream, self.stall_timeout, StallFlag::new())
    }

    /// Serves `service` on `listener` until this future is dropped, which
    /// closes the listener and every connection it accepted.
    ///
    /// # Errors
    /// Never returns unless accepting fails for a reason other than running
    /// out of file descriptors or a connection aborted before it was accepted.
    pub async fn serve<S, B>(self, listener: TcpListener, service: S) -> io::Result<()>
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.serve_with_shutdown(listener, service, pending()).await
    }

    /// Serves `service` until `signal` resolves, then waits up to the
    /// [grace period](Self::shutdown_grace) for open connections.
    ///
    /// # Errors
    /// As [`serve`](Self::serve).
    pub async fn serve_with_shutdown<S, B, F>(
        self,
        listener: TcpListener,
        service: S,
        signal: F,
    ) -> io::Result<()>
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        F: Future<Output = ()> + Send,
    {
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        // Connections live in this set: when the serve future ends or is
        // dropped (a task aborted), every connection still open goes with it.
        let mut connections = JoinSet::new();
        let mut signal = std::pin::pin!(signal);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => Some(accepted),
                _ = connections.join_next(), if !connections.is_empty() => None,
                () = signal.as_mut() => break,
            };
            let (stream, addr) = match accepted {
                None => continue, // a finished connection was reaped
                Some(Ok(accepted)) => accepted,
                Some(Err(err)) if is_transient(&err) => {
                    // Out of descriptors or an aborted handshake: wait a little, keep serving.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Some(Err(err)) => return Err(err),
            };
            let io = self.protect(stream);
            let flag = io.flag().clone();
            let io = TokioIo::new(io);
            let service = TowerToHyperService::new(WithConnection {
                inner: service.clone(),
                flag,
                addr,
            });
            let conn = builder
                .serve_connection_with_upgrades(io, service)
                .into_owned();
            let conn = graceful.watch(conn);
            connections.spawn(async move {
                let _ = conn.await;
            });
        }
        drop(listener);
        let _ = tokio::time::timeout(self.shutdown_grace, graceful.shutdown()).await;
        // Whatever did not finish within the grace period is aborted with the set.
        Ok(())
    }
}

fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || err
        .raw_os_error()
        .is_some_and(|code| code == 23 || code == 24) // ENFILE, EMFILE
}

/// Adds the connection's [`StallFlag`] and [`RemoteAddr`] to each request.
#[derive(Clone, Debug)]
struct WithConnection<S> {
    inner: S,
    flag: StallFlag,
    addr: SocketAddr,
}

impl<S, B> Service<Request<B>> for WithConnection<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        req.extensions_mut().insert(self.flag.clone());
        req.extensions_mut().insert(RemoteAddr(self.addr));
        self.inner.call(req)
    }
}
