//! [`Acceptor`]: accepts connections, caps them, and runs TLS handshakes
//! beside the accept loop.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::Server;
use super::io::ServerIo;

/// How long accepting pauses after running out of file descriptors (or
/// another transient accept error) before trying again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What a connection over [`Server::max_connections`] receives before it is
/// closed, its request unread (plain HTTP only; over TLS it is closed at once).
pub const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Retry-After: 1\r\n\
Content-Type: text/plain\r\n\
Content-Length: 21\r\n\
Connection: close\r\n\
\r\n\
too many connections\n";

/// Accepts connections for a [`Server`]: each one protected
/// ([`Server::protect`]), counted against
/// [`max_connections`](Server::max_connections) and, with
/// TLS (`Server::tls`), handshaken in its own task so a slow or silent client
/// does not hold up the others.
///
/// [`Server::serve`] uses one; so can servers of your own, such as the
/// `axum::serve` listener of `mjpeg-axum`.
#[derive(Debug)]
pub struct Acceptor {
    server: Server,
    listener: TcpListener,
    slots: Option<Arc<Semaphore>>,
    handshakes: JoinSet<Option<(ServerIo, SocketAddr)>>,
}

impl Acceptor {
    /// Accepts from `listener` (bind it with [`Server::bind`]) with `server`'s settings.
    pub fn new(server: Server, listener: TcpListener) -> Self {
        let slots = server.max_connections.map(|n| Arc::new(Semaphore::new(n)));
        Self {
            server,
            listener,
            slots,
            handshakes: JoinSet::new(),
        }
    }

    /// The next connection ready to serve.
    ///
    /// Cancel safe. Connections over the cap are refused with [`REFUSAL`];
    /// failed or timed-out handshakes are dropped; running out of file
    /// descriptors or a connection aborted before it was accepted is waited
    /// out ([`ACCEPT_BACKOFF`]) rather than returned.
    ///
    /// # Errors
    /// Any other accept error.
    pub async fn accept(&mut self) -> io::Result<(ServerIo, SocketAddr)> {
        loop {
            tokio::select! {
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(ready)) = done {
                        return Ok(ready);
                    }
                }
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, addr)) => {
                        if let Some(ready) = self.start(stream, addr) {
                            return Ok(ready);
                        }
                    }
                    Err(err) if is_transient(&err) => tokio::time::sleep(ACCEPT_BACKOFF).await,
                    Err(err) => return Err(err),
                },
            }
        }
    }

    /// The listener's address.
    ///
    /// # Errors
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Protects `stream`; returns it if it needs no handshake.
    fn start(&mut self, stream: TcpStream, addr: SocketAddr) -> Option<(ServerIo, SocketAddr)> {
        let slot = match self.take_slot() {
            Ok(slot) => slot,
            Err(()) => {
                if !self.server.has_tls() {
                    // Best effort, without waiting: the socket buffer takes it.
                    let _ = stream.try_write(REFUSAL);
                }
                return None;
            }
        };
        let io = self.server.protect(stream);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.server.tls {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.rustls_config().clone());
            let timeout = self.server.tls_handshake_timeout;
            self.handshakes.spawn(async move {
                let handshake = acceptor.accept(io);
                let tls = match timeout {
                    Some(timeout) => tokio::time::timeout(timeout, handshake).await.ok()?,
                    None => handshake.await,
                };
                Some((ServerIo::tls(tls.ok()?, slot), addr))
            });
            return None;
        }
        Some((ServerIo::plain(io, slot), addr))
    }

    fn take_slot(&self) -> Result<Option<OwnedSemaphorePermit>, ()> {
        match &self.slots {
            None => Ok(None),
            Some(slots) => slots.clone().try_acquire_owned().map(Some).map_err(|_| ()),
        }
    }
}

pub(crate) fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || err
        .raw_os_error()
        .is_some_and(|code| code == 23 || code == 24) // ENFILE, EMFILE
}
