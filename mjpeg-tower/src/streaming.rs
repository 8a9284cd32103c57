//! The live part of a streaming body: pops frames from the viewer's queue and
//! hands their encoded chunks to the connection.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use tokio::time::{Instant, Sleep};

use crate::encode::{EncodedPart, PartEncoder};
use crate::feed::Feed;
use crate::lifecycle::Connection;
use crate::queue::{End, Pop, ViewerQueue};
use crate::{BoxError, DisconnectReason};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Opening,
    Live,
    Done,
}

pub(crate) struct StreamBody {
    encoder: Arc<PartEncoder>,
    queue: Arc<ViewerQueue>,
    feed: Feed,
    /// Chunks of the part being sent: a part is never torn.
    out: VecDeque<Bytes>,
    phase: Phase,
    /// The last part sent, kept only when a heartbeat or the final repeat needs it.
    last: Option<EncodedPart>,
    /// How the stream ended, recorded once the close delimiter is handed out.
    ending: Option<DisconnectReason>,
    ending_error: Option<BoxError>,
    heartbeat: Option<Heartbeat>,
    repeat_final_frame: bool,
    conn: Connection,
}

impl StreamBody {
    pub(crate) fn new(
        encoder: Arc<PartEncoder>,
        queue: Arc<ViewerQueue>,
        feed: Feed,
        heartbeat: Option<Duration>,
        repeat_final_frame: bool,
        conn: Connection,
    ) -> Self {
        Self {
            encoder,
            queue,
            feed,
            out: VecDeque::with_capacity(4),
            phase: Phase::Opening,
            last: None,
            ending: None,
            ending_error: None,
            heartbeat: heartbeat.map(Heartbeat::new),
            repeat_final_frame,
            conn,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Done && self.out.is_empty()
    }

    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(chunk) = self.out.pop_front() {
                if self.out.is_empty() && self.phase == Phase::Done {
                    // The close delimiter is handed out: only now did the stream end as it says.
                    self.conn.reason = self.ending.take();
                    self.conn.error = self.ending_error.take();
                }
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
            match self.phase {
                Phase::Opening => {
                    self.send(std::iter::once(self.encoder.opening()), 0);
                    self.phase = Phase::Live;
                    continue;
                }
                Phase::Done => return Poll::Ready(None),
                Phase::Live => {}
            }
            self.feed.poll_inline(&self.queue, cx);
            match self.queue.poll_pop(cx) {
                Poll::Ready(Pop::Frame(frame)) => {
                    let part = frame.encoded(&self.encoder);
                    self.send(part.chunks(), 1);
                    if let Some(heartbeat) = &mut self.heartbeat {
                        heartbeat.last_sent = Instant::now();
                    }
                    if self.keeps_last() {
                        self.last = Some(part);
                    }
                }
                Poll::Ready(Pop::End(end)) => {
                    if let Some(err) = self.finish(end) {
                        return Poll::Ready(Some(Err(err)));
                    }
                }
                Poll::Pending => {
                    let Some(heartbeat) = &mut self.heartbeat else {
                        return Poll::Pending;
                    };
                    if !heartbeat.is_due(cx) {
                        return Poll::Pending;
                    }
                    if let Some(last) = self.last.clone() {
                        self.send(last.chunks(), 0);
                        self.conn.stats.heartbeats += 1;
                    }
                }
            }
        }
    }

    fn keeps_last(&self) -> bool {
        self.heartbeat.is_some() || self.repeat_final_frame
    }

    /// Queues chunks for the connection; counts them (and `frames` frames)
    /// here, once, rather than per chunk handed out.
    fn send(&mut self, chunks: impl Iterator<Item = Bytes>, frames: u64) {
        let mut bytes = 0;
        for chunk in chunks {
            bytes += chunk.len() as u64;
            self.out.push_back(chunk);
        }
        self.conn.stats.bytes_sent += bytes;
        self.conn.stats.frames_sent += frames;
        self.conn.stats_cell().record_sent(frames, bytes);
    }

    /// Queues the close delimiter (or returns the error that aborts the response).
    fn finish(&mut self, end: End) -> Option<BoxError> {
        self.phase = Phase::Done;
        let reason = match end {
            End::Completed => DisconnectReason::Completed,
            End::Stopped => DisconnectReason::Stopped,
            End::Error(err) => {
                self.ending_error = Some(err);
                DisconnectReason::ProducerError
            }
            End::Overflow => {
                self.conn.reason = Some(DisconnectReason::Overflow);
                return Some(OverflowError.into());
            }
        };
        self.ending = Some(reason);
        if self.repeat_final_frame {
            if let Some(last) = self.last.take() {
                self.send(last.chunks(), 0);
            }
        }
        self.send(std::iter::once(self.encoder.close()), 0);
        None
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        self.queue.close_consumer();
        self.conn.stats.frames_dropped = self.queue.dropped();
    }
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("phase", &self.phase)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

/// Re-sends the last frame when none went out for `every`.
///
/// Sending a frame only records the time; the timer is re-armed when it
/// fires, not on every frame.
struct Heartbeat {
    every: Duration,
    timer: Pin<Box<Sleep>>,
    last_sent: Instant,
}

impl Heartbeat {
    fn new(every: Duration) -> Self {
        Self {
            every,
            timer: Box::pin(tokio::time::sleep(every)),
            last_sent: Instant::now(),
        }
    }

    /// Whether a heartbeat is due now; if so, counts it as a send. Otherwise
    /// the timer is armed for when one would be, and `cx` will be woken then.
    fn is_due(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.last_sent + self.every;
            let now = Instant::now();
            if now >= due {
                self.last_sent = now;
                self.timer.as_mut().reset(now + self.every);
                return true;
            }
            self.timer.as_mut().reset(due);
        }
    }
}

/// The error that ends a response whose viewer overflowed under
/// [`OverflowPolicy::Disconnect`](crate::OverflowPolicy::Disconnect).
#[derive(Debug)]
pub struct OverflowError;

impl fmt::Display for OverflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "viewer fell behind past its high-water mark; disconnected by the overflow policy",
        )
    }
}

impl std::error::Error for OverflowError {}
