//! Serving with slow-client protection: a small send buffer and a write-stall timeout.
//!
//! A response body cannot end a connection whose client stopped reading:
//! a server stops polling a body once the socket is full. [`Server`] owns the
//! socket, so it can: each accepted connection gets a small kernel send
//! buffer (so little is buffered outside the layer's own high-water mark) and
//! an IO wrapper that fails a write pending for longer than the stall
//! timeout. The connection then closes, the body is dropped, and
//! `on_disconnect` reports [`DisconnectReason::Overflow`](crate::DisconnectReason::Overflow).
//!
//! It serves HTTP/1.1 and HTTP/2 (h2c, prior knowledge) on one port, or,
//! with the `tls` feature and `Server::tls`, HTTPS with ALPN `h2` and
//! `http/1.1` (see `TlsConfig`).
//!
//! # HTTP/1.1: viewers without hyper's buffers
//! A viewer sends a `GET` without a body and then only reads. `Server`
//! serves such requests itself: it parses the head with `httparse` (as
//! hyper does), calls your service, and writes the response from the
//! body's own chunks with vectored writes (`transfer-encoding: chunked`
//! when the length is unknown; a frame's part head, payload and tail go
//! out as one chunk). A streaming connection then holds no read or write
//! buffer of its own: about 7 KiB per viewer in all, where hyper's 8 KiB
//! read and 8 KiB write buffers made it 19 KiB (`cargo xtask bench`).
//! Keep-alive and pipelined requests work as usual. The first request it
//! does not serve itself (one with a body, `Expect`, an upgrade such as a
//! WebSocket, `HEAD`, HTTP/1.0, or a head `httparse` rejects) hands the
//! connection, with what was read of it, to hyper for the rest of its life.
//!
//! # Limits against misbehaving clients
//! Each is an `Option`, `None` turning it off; the defaults:
//!
//! | setting | default | what happens |
//! | --- | --- | --- |
//! | [`header_read_timeout`](Server::header_read_timeout) | 10 s | a connection that has not sent a whole first request head within it is closed (HTTP/1: also the next keep-alive request) |
//! | [`idle_timeout`](Server::idle_timeout) | 60 s | a connection on which no byte moved either way for it is closed |
//! | [`max_connections`](Server::max_connections) | 4096 | a connection over it gets [`REFUSAL`] (`503`, `Retry-After: 1`) and is closed, its request unread |
//! | `tls_handshake_timeout` | 10 s | a TLS handshake not done within it is dropped; handshakes run beside the accept loop |
//! | [`http2_max_concurrent_streams`](Server::http2_max_concurrent_streams) | 128 | streams per HTTP/2 connection |
//! | [`http2_max_pending_accept_reset_streams`](Server::http2_max_pending_accept_reset_streams) | 20 | streams reset by the client before being served; past it the connection gets `GOAWAY` (rapid reset) |
//! | [`http2_max_local_error_reset_streams`](Server::http2_max_local_error_reset_streams) | 1024 | streams the server had to reset for client errors; past it, `GOAWAY` |
//! | [`http2_initial_windows`](Server::http2_initial_windows) | 1 MiB per stream, 4 MiB per connection | how much a client may send before the server reads it |
//!
//! Running out of file descriptors does not end serving: accepting pauses
//! for [`ACCEPT_BACKOFF`] and tries again, and viewers are accepted as soon
//! as descriptors are free.
//!
//! # HTTP/2: a stall deadline per stream
//! HTTP/1.1 is served as above; HTTP/2 (ALPN `h2`, or h2c with prior knowledge,
//! told apart by the client preface) is served with the `h2` crate, because
//! hyper polls an HTTP/2 response body only once the stream has send
//! capacity: a body whose client stopped reading is never polled again and
//! cannot end itself, while the socket keeps moving for its siblings. Our
//! loop waits for capacity itself: a stream the client gives no window for
//! the write-stall timeout is reset (`RST_STREAM`, `CANCEL`) and reported as
//! [`DisconnectReason::Overflow`](crate::DisconnectReason::Overflow). A
//! stream held back only because the *connection* window is spent (held by
//! an unread sibling) is not: the server reads the client's `SETTINGS` and
//! `WINDOW_UPDATE` frames to tell the two apart. Resetting the stalled
//! stream gives its share of the connection window back, so siblings of a
//! client with small (64 KiB) windows recover once it is reset.
//!
//! What a viewer receives over HTTP/2 is paced by the client's own windows,
//! which the server cannot set; `h2` buffers up to 400 KiB per stream (as
//! hyper did).
//!
//! ```no_run
//! use mjpeg_tower::server::Server;
//! # async fn run<S>(service: S) -> std::io::Result<()>
//! # where S: tower_service::Service<http::Request<mjpeg_tower::server::RequestBody>, Response = http::Response<http_body_util::Full<bytes::Bytes>>, Error = std::convert::Infallible> + Clone + Send + 'static, S::Future: Send + 'static {
//! let server = Server::new().write_stall_timeout(Some(std::time::Duration::from_secs(5)));
//! let listener = server.bind("127.0.0.1:8080".parse().unwrap()).await?;
//! server.serve(listener, service).await
//! # }
//! ```

mod accept;
mod body;
mod fields;
mod h2;
mod http1;
mod io;
mod rewind;
mod serve;
mod stall;
#[cfg(test)]
mod testing;
#[cfg(feature = "tls")]
mod tls;

use std::io as stdio;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

pub use self::accept::{ACCEPT_BACKOFF, Acceptor, REFUSAL};
pub use self::body::RequestBody;
pub use self::io::ServerIo;
pub use self::stall::StallIo;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use self::tls::{ALPN_PROTOCOLS, TlsConfig, TlsError};
use crate::lifecycle::info::StallFlag;

/// The default kernel send buffer per connection: 64 KiB.
///
/// Linux autotunes loopback send buffers to about 4 MB. For a client that
/// stopped reading, the bytes buffered outside the layer (the frames the
/// connection took to write, up to 128 KiB and a frame, plus both kernels'
/// socket buffers) measured 4.1 MB with the OS default and 0.4 MB with
/// 64 KiB (100 KB frames; the `mjpeg-warp` socket tests print it).
pub const DEFAULT_SEND_BUFFER: u32 = 64 * 1024;

/// The default write-stall timeout: 10 s.
pub const DEFAULT_WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The default [header read timeout](Server::header_read_timeout): 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default [idle timeout](Server::idle_timeout): 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The default [connection cap](Server::max_connections): 4096.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// Serves a tower service over TCP with slow-client protection; see the [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
pub struct Server {
    send_buffer: Option<u32>,
    stall_timeout: Option<Duration>,
    shutdown_grace: Duration,
    header_read_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_connections: Option<usize>,
    h2: Http2Limits,
    #[cfg(feature = "tls")]
    tls: Option<TlsConfig>,
    #[cfg(feature = "tls")]
    tls_handshake_timeout: Option<Duration>,
}

#[derive(Clone, Copy, Debug)]
struct Http2Limits {
    max_concurrent_streams: Option<u32>,
    max_pending_accept_reset_streams: Option<usize>,
    max_local_error_reset_streams: Option<usize>,
    stream_window: Option<u32>,
    connection_window: Option<u32>,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// A server with the defaults of the [module docs](self): a
    /// [`DEFAULT_SEND_BUFFER`] send buffer, a [`DEFAULT_WRITE_STALL_TIMEOUT`]
    /// stall timeout and the limits of the table.
    pub fn new() -> Self {
        Self {
            send_buffer: Some(DEFAULT_SEND_BUFFER),
            stall_timeout: Some(DEFAULT_WRITE_STALL_TIMEOUT),
            shutdown_grace: Duration::from_secs(5),
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_connections: Some(DEFAULT_MAX_CONNECTIONS),
            h2: Http2Limits {
                max_concurrent_streams: Some(128),
                max_pending_accept_reset_streams: Some(20),
                max_local_error_reset_streams: Some(1024),
                stream_window: Some(1024 * 1024),
                connection_window: Some(4 * 1024 * 1024),
            },
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            tls_handshake_timeout: Some(Duration::from_secs(10)),
        }
    }

    /// Sets the kernel send buffer of each connection (`None`: the OS default).
    pub fn send_buffer_size(mut self, bytes: Option<u32>) -> Self {
        self.send_buffer = bytes;
        self
    }

    /// Closes a connection whose writes made no progress for this long
    /// (`None`: never), and resets an HTTP/2 stream whose client gave it no
    /// flow-control window for this long. This is what drops viewers that
    /// stopped reading.
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

    /// Closes a connection that has not sent a whole first request head
    /// within `timeout` of being accepted (after the TLS handshake), and an
    /// HTTP/1 connection that has not sent the next keep-alive request head
    /// within `timeout` of starting to wait for it (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]; `None`: never).
    ///
    /// # Note
    /// It lives in the serve loop and its HTTP/1 connections, so it
    /// applies to [`serve`](Self::serve), not to servers of your own fed by
    /// an [`Acceptor`].
    pub fn header_read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Closes a connection on which no byte was read or written for
    /// `timeout` (default [`DEFAULT_IDLE_TIMEOUT`]; `None`: never): idle
    /// keep-alive connections, HTTP/2 connections without streams. A live
    /// stream keeps its connection busy.
    ///
    /// Keep it above the [write-stall timeout](Self::write_stall_timeout), so
    /// a viewer that stops reading is reported as stalled.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Caps the connections open at once, counted per [`Acceptor`] (one per
    /// [`serve`](Self::serve) call); default [`DEFAULT_MAX_CONNECTIONS`], `None`: no cap.
    ///
    /// A connection over the cap is sent [`REFUSAL`] (`503 Service
    /// Unavailable`, `Retry-After: 1`) without its request being read, and
    /// closed; as the request is unread, some clients see a reset instead.
    /// With TLS it is closed without a handshake.
    pub fn max_connections(mut self, max: Option<usize>) -> Self {
        self.max_connections = max;
        self
    }

    /// Caps the streams open at once on one HTTP/2 connection (default 128;
    /// `None`: 200, hyper's default).
    pub fn http2_max_concurrent_streams(mut self, max: Option<u32>) -> Self {
        self.h2.max_concurrent_streams = max;
        self
    }

    /// Caps the streams a client may reset before the server picks them up;
    /// past it the connection gets `GOAWAY` (the "rapid reset" attack, CVE-2023-44487).
    /// Default 20; `None` leaves the `h2` crate's default, also 20 (it cannot be turned off).
    pub fn http2_max_pending_accept_reset_streams(mut self, max: Option<usize>) -> Self {
        self.h2.max_pending_accept_reset_streams = max;
        self
    }

    /// Caps the streams the server resets for a client's protocol errors on
    /// one connection; past it, `GOAWAY`. Default 1024; `None`: no cap.
    pub fn http2_max_local_error_reset_streams(mut self, max: Option<usize>) -> Self {
        self.h2.max_local_error_reset_streams = max;
        self
    }

    /// The HTTP/2 receive windows: how much a client may send on one stream
    /// and on one connection before the server reads it (defaults 1 MiB and
    /// 4 MiB: a few 100 KB frames, for clients that upload MJPEG; `None`:
    /// 1 MiB, hyper's defaults). Streams *to* viewers are paced by the viewer's windows.
    pub fn http2_initial_windows(mut self, stream: Option<u32>, connection: Option<u32>) -> Self {
        self.h2.stream_window = stream;
        self.h2.connection_window = connection;
        self
    }

    /// Serves HTTPS with `tls` (`None`: plain HTTP, the default).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: Option<TlsConfig>) -> Self {
        self.tls = tls;
        self
    }

    /// Drops a connection whose TLS handshake is not done within `timeout`
    /// (default 10 s; `None`: never). Handshakes run beside the accept loop,
    /// so a slow one delays nobody else.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.tls_handshake_timeout = timeout;
        self
    }

    fn has_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    /// Binds a listener with the send buffer already set, so every accepted
    /// socket inherits it from the start.
    ///
    /// # Errors
    /// The OS error if the address cannot be bound.
    pub async fn bind(&self, addr: SocketAddr) -> stdio::Result<TcpListener> {
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

    /// Applies this server's protection to an accepted socket: `TCP_NODELAY`,
    /// the send buffer, and a [`StallIo`] with the write-stall timeout, the
    /// idle timeout and a fresh [`StallFlag`] ([`StallIo::flag`]).
    pub fn protect(&self, stream: TcpStream) -> StallIo<TcpStream> {
        let _ = stream.set_nodelay(true);
        if let Some(bytes) = self.send_buffer {
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(bytes as usize);
        }
        StallIo::new(stream, self.stall_timeout, StallFlag::new()).idle_timeout(self.idle_timeout)
    }
}
