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
    // In declared order: what a write reads and sets comes first, so that
    // a connection writing a frame touches one cache line of it.
    #[repr(C)]
    pub struct StallIo<T> {
        #[pin]
        io: T,
        // When a write last moved bytes, read by the idle timer (see
        // `Idle`), and how many writes have: a pending write tells a new
        // stall from one that goes on by the count (the clock may not
        // move between two writes, under tokio's paused time say).
        last_write: Option<Instant>,
        moved: u32,
        timeout: Option<Duration>,
        stall: Option<Box<Stall>>,
        flag: StallFlag,
        idle: Option<Idle>,
    }
}

/// The write-stall timer, made at the first pending write and kept (boxed:
/// a connection that never waits on its client pays 8 bytes for it).
///
/// A ready write only counts itself in `moved`; a pending one that finds
/// a new count there starts a new stall. The timer is moved only
/// when it fires early: dropping it on every write that moved bytes and
/// making a new one on the next pending write (what a viewer whose socket
/// fills up does for each frame) cost an allocation and two timer-wheel
/// updates each time.
#[derive(Debug)]
struct Stall {
    timer: Pin<Box<Sleep>>,
    /// The `moved` count this stall began after.
    after: u32,
    /// When it times out.
    deadline: Instant,
}

/// When a byte last moved. Writes leave their time in `last_write`, next
/// to what they touch, rather than here, a cache line away: reads look at
/// it when they next poll, which is also where the timer is polled.
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
            let deadline = later(self.last_activity, self.timeout);
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

    fn note(&mut self, moved_at: Option<Instant>) {
        if let Some(at) = moved_at {
            self.last_activity = self.last_activity.max(at);
        }
    }
}

impl<T> StallIo<T> {
    /// Wraps `io`; `None` never times out.
    pub fn new(io: T, timeout: Option<Duration>, flag: StallFlag) -> Self {
        Self {
            io,
            last_write: None,
            moved: 0,
            timeout,
            stall: None,
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

    /// Drops the stall timer, and with it the waker of the task that last
    /// waited on a write (a response's task that has ended); the next
    /// pending write makes a new one.
    pub(crate) fn forget_stall(&mut self) {
        self.stall = None;
    }
}

/// Passes `poll` through, timing how long it stays pending.
fn watch<R>(
    poll: Poll<io::Result<R>>,
    timeout: &Option<Duration>,
    stall: &mut Option<Box<Stall>>,
    flag: &StallFlag,
    last_write: &mut Option<Instant>,
    moved: &mut u32,
    cx: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    if poll.is_ready() {
        *last_write = Some(Instant::now());
        *moved = moved.wrapping_add(1);
        return poll;
    }
    match stalled(timeout, stall, *moved, flag, cx) {
        Some(err) => Poll::Ready(Err(err)),
        None => Poll::Pending,
    }
}

/// `at + timeout`, or about 30 years on when that is past what an
/// `Instant` holds (`Duration::MAX`, say), where `tokio::time::sleep`
/// would also stop (it caps every delay at about 30 years).
fn later(at: Instant, timeout: Duration) -> Instant {
    at.checked_add(timeout)
        .unwrap_or_else(|| at + Duration::from_secs(86_400 * 365 * 30))
}

/// A pending write: the error once writes have been pending, without
/// moving a byte, for the timeout.
///
/// Not inlined, so that a write that is ready does not load `timeout` and
/// `stall`, which sit a cache line away from what such a write touches.
#[inline(never)]
fn stalled(
    timeout: &Option<Duration>,
    stall: &mut Option<Box<Stall>>,
    moved: u32,
    flag: &StallFlag,
    cx: &mut Context<'_>,
) -> Option<io::Error> {
    let timeout = (*timeout)?;
    let stall = stall.get_or_insert_with(|| {
        let deadline = later(Instant::now(), timeout);
        Box::new(Stall {
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            after: moved,
            deadline,
        })
    });
    if stall.after != moved {
        // Bytes moved since this stall began: a new one begins now.
        stall.after = moved;
        stall.deadline = later(Instant::now(), timeout);
    }
    loop {
        if stall.timer.as_mut().poll(cx).is_pending() {
            return None;
        }
        // Set for an earlier stall, which ended: move it on.
        if stall.deadline > Instant::now() {
            stall.timer.as_mut().reset(stall.deadline);
            continue;
        }
        flag.set();
        return Some(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("client read nothing for {timeout:?}; closing the connection"),
        ));
    }
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
        idle.note(*this.last_write);
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
            this.timeout,
            this.stall,
            this.flag,
            this.last_write,
            this.moved,
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
            this.timeout,
            this.stall,
            this.flag,
            this.last_write,
            this.moved,
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
            this.timeout,
            this.stall,
            this.flag,
            this.last_write,
            this.moved,
            cx,
        )
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
