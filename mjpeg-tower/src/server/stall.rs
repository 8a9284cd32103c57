//! [`StallIo`]: fails writes that make no progress for too long.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::lifecycle::info::StallFlag;

pin_project! {
    /// An IO wrapper whose writes fail with [`io::ErrorKind::TimedOut`] once
    /// they have been pending, without progress, for the timeout; it sets the
    /// [`StallFlag`] first, so the layer reports the viewer as overflowed.
    #[derive(Debug)]
    pub struct StallIo<T> {
        #[pin]
        io: T,
        timeout: Option<Duration>,
        stalled_since: Option<Pin<Box<Sleep>>>,
        flag: StallFlag,
    }
}

impl<T> StallIo<T> {
    /// Wraps `io`; `None` never times out.
    pub fn new(io: T, timeout: Option<Duration>, flag: StallFlag) -> Self {
        Self {
            io,
            timeout,
            stalled_since: None,
            flag,
        }
    }

    /// The flag set when a write stalls past the timeout.
    pub fn flag(&self) -> &StallFlag {
        &self.flag
    }

    /// The wrapped IO.
    pub fn get_ref(&self) -> &T {
        &self.io
    }
}

/// Passes `poll` through, timing how long it stays pending.
fn watch<R>(
    poll: Poll<io::Result<R>>,
    timeout: Option<Duration>,
    stalled_since: &mut Option<Pin<Box<Sleep>>>,
    flag: &StallFlag,
    cx: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    if poll.is_ready() {
        *stalled_since = None;
        return poll;
    }
    let Some(timeout) = timeout else {
        return Poll::Pending;
    };
    let timer = stalled_since.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
    if timer.as_mut().poll(cx).is_ready() {
        flag.set();
        return Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("client read nothing for {timeout:?}; closing the connection"),
        )));
    }
    Poll::Pending
}

impl<T: AsyncRead> AsyncRead for StallIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for StallIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write(cx, buf);
        watch(poll, *this.timeout, this.stalled_since, this.flag, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write_vectored(cx, bufs);
        watch(poll, *this.timeout, this.stalled_since, this.flag, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let poll = this.io.poll_flush(cx);
        watch(poll, *this.timeout, this.stalled_since, this.flag, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}
