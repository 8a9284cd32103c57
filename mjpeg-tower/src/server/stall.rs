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
        stalled_since: Option<Pin<Box<Sleep>>>,
        // When a write last moved bytes, since reads last looked (see `Idle`).
        last_write: Option<Instant>,
        timeout: Option<Duration>,
        flag: StallFlag,
        idle: Option<Idle>,
    }
}

/// When a byte last moved. Writes leave their time in `last_write`, next
/// to what they touch, rather than here, a cache line away: reads take it
/// when they next look, which is also where the timer is polled.
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
            stalled_since: None,
            last_write: None,
            timeout,
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
    stalled_since: &mut Option<Pin<Box<Sleep>>>,
    flag: &StallFlag,
    last_write: &mut Option<Instant>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    if poll.is_ready() {
        *stalled_since = None;
        *last_write = Some(Instant::now());
        return poll;
    }
    match stalled(timeout, stalled_since, flag, cx) {
        Some(err) => Poll::Ready(Err(err)),
        None => Poll::Pending,
    }
}

/// A pending write: the error once it has been pending for the timeout.
///
/// Not inlined, so that a write that is ready does not load `timeout`,
/// which sits a cache line away from what such a write touches.
#[inline(never)]
fn stalled(
    timeout: &Option<Duration>,
    stalled_since: &mut Option<Pin<Box<Sleep>>>,
    flag: &StallFlag,
    cx: &mut Context<'_>,
) -> Option<io::Error> {
    let timeout = (*timeout)?;
    let timer = stalled_since.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
    if timer.as_mut().poll(cx).is_pending() {
        return None;
    }
    flag.set();
    Some(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("client read nothing for {timeout:?}; closing the connection"),
    ))
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
        idle.note(this.last_write.take());
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
            this.stalled_since,
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
            this.stalled_since,
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
            this.stalled_since,
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

    use tokio::io::DuplexStream;
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
        // socket, `stalled_since` and `last_write` end that line.
        let socket = size_of::<TcpStream>();
        assert_eq!(
            std::mem::offset_of!(StallIo<TcpStream>, stalled_since),
            socket
        );
        assert_eq!(
            std::mem::offset_of!(StallIo<TcpStream>, last_write),
            socket + 8
        );
        assert_eq!(size_of::<Option<Instant>>(), 16);
    }
}
