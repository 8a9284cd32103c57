//! Writing a response: its head, then its body's chunks as they come,
//! straight from the body's own buffers with vectored writes.
//!
//! Nothing is copied: a published frame is shared by reference count with
//! every viewer, so each connection holds only the pieces still to be
//! written, not a write buffer. What is ready in the body is written as one
//! chunk (a frame's part head, payload and tail together), so a frame costs
//! one `writev` when the socket takes it.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http_body::Body;
use tokio::io::AsyncWrite;

use super::head::Framing;
use crate::lifecycle::outcome::BoxError;

/// The body is polled again only when fewer bytes than this wait to be
/// written: the layer's high-water mark, not this queue, bounds what a
/// slow viewer holds.
const LOW_WATER: usize = 64 * 1024;

/// The most pieces handed to one `writev`.
const MAX_SLICES: usize = 64;

/// The end of a chunked body.
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// One piece of the bytes still to write.
#[derive(Debug)]
enum Piece {
    Shared(Bytes),
    Static(&'static [u8]),
    /// A chunk-size line: hexadecimal digits and CRLF, from `start`.
    Size {
        line: [u8; 18],
        start: u8,
    },
}

impl Piece {
    fn size_line(len: usize) -> Self {
        // Right-aligned, so `start` is where the digits begin.
        let mut line = [0; 18];
        line[16..].copy_from_slice(b"\r\n");
        let (mut start, mut left) = (16, len);
        loop {
            start -= 1;
            line[start] = b"0123456789ABCDEF"[left & 0xf];
            left >>= 4;
            if left == 0 {
                break;
            }
        }
        Self::Size {
            line,
            start: u8::try_from(start).unwrap_or(0),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Self::Shared(bytes) => bytes,
            Self::Static(bytes) => bytes,
            Self::Size { line, start } => &line[usize::from(*start)..],
        }
    }

    /// Drops the first `n` bytes (fewer than its length).
    fn advance(&mut self, n: usize) {
        match self {
            Self::Shared(bytes) => bytes.advance(n),
            Self::Static(bytes) => *bytes = &bytes[n..],
            Self::Size { start, .. } => {
                *start = start.saturating_add(u8::try_from(n).unwrap_or(u8::MAX));
            }
        }
    }
}

/// A response being written: what is queued, and how much the body may
/// still send.
#[derive(Debug)]
pub(super) struct Outgoing {
    pieces: VecDeque<Piece>,
    queued: usize,
    framing: Framing,
    /// Bytes still owed under `content-length`.
    left: u64,
    body_done: bool,
    flushed: bool,
}

impl Outgoing {
    /// Starts with the response head.
    pub(super) fn new(head: Vec<u8>, framing: Framing) -> Self {
        let mut pieces = VecDeque::with_capacity(8);
        let queued = head.len();
        pieces.push_back(Piece::Shared(Bytes::from(head)));
        Self {
            pieces,
            queued,
            framing,
            left: match framing {
                Framing::Length(n) => n,
                _ => 0,
            },
            body_done: framing == Framing::None,
            flushed: false,
        }
    }

    /// Writes the head and the whole body; ready once all is written and
    /// flushed. An error from the body or the IO ends it: the connection
    /// must then close, as its framing can no longer be trusted.
    pub(super) fn poll_send<B, W>(
        &mut self,
        mut body: Pin<&mut B>,
        mut io: Pin<&mut W>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
        W: AsyncWrite,
    {
        loop {
            if !self.body_done && self.queued < LOW_WATER {
                self.fill(body.as_mut(), cx)?;
            }
            if self.pieces.is_empty() {
                if self.pieces.capacity() > 16 {
                    self.pieces.shrink_to(8); // after a burst, held per viewer
                }
                if !self.flushed {
                    ready!(io.as_mut().poll_flush(cx))?;
                    self.flushed = true;
                }
                // Done, or waiting on the body (its waker is set).
                return if self.body_done {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                };
            }
            ready!(self.poll_write(io.as_mut(), cx))?;
        }
    }

    /// Queues what the body has ready, as one chunk when chunked.
    fn fill<B>(&mut self, mut body: Pin<&mut B>, cx: &mut Context<'_>) -> io::Result<()>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let chunk_at = self.pieces.len();
        let mut chunk = 0;
        while self.queued < LOW_WATER && self.pieces.len() < MAX_SLICES - 3 {
            match body.as_mut().poll_frame(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => {
                    self.body_done = true;
                    break;
                }
                Poll::Ready(Some(Err(err))) => return Err(io::Error::other(err.into())),
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers are not sent over HTTP/1.1 (as hyper does
                    // unless the client asked for them).
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    if let Framing::Length(_) = self.framing {
                        let len = data.len() as u64;
                        if len > self.left {
                            return Err(io::Error::other("body longer than its content-length"));
                        }
                        self.left -= len;
                    }
                    chunk += data.len();
                    self.queued += data.len();
                    self.pieces.push_back(Piece::Shared(data));
                }
            }
        }
        if self.framing == Framing::Chunked {
            if chunk > 0 {
                let line = Piece::size_line(chunk);
                self.queued += line.bytes().len() + 2;
                self.pieces.insert(chunk_at, line);
                self.pieces.push_back(Piece::Static(b"\r\n"));
            }
            if self.body_done {
                self.queued += LAST_CHUNK.len();
                self.pieces.push_back(Piece::Static(LAST_CHUNK));
            }
        }
        if self.body_done && self.left > 0 {
            return Err(io::Error::other("body shorter than its content-length"));
        }
        Ok(())
    }

    /// One vectored write of what is queued.
    fn poll_write<W: AsyncWrite>(
        &mut self,
        io: Pin<&mut W>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = 0;
        for (slot, piece) in slices.iter_mut().zip(&self.pieces) {
            *slot = IoSlice::new(piece.bytes());
            count += 1;
        }
        let mut n = ready!(io.poll_write_vectored(cx, &slices[..count]))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        self.flushed = false;
        self.queued -= n;
        while let Some(first) = self.pieces.front_mut() {
            let len = first.bytes().len();
            if n < len {
                first.advance(n);
                break;
            }
            n -= len;
            self.pieces.pop_front();
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::future::poll_fn;

    use http_body::Frame;

    use super::*;

    #[test]
    fn size_lines_are_hex_with_crlf() {
        for (len, line) in [
            (1, "1\r\n"),
            (15, "F\r\n"),
            (16, "10\r\n"),
            (46_000, "B3B0\r\n"),
            (usize::MAX, "FFFFFFFFFFFFFFFF\r\n"),
        ] {
            assert_eq!(Piece::size_line(len).bytes(), line.as_bytes());
        }
        let mut piece = Piece::size_line(0xabc);
        piece.advance(2);
        assert_eq!(piece.bytes(), b"C\r\n");
    }

    /// A body that yields its chunks, all ready.
    struct Chunks(VecDeque<&'static [u8]>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(
                self.get_mut()
                    .0
                    .pop_front()
                    .map(|c| Ok(Frame::data(Bytes::from_static(c)))),
            )
        }
    }

    /// A writer that takes at most `step` bytes per call.
    struct Trickle {
        out: Vec<u8>,
        step: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            let n = buf.len().min(this.step);
            this.out.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    async fn send(framing: Framing, chunks: &[&'static [u8]], step: usize) -> io::Result<Vec<u8>> {
        let mut body = Chunks(chunks.iter().copied().collect());
        let mut io = Trickle {
            out: Vec::new(),
            step,
        };
        let mut send = Outgoing::new(b"HEAD\r\n".to_vec(), framing);
        poll_fn(|cx| send.poll_send(Pin::new(&mut body), Pin::new(&mut io), cx)).await?;
        Ok(io.out)
    }

    #[tokio::test]
    async fn ready_chunks_go_out_as_one_chunk_through_partial_writes() {
        for step in [1, 3, 7, 1000] {
            let out = send(Framing::Chunked, &[b"--b\r\n", b"", b"jpeg", b"\r\n"], step)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                out, b"HEAD\r\nB\r\n--b\r\njpeg\r\n\r\n0\r\n\r\n",
                "step {step}"
            );
        }
    }

    #[tokio::test]
    async fn a_sized_body_is_sent_as_is_and_held_to_its_length() {
        let out = send(Framing::Length(6), &[b"abc", b"def"], 4)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, b"HEAD\r\nabcdef");
        assert!(
            send(Framing::Length(5), &[b"abc", b"def"], 4)
                .await
                .is_err()
        );
        assert!(
            send(Framing::Length(7), &[b"abc", b"def"], 4)
                .await
                .is_err()
        );
        let out = send(Framing::None, &[b"abc"], 4)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, b"HEAD\r\n", "no body for 204 or 304");
    }
}
