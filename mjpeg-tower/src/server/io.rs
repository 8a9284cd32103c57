//! [`ServerIo`]: an accepted connection, over TLS or not.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

use super::stall::StallIo;
use crate::lifecycle::info::StallFlag;

/// A connection accepted by [`Acceptor`](super::Acceptor): a protected
/// socket ([`StallIo`]), wrapped in TLS when the server has a
/// `TlsConfig`. It holds the connection's slot under
/// [`Server::max_connections`](super::Server::max_connections) until dropped.
#[derive(Debug)]
#[repr(C)] // the socket first: see `StallIo`
pub struct ServerIo {
    inner: Inner,
    _slot: Option<OwnedSemaphorePermit>,
}

// A tag of its own, first: left to the compiler, it may sit in a niche
// of `StallIo`'s fields that a write never reads.
#[derive(Debug)]
#[repr(u8)]
enum Inner {
    Plain(StallIo<TcpStream>),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::server::TlsStream<StallIo<TcpStream>>>),
}

impl ServerIo {
    pub(crate) fn plain(io: StallIo<TcpStream>, slot: Option<OwnedSemaphorePermit>) -> Self {
        Self {
            inner: Inner::Plain(io),
            _slot: slot,
        }
    }

    #[cfg(feature = "tls")]
    pub(crate) fn tls(
        io: tokio_rustls::server::TlsStream<StallIo<TcpStream>>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            inner: Inner::Tls(Box::new(io)),
            _slot: slot,
        }
    }

    /// The socket under TLS, if any.
    pub fn stall_io(&self) -> &StallIo<TcpStream> {
        match &self.inner {
            Inner::Plain(io) => io,
            #[cfg(feature = "tls")]
            Inner::Tls(tls) => tls.get_ref().0,
        }
    }

    /// Drops the socket's stall timer and the task waker it holds (see
    /// [`StallIo::forget_stall`]).
    pub(crate) fn forget_stall(&mut self) {
        match &mut self.inner {
            Inner::Plain(io) => io.forget_stall(),
            #[cfg(feature = "tls")]
            Inner::Tls(tls) => tls.get_mut().0.forget_stall(),
        }
    }

    /// Reads the socket's write readiness and changes nothing, so that the
    /// cache lines a write needs start loading early (see `Streaming`).
    ///
    /// `try_io` reads tokio's readiness word and runs `f` only if it says
    /// ready; `f` succeeds, so nothing is cleared and the socket is not
    /// touched. Over TLS this does nothing.
    pub(crate) fn touch(&self) {
        match &self.inner {
            Inner::Plain(io) => {
                let _ = io
                    .get_ref()
                    .try_io(tokio::io::Interest::WRITABLE, || Ok(()));
            }
            #[cfg(feature = "tls")]
            Inner::Tls(_) => {}
        }
    }

    /// The flag set when this connection's writes stall ([`StallIo::flag`]).
    pub fn flag(&self) -> &StallFlag {
        self.stall_io().flag()
    }

    /// The protocol agreed by ALPN (`h2` or `http/1.1`), if any: `None`
    /// without TLS or when the client offered none.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        match &self.inner {
            Inner::Plain(_) => None,
            #[cfg(feature = "tls")]
            Inner::Tls(tls) => tls.get_ref().1.alpn_protocol(),
        }
    }
}

macro_rules! each {
    ($self:ident, $io:ident => $e:expr) => {
        match &mut $self.get_mut().inner {
            Inner::Plain($io) => {
                let $io = Pin::new($io);
                $e
            }
            #[cfg(feature = "tls")]
            Inner::Tls($io) => {
                let $io = Pin::new(&mut **$io);
                $e
            }
        }
    };
}

impl AsyncRead for ServerIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, io => io.poll_read(cx, buf))
    }
}

impl AsyncWrite for ServerIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, io => io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, io => io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match &self.inner {
            Inner::Plain(io) => io.is_write_vectored(),
            #[cfg(feature = "tls")]
            Inner::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, io => io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, io => io.poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::tcp_pair;

    #[tokio::test]
    async fn touch_leaves_the_socket_ready_to_write() {
        let (_client, server) = tcp_pair().await;
        server.writable().await.unwrap_or_else(|e| panic!("{e}"));
        let io = ServerIo::plain(StallIo::new(server, None, StallFlag::new()), None);
        io.touch();
        // Had it cleared tokio's readiness, this would not even try.
        let sent = io.stall_io().get_ref().try_write(b"x");
        assert_eq!(sent.ok(), Some(1));
    }
}
