//! Telling HTTP/2 with prior knowledge (h2c) from HTTP/1.1 on a plain
//! connection: [`sniff`] reads up to the client preface, [`Rewind`] replays it.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What an HTTP/2 client sends first (RFC 9113, 3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// An IO whose first reads return bytes already read from it.
#[derive(Debug)]
#[repr(C)] // the socket first: see `StallIo`
pub(super) struct Rewind<T> {
    io: T,
    prefix: Vec<u8>,
    pos: usize,
}

impl<T> Rewind<T> {
    /// The connection under the bytes to replay.
    pub(super) fn get_ref(&self) -> &T {
        &self.io
    }

    /// The connection under the bytes to replay.
    pub(super) fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// `io` with nothing to replay.
    pub(super) fn new(io: T) -> Self {
        Self {
            prefix: Vec::new(),
            pos: 0,
            io,
        }
    }
}

impl<T> Rewind<T> {
    /// Makes `bytes`, read from it and not used, the next to be read.
    pub(super) fn replay(&mut self, mut bytes: Vec<u8>) {
        bytes.extend_from_slice(&self.prefix[self.pos..]);
        self.prefix = bytes;
        self.pos = 0;
    }
}

/// Reads from `io` until its first bytes are the HTTP/2 preface (`true`) or
/// cannot be (`false`), and returns it with those bytes to be read again.
///
/// # Errors
/// A read error.
pub(super) async fn sniff<T: AsyncRead + Unpin>(mut io: T) -> io::Result<(bool, Rewind<T>)> {
    let mut prefix = Vec::with_capacity(PREFACE.len());
    let h2 = loop {
        let mut chunk = [0; PREFACE.len()];
        let mut buf = ReadBuf::new(&mut chunk[..PREFACE.len() - prefix.len()]);
        poll_fn(|cx| Pin::new(&mut io).poll_read(cx, &mut buf)).await?;
        if buf.filled().is_empty() {
            break false; // closed early: let hyper see it
        }
        prefix.extend_from_slice(buf.filled());
        if !PREFACE.starts_with(&prefix) {
            break false;
        }
        if prefix.len() == PREFACE.len() {
            break true;
        }
    };
    Ok((h2, Rewind { prefix, pos: 0, io }))
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pos < this.prefix.len() {
            let n = (this.prefix.len() - this.pos).min(buf.remaining());
            buf.put_slice(&this.prefix[this.pos..this.pos + n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
                // Whatever else has arrived comes in the same read: hyper
                // grows its read buffer when a first read leaves it short of
                // a request head (8 KiB more for every connection).
                // Pending or an error: the replayed bytes are read now, and
                // the next read waits or ends (a reset reads as the end).
                if buf.remaining() > 0 {
                    let _ = Pin::new(&mut this.io).poll_read(cx, buf);
                }
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn the_first_read_after_sniffing_returns_the_whole_head() {
        let head = b"GET /stream HTTP/1.1\r\nhost: example\r\naccept: */*\r\n\r\n";
        let (mut client, server) = tokio::io::duplex(1024);
        client
            .write_all(head)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (h2, mut io) = sniff(server).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(!h2);
        let mut buf = vec![0; 8192];
        let n = io.read(&mut buf).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            &buf[..n],
            head,
            "one read gives the replayed bytes and the rest"
        );
    }

    #[tokio::test]
    async fn the_preface_is_recognised_and_replayed() {
        let (mut client, server) = tokio::io::duplex(1024);
        client
            .write_all(PREFACE)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (h2, mut io) = sniff(server).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(h2);
        let mut buf = [0; 24];
        io.read_exact(&mut buf)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&buf, PREFACE);
    }
}
