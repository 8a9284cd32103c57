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
        // When a write last moved bytes: read by the idle timer (see
        // `Idle`) and by a pending write, to tell a new stall from one
        // that goes on.
        last_write: Option<Instant>,
        timeout: Option<Duration>,
        stall: Option<Box<Stall>>,
        flag: StallFlag,
        idle: Option<Idle>,
    }
}

/// The write-stall timer, made at the first pending write and kept (boxed:
/// a connection that never waits on its client pays 8 bytes for it).
///
/// A ready write only leaves its time in `last_write`; a pending one that
/// finds a newer time there starts a new stall. The timer is moved only
/// when it fires early: dropping it on every write that moved bytes and
/// making a new one on the next pending write (what a viewer whose socket
/// fills up does for each frame) cost an allocation and two timer-wheel
/// updates each time.
#[derive(Debug)]
struct Stall {
    timer: Pin<Box<Sleep>>,
    /// The `last_write` this stall began after.
    after: Option<Instant>,
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
}

/// Passes `poll` through, timing how long it stays pending.
fn watch<R>(
    poll: Poll<io::Result<R>>,
    timeout: &Option<Duration>,
    stall: &mut Option<Box<Stall>>,
    flag: &StallFlag,
    last_write: &mut Option<Instant>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    if poll.is_ready() {
        *last_write = Some(Instant::now());
        return poll;
    }
    match stalled(timeout, stall, *last_write, flag, cx) {
        Some(err) => Poll::Ready(Err(err)),
        None => Poll::Pending,
    }
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
    last_write: Option<Instant>,
    flag: &StallFlag,
    cx: &mut Context<'_>,
) -> Option<io::Error> {
    let timeout = (*timeout)?;
    let stall = stall.get_or_insert_with(|| {
        let deadline = Instant::now() + timeout;
        Box::new(Stall {
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            after: last_write,
            deadline,
        })
    });
    if stall.after != last_write {
        // Bytes moved since this stall began: a new one begins now.
        stall.after = last_write;
        stall.deadline = Instant::now() + timeout;
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
            cx,
        )
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::pin::pin;

    use tokio::io::{AsyncReadExt, DuplexStream};
    use tokio::net::TcpStream;

    use super::*;
    use crate::server::testing::WakeFlag;

    #[tokio::test(start_paused = true)]
    async fn a_stream_gone_quiet_is_idle_one_timeout_after_its_last_write() {
        // A streaming connection reads only when its read side wakes (the
        // idle timer firing, say), not after each of its writes.
        let (io, _peer) = tokio::io::duplex(1 << 20);
        let idle = Some(Duration::from_millis(500));
        let mut io = pin!(StallIo::new(io, None, StallFlag::new()).idle_timeout(idle));
        let (woken, waker) = WakeFlag::waker();
        let read = |io: Pin<&mut StallIo<DuplexStream>>| {
            let mut buf = [0; 8];
            io.poll_read(
                &mut Context::from_waker(&waker),
                &mut ReadBuf::new(&mut buf),
            )
        };
        let start = Instant::now();
        assert!(read(io.as_mut()).is_pending());
        let mut closed = None;
        // A write every 100 ms until 2.1 s, then nothing: bounded at 5 s.
        for step in 1..=50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if step <= 21 {
                let wrote = poll_fn(|cx| io.as_mut().poll_write(cx, b"frame")).await;
                assert_eq!(wrote.ok(), Some(5));
            }
            if woken.take() {
                if let Poll::Ready(Err(_)) = read(io.as_mut()) {
                    closed = Some(start.elapsed());
                    break;
                }
            }
        }
        let closed = closed.expect("never closed as idle");
        assert!(
            closed >= Duration::from_millis(2600) && closed <= Duration::from_millis(2700),
            "closed at {closed:?}: the last write was at 2.1 s"
        );
    }

    #[test]
    fn what_a_ready_write_touches_follows_the_socket() {
        // `ServerIo` puts its tag (8 bytes with padding) before this, at
        // the start of the connection's 64-byte-aligned box; with tokio's
        // socket at 32 bytes (40 under its `test-util`, as here), the
        // socket and `last_write`, all a ready write touches, share that
        // line. The stall timer is only for pending writes.
        let socket = size_of::<TcpStream>();
        assert_eq!(std::mem::offset_of!(StallIo<TcpStream>, last_write), socket);
        assert_eq!(size_of::<Option<Instant>>(), 16);
        assert!(std::mem::offset_of!(StallIo<TcpStream>, stall) >= socket + 16);
    }

    /// Fills `io` until a write is pending; how many bytes went.
    fn fill(io: Pin<&mut StallIo<DuplexStream>>, cx: &mut Context<'_>) -> io::Result<usize> {
        let mut io = io;
        let mut sent = 0;
        loop {
            match io.as_mut().poll_write(cx, &[0; 256]) {
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(err)) => return Err(err),
                Poll::Pending => return Ok(sent),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_times_out_one_timeout_after_it_began_not_after_an_earlier_one() {
        let (io, mut peer) = tokio::io::duplex(1024);
        let flag = StallFlag::new();
        let timeout = Duration::from_secs(10);
        let mut io = pin!(StallIo::new(io, Some(timeout), flag.clone()));
        let (_, waker) = WakeFlag::waker();
        let mut cx = Context::from_waker(&waker);
        // A first stall, 6 s long; then the client reads and it ends.
        assert_eq!(fill(io.as_mut(), &mut cx).ok(), Some(1024));
        tokio::time::advance(Duration::from_secs(6)).await;
        let mut buf = [0; 1024];
        assert_eq!(peer.read(&mut buf).await.ok(), Some(1024));
        // A second one: its timer was set for the first, 4 s from now.
        assert_eq!(fill(io.as_mut(), &mut cx).ok(), Some(1024));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(
            fill(io.as_mut(), &mut cx).is_ok(),
            "5 s into the second stall, 11 s after the first began"
        );
        assert!(!flag.is_set());
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(
            fill(io.as_mut(), &mut cx).is_ok(),
            "9 s into the second stall"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        let err = fill(io.as_mut(), &mut cx).expect_err("10 s into the second stall");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(flag.is_set());
    }
}
