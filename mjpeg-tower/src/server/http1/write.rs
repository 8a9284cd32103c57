//! Writing a response: its head, then its body's chunks as they come,
//! straight from the body's own buffers with vectored writes.
//!
//! Nothing is copied: a published frame is shared by reference count with
//! every viewer, so each connection holds only the pieces still to be
//! written, not a write buffer. What is ready in the body is written as one
//! chunk (a frame's part head, payload and tail together), so a frame costs
//! one `writev` when the socket takes it.

mod pieces;

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::Body;
use tokio::io::AsyncWrite;

use self::pieces::{Piece, Pieces};
use super::head::Framing;
use crate::lifecycle::outcome::BoxError;

/// The body is polled again only when fewer bytes than this wait to be
/// written. The layer's high-water mark bounds what a slow viewer has
/// queued; this bounds what it has taken besides: at most this plus one
/// frame, which the overflow policy can no longer drop for newer ones.
///
/// Twice [`DEFAULT_SEND_BUFFER`](crate::server::DEFAULT_SEND_BUFFER) (it
/// does not follow `send_buffer_size`): a viewer whose socket is the
/// bottleneck then has two or three 50 KB frames ready, and each `writev`
/// fills what the socket has room for. At 64 KiB it had about one, and
/// at 1,000 unpaced viewers over plain TCP about the same CPU delivered
/// 1.1x the bytes with 128 KiB (1.096x in one set of six pairs of
/// `bench pair --unpaced` against the 64 KiB build; 160 KiB gave 1.054 and
/// 1.083x). Paced viewers have at most a frame ready, so
/// it changes nothing for them. Over TLS rustls takes at most 64 KiB of
/// plaintext at a time anyway.
const LOW_WATER: usize = 128 * 1024;

// Its doc says "twice the default send buffer".
const _: () = assert!(LOW_WATER == 2 * crate::server::DEFAULT_SEND_BUFFER as usize);

/// The most pieces handed to one `writev`.
const MAX_SLICES: usize = 64;

/// What a frame usually takes: a size line, part head, payload and tails.
const FEW_SLICES: usize = 8;

/// The end of a chunked body.
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// A response being written: what is queued, and how much the body may
/// still send.
///
/// A streaming body's task holds this for the stream's life, and every
/// frame reads it: the fields a frame uses come first, then the inline
/// pieces, so that a frame touches as few cache lines as it can.
#[derive(Debug)]
#[repr(C)]
pub(super) struct Outgoing {
    queued: usize,
    /// Under `content-length`: `left` applies.
    sized: bool,
    chunked: bool,
    body_done: bool,
    flushed: bool,
    pieces: Pieces,
    /// Bytes still owed under `content-length` (a body that does not stream).
    left: u64,
}

impl Outgoing {
    /// Starts with the response head.
    pub(super) fn new(head: Vec<u8>, framing: Framing) -> Self {
        let mut pieces = Pieces::new();
        let queued = head.len();
        pieces.push_back(Piece::Bytes(Bytes::from(head)));
        Self {
            queued,
            sized: matches!(framing, Framing::Length(_)),
            chunked: framing == Framing::Chunked,
            body_done: framing == Framing::None,
            flushed: false,
            pieces,
            left: match framing {
                Framing::Length(n) => n,
                _ => 0,
            },
        }
    }

    /// Reads the cache lines a frame's pieces go to, and changes nothing:
    /// see `Streaming`.
    pub(super) fn touch(&self) {
        self.pieces.touch();
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
        // A body that said `Pending` has our waker: polling it again before
        // it wakes (after a write, say) only finds it still pending.
        let mut body_waits = false;
        loop {
            if !self.body_done && !body_waits && self.queued < LOW_WATER {
                body_waits = self.fill(body.as_mut(), cx)?;
            }
            if self.pieces.is_empty() {
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

    /// Queues what the body has ready, as one chunk when chunked; whether
    /// the body is now waiting (it returned `Pending`).
    fn fill<B>(&mut self, mut body: Pin<&mut B>, cx: &mut Context<'_>) -> io::Result<bool>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        // Where the chunk's size line goes, once its first data comes.
        let mut size_at = None;
        let mut chunk = 0;
        let mut waits = false;
        while self.queued < LOW_WATER && self.pieces.len() < MAX_SLICES - 3 {
            match body.as_mut().poll_frame(cx) {
                Poll::Pending => {
                    waits = true;
                    break;
                }
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
                    if self.sized {
                        let len = data.len() as u64;
                        if len > self.left {
                            return Err(io::Error::other("body longer than its content-length"));
                        }
                        self.left -= len;
                    }
                    if self.chunked && size_at.is_none() {
                        size_at = Some(self.pieces.len());
                        self.pieces.push_back(Piece::from_static(b"")); // set below
                    }
                    chunk += data.len();
                    self.queued += data.len();
                    self.pieces.push_back(Piece::Bytes(data));
                }
            }
        }
        if self.chunked {
            if let Some(at) = size_at {
                let Some(slot) = self.pieces.get_mut(at) else {
                    return Err(io::Error::other("the chunk's size line went missing"));
                };
                *slot = Piece::size_line(chunk);
                self.queued += slot.bytes().len() + 2;
                self.pieces.push_back(Piece::from_static(b"\r\n"));
            }
            if self.body_done {
                self.queued += LAST_CHUNK.len();
                self.pieces.push_back(Piece::from_static(LAST_CHUNK));
            }
        }
        if self.body_done && self.left > 0 {
            return Err(io::Error::other("body shorter than its content-length"));
        }
        Ok(waits)
    }

    /// One vectored write of what is queued.
    fn poll_write<W: AsyncWrite>(
        &mut self,
        io: Pin<&mut W>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        // A frame is a handful of pieces: no need to clear room for 64 on
        // every write.
        if self.pieces.len() <= FEW_SLICES {
            self.poll_write_up_to::<FEW_SLICES, W>(io, cx)
        } else {
            self.poll_write_up_to::<MAX_SLICES, W>(io, cx)
        }
    }

    /// One vectored write of at most `N` of the queued pieces.
    fn poll_write_up_to<const N: usize, W: AsyncWrite>(
        &mut self,
        io: Pin<&mut W>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let mut slices = [IoSlice::new(&[]); N];
        let mut count = 0;
        for (slot, piece) in slices.iter_mut().zip(self.pieces.iter()) {
            *slot = IoSlice::new(piece.bytes());
            count += 1;
        }
        let n = ready!(io.poll_write_vectored(cx, &slices[..count]))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        self.flushed = false;
        self.queued -= n;
        self.pieces.consume(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests;
