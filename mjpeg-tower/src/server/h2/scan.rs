//! [`Scan`]: the IO wrapper that reads the frame headers going by for
//! [`Windows`]: the client's `SETTINGS`, `HEADERS` and `WINDOW_UPDATE` coming
//! in, the server's `DATA` going out.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::window::Windows;

/// The client connection preface, before the first frame.
const PREFACE_LEN: usize = 24;

/// Payloads collected to be read: `WINDOW_UPDATE` is 4 bytes, `SETTINGS`
/// 6 per entry; anything longer is the `h2` crate's to reject.
const MAX_COLLECTED: usize = 16 * 1024;

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const WINDOW_UPDATE: u8 = 0x8;
const SETTINGS_ACK: u8 = 0x1;
const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;

/// Where a run of HTTP/2 frames is: in a 9-byte frame header (which may
/// come in pieces) or in a payload.
#[derive(Debug, Default)]
struct Frames {
    header: [u8; 9],
    have: usize,
    remaining: usize,
}

/// A frame header.
#[derive(Clone, Copy, Debug)]
struct Head {
    len: usize,
    kind: u8,
    flags: u8,
    stream: u32,
}

/// What the next bytes were.
enum Step<'a> {
    Head(Head),
    /// Payload bytes; `last` when they end the frame.
    Payload {
        bytes: &'a [u8],
        last: bool,
    },
}

impl Frames {
    /// Takes from `bytes` up to the next whole header or a run of payload.
    fn next<'a>(&mut self, bytes: &mut &'a [u8]) -> Option<Step<'a>> {
        loop {
            if bytes.is_empty() {
                return None;
            }
            if self.remaining > 0 {
                let (payload, rest) = bytes.split_at(self.remaining.min(bytes.len()));
                *bytes = rest;
                self.remaining -= payload.len();
                let last = self.remaining == 0;
                return Some(Step::Payload {
                    bytes: payload,
                    last,
                });
            }
            let n = (self.header.len() - self.have).min(bytes.len());
            self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            *bytes = &bytes[n..];
            if self.have == self.header.len() {
                self.have = 0;
                let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = self.header;
                let len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
                self.remaining = len;
                return Some(Step::Head(Head {
                    len,
                    kind,
                    flags,
                    stream: u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]),
                }));
            }
        }
    }
}

/// Reads the client's frames going by and hands the interesting ones to [`Windows`].
#[derive(Debug)]
struct Scanner {
    preface_left: usize,
    frames: Frames,
    kind: u8,
    stream: u32,
    collect: bool,
    payload: Vec<u8>,
}

impl Scanner {
    fn new() -> Self {
        Self {
            preface_left: PREFACE_LEN,
            frames: Frames::default(),
            kind: 0,
            stream: 0,
            collect: false,
            payload: Vec::new(),
        }
    }

    fn feed(&mut self, mut bytes: &[u8], windows: &Windows) {
        let preface = self.preface_left.min(bytes.len());
        self.preface_left -= preface;
        bytes = &bytes[preface..];
        while let Some(step) = self.frames.next(&mut bytes) {
            match step {
                Step::Head(head) => {
                    self.start_frame(head, windows);
                    if head.len == 0 {
                        self.end_frame(windows);
                    }
                }
                Step::Payload { bytes, last } => {
                    if self.collect && self.payload.len() + bytes.len() <= MAX_COLLECTED {
                        self.payload.extend_from_slice(bytes);
                    }
                    if last {
                        self.end_frame(windows);
                    }
                }
            }
        }
    }

    fn start_frame(&mut self, head: Head, windows: &Windows) {
        self.kind = head.kind;
        self.stream = head.stream;
        self.collect = match head.kind {
            HEADERS => {
                windows.opened(head.stream);
                false
            }
            SETTINGS => head.flags & SETTINGS_ACK == 0,
            WINDOW_UPDATE => head.stream != 0,
            _ => false,
        };
        self.payload.clear();
    }

    fn end_frame(&mut self, windows: &Windows) {
        if !self.collect {
            return;
        }
        match self.kind {
            WINDOW_UPDATE => {
                if let [a, b, c, d] = self.payload[..] {
                    windows.update(self.stream, u32::from_be_bytes([a & 0x7f, b, c, d]));
                }
            }
            SETTINGS => {
                for entry in self.payload.chunks_exact(6) {
                    let id = u16::from_be_bytes([entry[0], entry[1]]);
                    if id == SETTINGS_INITIAL_WINDOW_SIZE {
                        let size = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
                        windows.initial_window(size);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads the server's frame headers going out and counts `DATA` payloads
/// for [`Windows`] (no payload is looked at).
#[derive(Debug, Default)]
struct Outbound(Frames);

impl Outbound {
    fn feed(&mut self, mut bytes: &[u8], windows: &Windows) {
        while let Some(step) = self.0.next(&mut bytes) {
            if let Step::Head(head) = step
                && head.kind == DATA
                && head.stream != 0
                && head.len > 0
            {
                windows.sent(head.stream, head.len);
            }
        }
    }

    /// Feeds the first `n` bytes of `bufs`.
    fn feed_vectored(&mut self, bufs: &[io::IoSlice<'_>], mut n: usize, windows: &Windows) {
        for buf in bufs {
            if n == 0 {
                break;
            }
            let take = n.min(buf.len());
            self.feed(&buf[..take], windows);
            n -= take;
        }
    }
}

/// An IO wrapper that reads the client's frames for [`Windows`] as `h2`
/// reads them, and counts the `DATA` it writes.
#[derive(Debug)]
pub(super) struct Scan<T> {
    io: T,
    scanner: Scanner,
    outbound: Outbound,
    windows: Windows,
}

impl<T> Scan<T> {
    pub(super) fn new(io: T, windows: Windows) -> Self {
        Self {
            io,
            scanner: Scanner::new(),
            outbound: Outbound::default(),
            windows,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Scan<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            this.scanner.feed(&buf.filled()[before..], &this.windows);
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Scan<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            this.outbound.feed(&buf[..n.min(buf.len())], &this.windows);
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            this.outbound.feed_vectored(bufs, n, &this.windows);
        }
        poll
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
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len().to_be_bytes();
        let mut out = vec![len[5], len[6], len[7], kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn credit_follows_settings_and_updates_fed_in_any_pieces() {
        let windows = Windows::default();
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        bytes.extend(frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0x10, 0]));
        bytes.extend(frame(HEADERS, 0x5, 1, &[0x82]));
        bytes.extend(frame(WINDOW_UPDATE, 0, 1, &1000u32.to_be_bytes()));
        bytes.extend(frame(WINDOW_UPDATE, 0, 0, &5000u32.to_be_bytes()));
        bytes.extend(frame(SETTINGS, SETTINGS_ACK, 0, &[]));
        for piece in [1, 5, 9, 64] {
            let windows = Windows::default();
            let mut scanner = Scanner::new();
            for chunk in bytes.chunks(piece) {
                scanner.feed(chunk, &windows);
            }
            windows.accepted(1);
            let mut out = Outbound::default();
            let mut sent = frame(SETTINGS, 0, 0, &[]);
            sent.extend(frame(DATA, 0, 1, &[0; 4096 + 999]));
            sent.extend(frame(DATA, 0, 0, &[0; 7])); // not a stream's
            for chunk in sent.chunks(piece) {
                out.feed(chunk, &windows);
            }
            assert!(!windows.exhausted(1), "piece {piece}");
            out.feed(&frame(DATA, 0x1, 1, &[0]), &windows);
            assert!(windows.exhausted(1), "piece {piece}");
        }
        // An unknown stream has sent nothing.
        assert!(!windows.exhausted(3));
    }

    #[test]
    fn vectored_writes_count_only_the_bytes_written() {
        let windows = Windows::default();
        windows.accepted(1);
        let data = frame(DATA, 0, 1, &[0; 100]);
        let (head, rest) = data.split_at(5);
        let bufs = [io::IoSlice::new(head), io::IoSlice::new(rest)];
        let mut out = Outbound::default();
        out.feed_vectored(&bufs, 7, &windows); // the header, cut short
        assert_eq!(windows.sent_on(1), 0);
        out.feed(&rest[2..4], &windows);
        assert_eq!(windows.sent_on(1), 100);
    }

    #[test]
    fn streams_never_accepted_are_forgotten() {
        let windows = Windows::default();
        let mut scanner = Scanner::new();
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        for id in [1, 3, 5] {
            bytes.extend(frame(HEADERS, 0x5, id, &[0x82]));
        }
        scanner.feed(&bytes, &windows);
        windows.accepted(5);
        assert_eq!(windows.tracked(), 1);
        windows.finished(5);
        assert_eq!(windows.tracked(), 0);
    }
}
