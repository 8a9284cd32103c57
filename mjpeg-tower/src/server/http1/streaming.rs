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
use super::read::{ReadWatch, Reader};
use super::write::Outgoing;
use crate::lifecycle::outcome::BoxError;
use crate::server::io::ServerIo;
use crate::server::rewind::Rewind;

/// Polls that write something check the read side (the client leaving,
/// or sending ahead) only this often: its flag is a cache line of its own,
/// and a client that left is also seen by the next write failing. A poll
/// that writes nothing, the read side's own wake among them, checks it.
const READ_CHECK_EVERY: u8 = 16;

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
        // Polls that write something before the read side is checked.
        until_check: u8,
        out: Outgoing,
        read: ReadWatch,
        keep_alive: bool,
    }
}

impl<B> Streaming<B> {
    pub(super) fn new(conn: Box<Conn>, out: Outgoing, body: B, keep_alive: bool) -> Self {
        Self {
            read: conn.read.watch(),
            conn: Some(conn),
            until_check: 0,
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
        let checked = *this.until_check == 0;
        let left = checked && {
            *this.until_check = READ_CHECK_EVERY;
            client_left(this.read, read, io, cx)
        };
        let keep_alive = if left {
            false
        } else {
            match this.out.poll_send(this.body, Pin::new(&mut *io), cx) {
                Poll::Ready(sent) => sent.is_ok() && *this.keep_alive,
                Poll::Pending if this.out.take_wrote() => {
                    *this.until_check = this.until_check.saturating_sub(1);
                    return Poll::Pending;
                }
                // Nothing written: this wake may well be the read side's.
                Poll::Pending if checked || !client_left(this.read, read, io, cx) => {
                    *this.until_check = READ_CHECK_EVERY;
                    return Poll::Pending;
                }
                Poll::Pending => false,
            }
        };
        Poll::Ready(this.conn.take().map(|conn| (conn, keep_alive)))
    }
}

/// Whether the client closed the connection: the connection's `Reader`
/// reads the socket only once the read side woke.
fn client_left(
    watch: &mut ReadWatch,
    read: &mut Reader,
    io: &mut Rewind<ServerIo>,
    cx: &Context<'_>,
) -> bool {
    watch.woke(cx) && read.poll_read_ahead(Pin::new(io)).is_ready()
}

/// Aborts the task when dropped: a connection dropped (the server
/// stopping, say) takes its stream with it, as when it was polled inline.
pub(super) struct AbortOnDrop<T>(pub(super) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
