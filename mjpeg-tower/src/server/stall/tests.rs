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
    // socket, `last_write` and `moved`, all a ready write touches, share
    // that line. The stall timer is only for pending writes.
    let socket = size_of::<TcpStream>();
    assert_eq!(std::mem::offset_of!(StallIo<TcpStream>, last_write), socket);
    assert_eq!(size_of::<Option<Instant>>(), 16);
    assert_eq!(std::mem::offset_of!(StallIo<TcpStream>, moved), socket + 16);
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
async fn a_write_at_the_instant_a_stall_began_still_ends_it() {
    // Under paused time the clock does not move between writes: a
    // stall is told from the last one by the count of writes.
    let (io, mut peer) = tokio::io::duplex(1024);
    let timeout = Duration::from_secs(10);
    let mut io = pin!(StallIo::new(io, Some(timeout), StallFlag::new()));
    let (_, waker) = WakeFlag::waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(fill(io.as_mut(), &mut cx).ok(), Some(1024));
    // The peer takes one byte, and a write at the same instant fills the
    // buffer again: the next write is pending at once, with no ready
    // write at a later instant to tell the stalls apart.
    let mut buf = [0; 1];
    assert_eq!(peer.read(&mut buf).await.ok(), Some(1));
    let wrote = io.as_mut().poll_write(&mut cx, b"x");
    assert!(matches!(wrote, Poll::Ready(Ok(1))), "at the same instant");
    // Quiet for longer than the timeout, then a new stall begins.
    tokio::time::advance(timeout + Duration::from_secs(1)).await;
    assert!(
        fill(io.as_mut(), &mut cx).is_ok(),
        "a new stall, just begun"
    );
    tokio::time::advance(timeout - Duration::from_secs(1)).await;
    assert!(fill(io.as_mut(), &mut cx).is_ok(), "9 s into it");
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(fill(io.as_mut(), &mut cx).is_err(), "10 s into it");
}

#[tokio::test(start_paused = true)]
async fn a_timeout_past_what_an_instant_holds_never_fires_and_does_not_panic() {
    let (io, _peer) = tokio::io::duplex(1024);
    let mut io = pin!(StallIo::new(io, Some(Duration::MAX), StallFlag::new()));
    let (_, waker) = WakeFlag::waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(fill(io.as_mut(), &mut cx).ok(), Some(1024));
    tokio::time::advance(Duration::from_secs(86_400)).await;
    assert!(fill(io.as_mut(), &mut cx).is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_stall_times_out_one_timeout_after_it_began_not_after_an_earlier_one() {
    let (io, mut peer) = tokio::io::duplex(1024);
    let flag = StallFlag::new();
    let timeout = Duration::from_secs(10);
    let mut io = pin!(StallIo::new(io, Some(timeout), flag.clone()));
    let (woken, waker) = WakeFlag::waker();
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
    // That write found the timer fired and moved it to 16 s, and left
    // it our waker: with no poll in between, it wakes us then.
    woken.take();
    tokio::time::advance(Duration::from_millis(4999)).await;
    assert!(!woken.take(), "nothing before the deadline");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(woken.take(), "the timer wakes the writer at the deadline");
    let err = fill(io.as_mut(), &mut cx).expect_err("10 s into the second stall");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    assert!(flag.is_set());
}
