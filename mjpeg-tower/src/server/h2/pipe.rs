//! [`Pipe`]: sends a response body on an HTTP/2 stream, with a stall deadline.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use h2::{Reason, SendStream};
use http_body::Body;
use tokio::time::{Instant, Sleep};

use super::window::Windows;
use crate::lifecycle::info::StallFlag;
use crate::lifecycle::outcome::BoxError;

/// Sends a body as the stream's send capacity allows.
///
/// A body is only polled when the previous chunk is out, like hyper does,
/// so a body whose client stopped reading is not polled at all: the
/// deadline lives here. Waiting for capacity for the stall timeout while
/// the stream's own window is used up (see [`Windows`]) sets the stream's
/// [`StallFlag`], resets the stream (`CANCEL`) and drops the body; the
/// reset also gives the stream's share of the connection window back to
/// the client. Waiting only because siblings hold the connection window
/// does not count: that is the client's connection, not this viewer.
pub(super) struct Pipe {
    tx: SendStream<Bytes>,
    id: u32,
    windows: Windows,
    stall: Option<Duration>,
    timer: Option<Pin<Box<Sleep>>>,
    /// When the current wait for capacity began.
    waiting_since: Instant,
    flag: StallFlag,
}

/// Sending stopped early: the client reset the stream, the connection
/// failed, or the stream stalled and was reset.
struct Gone;

impl Pipe {
    pub(super) fn new(
        tx: SendStream<Bytes>,
        windows: Windows,
        stall: Option<Duration>,
        flag: StallFlag,
    ) -> Self {
        let id = tx.stream_id().as_u32();
        Self {
            tx,
            id,
            windows,
            stall,
            timer: None,
            waiting_since: Instant::now(),
            flag,
        }
    }

    /// Sends `body` to its end, or until the client or the deadline stops it.
    pub(super) async fn run<B>(mut self, body: B)
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let mut body = pin!(body);
        loop {
            let frame = poll_fn(|cx| {
                if self.tx.poll_reset(cx).is_ready() {
                    return Poll::Ready(Err(Gone));
                }
                // The error is not kept: the stream is reset either way.
                body.as_mut()
                    .poll_frame(cx)
                    .map(|frame| Ok(frame.map(|frame| frame.map_err(drop))))
            })
            .await;
            let frame = match frame {
                Err(Gone) => return,
                Ok(None) => {
                    let _ = self.tx.send_data(Bytes::new(), true);
                    return;
                }
                Ok(Some(Err(_))) => {
                    self.tx.send_reset(Reason::INTERNAL_ERROR);
                    return;
                }
                Ok(Some(Ok(frame))) => frame,
            };
            match frame.into_data() {
                Ok(data) => {
                    let end = body.is_end_stream();
                    if self.send(data, end).await.is_err() || end {
                        return;
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        let _ = self.tx.send_trailers(trailers);
                        return;
                    }
                }
            }
        }
    }

    /// Sends `data` once the stream has some send capacity, whole (as hyper
    /// does): `h2` holds what the windows do not allow yet, and assigns no
    /// more capacity to a stream holding its send buffer's worth. The stall
    /// check counts the bytes that went on the wire (see [`Windows`]).
    async fn send(&mut self, data: Bytes, end: bool) -> Result<(), Gone> {
        if !data.is_empty() {
            self.tx.reserve_capacity(data.len());
            self.capacity().await?;
        }
        self.tx.send_data(data, end).map_err(|_| Gone)
    }

    /// Waits for send capacity; resets the stream if it stalls.
    async fn capacity(&mut self) -> Result<usize, Gone> {
        let capacity = self.tx.capacity();
        if capacity > 0 {
            return Ok(capacity);
        }
        if let Some(timeout) = self.stall {
            let now = Instant::now();
            self.waiting_since = now;
            // A timer still armed for an earlier wait is left alone (it
            // fires early and is moved on then): resetting it for each of
            // the many short waits costs more than the rare early firing.
            match &mut self.timer {
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(now + timeout))),
                Some(timer) if timer.is_elapsed() => timer.as_mut().reset(now + timeout),
                Some(_) => {}
            }
        }
        poll_fn(|cx| self.poll_capacity(cx)).await
    }

    fn poll_capacity(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize, Gone>> {
        loop {
            if self.tx.poll_reset(cx).is_ready() {
                return Poll::Ready(Err(Gone));
            }
            match self.tx.poll_capacity(cx) {
                Poll::Ready(Some(Ok(_))) => {
                    let capacity = self.tx.capacity();
                    if capacity > 0 {
                        return Poll::Ready(Ok(capacity));
                    }
                    continue;
                }
                Poll::Ready(Some(Err(_)) | None) => return Poll::Ready(Err(Gone)),
                Poll::Pending => {}
            }
            let (Some(timer), Some(timeout)) = (&mut self.timer, self.stall) else {
                return Poll::Pending;
            };
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let deadline = self.waiting_since + timeout;
            if Instant::now() < deadline {
                timer.as_mut().reset(deadline); // armed for an earlier wait
                continue;
            }
            if self.windows.exhausted(self.id) {
                // The client gave this stream no window for the whole timeout.
                self.flag.set();
                self.tx.send_reset(Reason::CANCEL);
                return Poll::Ready(Err(Gone));
            }
            // Held back by the connection's window, which siblings hold: not this viewer's stall.
            timer.as_mut().reset(Instant::now() + timeout);
        }
    }
}
