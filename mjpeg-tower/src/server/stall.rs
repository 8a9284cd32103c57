//! [`StallIo`]: fails writes that make no progress for too long.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::lifecycle::info::StallFlag;

pin_project! {
    /// An IO wrapper whose writes fail with [`io::ErrorKind::TimedOut`] once
    /// they have been pending, without progress, for the timeout; it sets the
    /// [`StallFlag`] first, so the layer reports the viewer as overflowed.
    ///
    /// With an [idle timeout](Self::idle_timeout), a read also fails once no
    /// byte has moved either way for that long.
    #[derive(Debug)]
    pub struct StallIo<T> {
        #[pin]
        io: T,
        timeout: Option<Duration>,
        stalled_since: Option<Pin<Box<Sleep>>>,
        flag: StallFlag,
        idle: Option<Idle>,
    }
}

#[derive(Debug)]
struct Idle {
    timeout: Duration,
    last_activity: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Idle {
    /// Pending until nothing has moved for the timeout, then the error.
    ///
    /// The timer is moved on only when it fires: resetting it on every
    /// poll after some activity (each frame written to a viewer) would
    /// cost a timer-wheel update per frame.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let deadline = self.last_activity + self.timeout;
            if deadline > Instant::now() {
                self.timer.as_mut().reset(deadline);
                continue;
            }
            return Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connection idle for {:?}; closing it", self.timeout),
            ));
        }
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
            idle: None,
        }
    }

    /// Fails reads once no byte has been read or written for `timeout`
    /// (`None`: never), which closes idle keep-alive connections.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle = timeout.map(|timeout| Idle {
            timeout,
            last_activity: Instant::now(),
            timer: Box::pin(tokio::time::sleep(timeout)),
        });
        self
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
    idle: &mut Option<Idle>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    if poll.is_ready() {
        *stalled_since = None;
        if let Some(idle) = idle {
            idle.last_activity = Instant::now();
        }
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
        let this = self.project();
        let poll = this.io.poll_read(cx, buf);
        let Some(idle) = this.idle else { return poll };
        if poll.is_ready() {
            idle.last_activity = Instant::now();
            return poll;
        }
        idle.poll_expired(cx).map(Err)
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
        watch(
            poll,
            *this.timeout,
            this.stalled_since,
            this.flag,
            this.idle,
            cx,
        )
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write_vectored(cx, bufs);
        watch(
            poll,
            *this.timeout,
            this.stalled_since,
            this.flag,
            this.idle,
            cx,
        )
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let poll = this.io.poll_flush(cx);
        watch(
            poll,
            *this.timeout,
            this.stalled_since,
            this.flag,
            this.idle,
            cx,
        )
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}
