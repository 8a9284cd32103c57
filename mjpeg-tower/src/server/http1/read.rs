//! The read side of a connection: request heads, and while a response is
//! in flight, watching for the client leaving.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use tokio::io::{AsyncRead, ReadBuf};

/// The most bytes read ahead while a response is in flight: they stay
/// held until it ends, on every streaming connection that sends them.
pub(super) const READ_AHEAD: usize = 2048;

/// The most bytes one read takes.
const CHUNK: usize = 2048;

/// Bytes read and not yet parsed, and a waker of its own for the socket's
/// read side.
///
/// While a response streams, the task wakes for every frame; polling the
/// socket's read side on each of those wakes costs a lock in tokio's IO
/// driver per frame per viewer. So reads register [`ReadWake`], which notes
/// that the read side woke before waking the task, and the socket is read
/// again only after it did.
#[derive(Debug)]
pub(super) struct Reader {
    /// Empty (and unallocated) while a viewer streams, unless the client
    /// sends ahead.
    pub(super) buf: Vec<u8>,
    watch: ReadWatch,
    waker: Waker,
}

/// Tells a task whether the read side woke since it last asked: what a
/// streaming task checks on every frame, kept apart from the rest of the
/// [`Reader`] so that it can sit with that task's other hot fields.
#[derive(Debug)]
pub(super) struct ReadWatch {
    wake: Arc<ReadWake>,
    /// The task waker last handed to `wake`.
    task: Option<Waker>,
}

#[derive(Debug)]
struct ReadWake {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl ReadWake {
    /// The task the read side wakes from now on, if any.
    fn set_task(&self, task: Option<Waker>) {
        *self.task.lock().unwrap_or_else(PoisonError::into_inner) = task;
    }
}

impl Wake for ReadWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let task = self.task.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(task) = task.as_ref() {
            task.wake_by_ref();
        }
    }
}

impl ReadWatch {
    /// Whether the read side has woken since the last call; the read side
    /// wakes `cx`'s task from now on. A new task is told `true`, so that
    /// it reads once itself.
    pub(super) fn woke(&mut self, cx: &Context<'_>) -> bool {
        if !self.task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
            let task = cx.waker().clone();
            self.wake.set_task(Some(task.clone()));
            self.task = Some(task);
            // It reads once itself, which covers any wake noted so far.
            self.wake.woken.store(false, Ordering::Release);
            return true;
        }
        // A plain load first: the flag is nearly always clear.
        self.wake.woken.load(Ordering::Acquire) && self.wake.woken.swap(false, Ordering::AcqRel)
    }
}

impl Reader {
    pub(super) fn new() -> Self {
        let wake = Arc::new(ReadWake {
            woken: AtomicBool::new(true),
            task: Mutex::new(None),
        });
        Self {
            buf: Vec::new(),
            waker: Waker::from(wake.clone()),
            watch: ReadWatch { wake, task: None },
        }
    }

    /// A watch for another task to poll while this connection's response
    /// streams ([`poll_read_ahead`](Self::poll_read_ahead) once it says
    /// the read side woke).
    pub(super) fn watch(&self) -> ReadWatch {
        ReadWatch {
            wake: self.watch.wake.clone(),
            task: None,
        }
    }

    /// Reads what has arrived, at most `max` bytes: `Ok(true)` for some
    /// bytes, `Ok(false)` at the end of the stream.
    pub(super) fn poll_read_more<T: AsyncRead>(
        &mut self,
        io: Pin<&mut T>,
        max: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<bool>> {
        let mut chunk = [MaybeUninit::<u8>::uninit(); CHUNK];
        let mut buf = ReadBuf::uninit(&mut chunk[..max.clamp(1, CHUNK)]);
        match io.poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().is_empty() {
                    return Poll::Ready(Ok(false));
                }
                if self.buf.capacity() == 0 {
                    self.buf.reserve(1024);
                }
                self.buf.extend_from_slice(buf.filled());
                Poll::Ready(Ok(true))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Ready when the client has closed (or reset, or idled out) the
    /// connection while a response is in flight. Bytes it sends ahead are
    /// kept for the next request, up to [`READ_AHEAD`]; past that, reading
    /// waits (and a close is seen when a write fails), as hyper stops at
    /// what its buffer holds.
    pub(super) fn poll_closed<T: AsyncRead>(
        &mut self,
        io: Pin<&mut T>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if self.watch.woke(cx) {
            self.poll_read_ahead(io)
        } else {
            Poll::Pending // the read side has not woken since
        }
    }

    /// [`poll_closed`](Self::poll_closed) once a [`ReadWatch`] said the
    /// read side woke: reads what the client sent.
    pub(super) fn poll_read_ahead<T: AsyncRead>(&mut self, mut io: Pin<&mut T>) -> Poll<()> {
        let waker = self.waker.clone();
        let mut cx = Context::from_waker(&waker);
        while self.buf.len() < READ_AHEAD {
            let max = READ_AHEAD - self.buf.len();
            match self.poll_read_more(io.as_mut(), max, &mut cx) {
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(Ok(false) | Err(_)) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Pending
    }

    /// Lets go of the task waker last registered (a response's task that
    /// has ended); the next poll registers its own.
    pub(super) fn forget_task(&mut self) {
        self.watch.task = None;
        self.watch.wake.set_task(None);
    }

    /// Drops the request head just parsed from the front, and the room a
    /// long head needed: what is left is held while the response runs.
    pub(super) fn consume(&mut self, len: usize) {
        self.buf.drain(..len);
        if self.buf.is_empty() {
            self.buf = Vec::new();
        } else {
            self.buf.shrink_to(READ_AHEAD);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::server::testing::tcp_pair;

    #[test]
    fn a_long_head_leaves_no_big_buffer_behind() {
        // A 60 KiB head with one byte of the next request behind it.
        let mut reader = Reader::new();
        reader.buf = b"GET / HTTP/1.1\r\nx-long: ".to_vec();
        reader.buf.resize(60 * 1024, b'a');
        reader.buf.extend_from_slice(b"\r\n\r\nG");
        let len = reader.buf.len() - 1;
        reader.consume(len);
        assert_eq!(reader.buf, b"G");
        assert!(
            reader.buf.capacity() <= READ_AHEAD,
            "{} bytes held",
            reader.buf.capacity()
        );
    }

    #[tokio::test]
    async fn bytes_sent_ahead_during_a_response_are_held_to_a_little() {
        // A client may pipeline while a stream runs, or just send junk:
        // what is read ahead is held for the whole stream, per connection.
        let (mut client, mut server) = tcp_pair().await;
        let ahead = 48 * 1024;
        client
            .write_all(&vec![b'a'; ahead])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut reader = Reader::new();
        for _ in 0..50 {
            let closed =
                poll_fn(|cx| Poll::Ready(reader.poll_closed(Pin::new(&mut server), cx))).await;
            assert!(closed.is_pending(), "the client is still there");
            if reader.buf.len() >= ahead {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            reader.buf.capacity() <= 4096,
            "{} bytes held",
            reader.buf.capacity()
        );
    }

    #[tokio::test]
    async fn a_close_wakes_the_task_and_is_seen_after_quiet_polls() {
        let (client, mut server) = tcp_pair().await;
        let mut reader = Reader::new();
        let (task, woken) = counting_waker();
        let mut cx = Context::from_waker(&task);
        assert!(
            reader
                .poll_closed(Pin::new(&mut server), &mut cx)
                .is_pending()
        );
        // Polls for other reasons (a frame to write) skip the socket.
        for _ in 0..3 {
            assert!(
                reader
                    .poll_closed(Pin::new(&mut server), &mut cx)
                    .is_pending()
            );
        }
        drop(client);
        for _ in 0..500 {
            if woken.woken.load(Ordering::Acquire) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(woken.woken.load(Ordering::Acquire), "the close woke no one");
        assert!(
            reader
                .poll_closed(Pin::new(&mut server), &mut cx)
                .is_ready()
        );
    }

    #[tokio::test]
    async fn a_new_task_waker_reads_the_socket_again() {
        let (mut client, mut server) = tcp_pair().await;
        let mut reader = Reader::new();
        let (first, _) = counting_waker();
        assert!(
            reader
                .poll_closed(Pin::new(&mut server), &mut Context::from_waker(&first))
                .is_pending()
        );
        client
            .write_all(b"GET")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The read side woke `first`'s wrapper; a poll from another task sees the bytes too.
        let (second, _) = counting_waker();
        let _ = reader.poll_closed(Pin::new(&mut server), &mut Context::from_waker(&second));
        assert_eq!(reader.buf, b"GET");
    }

    fn counting_waker() -> (Waker, Arc<ReadWake>) {
        let flag = Arc::new(ReadWake {
            woken: AtomicBool::new(false),
            task: Mutex::new(None),
        });
        (Waker::from(flag.clone()), flag)
    }
}
