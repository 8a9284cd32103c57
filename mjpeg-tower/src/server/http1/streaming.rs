//! A response body written to the socket as a task of its own.
//!
//! Every frame of a stream wakes the task that writes it. Polled through
//! the connection's future, that wake walks three nested state machines
//! (the connection task's, the HTTP/1.1 loop's, the response's; 1.5 and
//! 2.1 KiB), and at 1,000 viewers each of their states is a cache miss per
//! frame (`cargo xtask bench misses`). This future is the whole task while
//! a body streams: the socket, the writer and the body, nothing nested.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::task::JoinHandle;

use super::Conn;
use super::read::ReadWatch;
use super::write::Outgoing;
use crate::lifecycle::outcome::BoxError;

pin_project! {
    /// Writes `body` on `conn` until it ends, fails or the client leaves;
    /// gives the connection back with whether it may serve another request.
    ///
    /// In declared order, so that what a frame reads (the body's handle,
    /// the connection's, the writer's fields and its inline pieces) sits
    /// together just after the task's header.
    #[repr(C)]
    pub(super) struct Streaming<B> {
        // Dropped first (fields drop in order): the viewer is reported
        // before its socket closes.
        #[pin]
        body: B,
        conn: Option<Box<Conn>>,
        read: ReadWatch,
        out: Outgoing,
        keep_alive: bool,
    }
}

impl<B> Streaming<B> {
    pub(super) fn new(conn: Box<Conn>, out: Outgoing, body: B, keep_alive: bool) -> Self {
        Self {
            read: conn.read.watch(),
            conn: Some(conn),
            out,
            keep_alive,
            body,
        }
    }
}

impl<B> Future for Streaming<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Option<(Box<Conn>, bool)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(conn) = this.conn.as_mut() else {
            return Poll::Ready(None); // polled again after it ended
        };
        let Conn { read, io } = &mut **conn;
        // The write at the end needs the connection's box and the socket's
        // readiness in tokio's driver, and the frame's pieces go to lines
        // of this task of their own: at 1,000 viewers each is a cache miss.
        // Asked for first, they load while the read watch and the body take
        // theirs, rather than one after another once the frame is in hand.
        // With 1,000 viewers at 30 fps, measured against the build before
        // side by side (`bench pair`): the socket, 15% (axum) and 9% (warp)
        // less user CPU; the pieces, about 7% less again for axum (warp
        // within the noise). User CPU is an eighth of the server's.
        io.get_ref().touch();
        this.out.touch();
        // The connection's own `Reader` is read only once the read side woke.
        let closed = this.read.woke(cx) && read.poll_read_ahead(Pin::new(&mut *io)).is_ready();
        let keep_alive = if closed {
            false
        } else {
            match this.out.poll_send(this.body, Pin::new(io), cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(sent) => sent.is_ok() && *this.keep_alive,
            }
        };
        Poll::Ready(this.conn.take().map(|conn| (conn, keep_alive)))
    }
}

/// Aborts the task when dropped: a connection dropped (the server
/// stopping, say) takes its stream with it, as when it was polled inline.
pub(super) struct AbortOnDrop<T>(pub(super) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::sync::{Arc, Mutex};
    use std::task::Waker;
    use std::time::Duration;

    use http_body::Frame;
    use tokio::io::AsyncReadExt;

    use super::super::head::Framing;
    use super::super::read::Reader;
    use super::*;
    use crate::lifecycle::info::StallFlag;
    use crate::server::io::ServerIo;
    use crate::server::rewind::Rewind;
    use crate::server::stall::StallIo;
    use crate::server::testing::{WakeFlag, tcp_pair};

    /// Frames pushed by the test; pending (with the waker kept) when empty.
    #[derive(Clone, Default)]
    struct Pushed(Arc<Mutex<(VecDeque<Bytes>, Option<Waker>)>>);

    impl Pushed {
        fn push(&self, frame: &'static [u8]) {
            let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
            inner.0.push_back(Bytes::from_static(frame));
            if let Some(waker) = inner.1.take() {
                waker.wake();
            }
        }
    }

    impl Body for Pushed {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            let mut inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match inner.0.pop_front() {
                Some(frame) => Poll::Ready(Some(Ok(Frame::data(frame)))),
                None => {
                    inner.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }

    #[tokio::test]
    async fn a_close_seen_in_a_poll_that_also_writes_a_frame_ends_the_stream() {
        // The client's close and a frame wake the task once, together:
        // the poll that writes the frame must also see the close, for no
        // wake is left to come if the stream then goes quiet.
        let (mut client, server) = tcp_pair().await;
        let io = ServerIo::plain(StallIo::new(server, None, StallFlag::new()), None);
        let conn = Box::new(Conn {
            io: Rewind::new(io),
            read: Reader::new(),
        });
        let body = Pushed::default();
        let out = Outgoing::new(b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), Framing::Chunked);
        let mut streaming = Box::pin(Streaming::new(conn, out, body.clone(), true));
        let (woken, waker) = WakeFlag::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(streaming.as_mut().poll(&mut cx).is_pending());
        // Read what was sent, so that the close is a FIN, not a reset that
        // would fail the next write anyway.
        let head = b"HTTP/1.1 200 OK\r\n\r\n";
        let mut got = vec![0; head.len()];
        tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut got))
            .await
            .unwrap_or_else(|_| panic!("the head was not written"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, head);
        drop(client);
        for _ in 0..500 {
            if woken.is_set() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(woken.is_set(), "the close woke no one");
        body.push(b"frame");
        match streaming.as_mut().poll(&mut cx) {
            Poll::Ready(Some((_, keep_alive))) => assert!(!keep_alive),
            other => panic!(
                "the close went unseen: {:?}",
                other.map(|o| o.map(|(_, k)| k))
            ),
        }
    }
}
