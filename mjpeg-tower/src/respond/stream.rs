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

use crate::fanout::pump::Feed;
use crate::fanout::queue::{Pop, ViewerQueue};
use crate::lifecycle::connection::Connection;
use crate::lifecycle::outcome::{BoxError, End, MemoryBudgetError, OverflowError};
use crate::lifecycle::stats::StatsCell;
use crate::respond::heartbeat::Heartbeat;
use crate::wire::cursor::Cursor;
use crate::wire::encoder::{EncodedPart, PartEncoder};

/// What of the last part is still to hand out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Nothing,
    Payload,
    Tail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Opening,
    Live,
    Done,
}

/// One viewer's body. A frame's round trip (pop it, hand out its chunks,
/// count them) reads the first cache line only: at 1,000 viewers each line
/// a frame touches is a cache miss, since the frames written between two
/// rounds evict everything. Flags there say when the rest matters.
#[repr(C, align(64))]
pub(crate) struct StreamBody {
    queue: Arc<ViewerQueue>,
    encoder: Arc<PartEncoder>,
    /// Where the wire stands between parts.
    cursor: Cursor,
    /// Counted here per frame, and into `conn.stats` when the body goes.
    frames_sent: u64,
    bytes_sent: u64,
    /// The layer's counters, as `conn` holds them: a second handle here,
    /// in the hot line, saves a cache miss per frame.
    stats: Arc<StatsCell>,
    phase: Phase,
    /// What of `cursor.last()` is still to hand out before `out`: a frame
    /// that continues the wire goes out as its payload and tail, taken from
    /// the shared part rather than queued.
    next: Next,
    /// `out` holds chunks.
    queued: bool,
    /// `heartbeat` is set.
    beats: bool,
    /// `feed` is [`Feed::Inline`]: the body polls the stream itself.
    feeds: bool,
    /// Chunks of the part being sent: a part is never torn.
    out: VecDeque<Bytes>,
    heartbeat: Option<Box<Heartbeat>>,
    repeat_final_frame: bool,
    feed: Feed,
    /// Frames never sent because their payload contains the delimiter.
    unsendable: u64,
    /// Wakes the body when a frame the fps limit held back is on time.
    held_timer: Option<Pin<Box<Sleep>>>,
    /// The deadline the timer last fired for.
    held_fired: Option<Instant>,
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
            queue,
            encoder,
            cursor: Cursor::default(),
            frames_sent: 0,
            bytes_sent: 0,
            stats: conn.stats_cell_arc(),
            phase: Phase::Opening,
            next: Next::Nothing,
            queued: false,
            beats: heartbeat.is_some(),
            feeds: matches!(feed, Feed::Inline(_)),
            out: VecDeque::with_capacity(4),
            heartbeat: heartbeat.map(|every| Box::new(Heartbeat::new(every))),
            repeat_final_frame,
            feed,
            unsendable: 0,
            held_timer: None,
            held_fired: None,
            conn,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Done && self.next == Next::Nothing && !self.queued
    }

    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(chunk) = self.next_of_last() {
                if chunk.is_empty() {
                    continue;
                }
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
            if let Some(chunk) = self.pop_queued() {
                if chunk.is_empty() {
                    continue;
                }
                if !self.queued && self.phase == Phase::Done {
                    self.conn.outcome.close_handed_out();
                }
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
            match self.phase {
                Phase::Opening => {
                    let from = self.out.len();
                    self.cursor.opening(&self.encoder, &mut self.out);
                    self.count(from, 0);
                    self.phase = Phase::Live;
                    continue;
                }
                Phase::Done => return Poll::Ready(None),
                Phase::Live => {}
            }
            if self.feeds {
                self.feed.poll_inline(&self.queue, cx);
            }
            match self.queue.poll_pop(cx) {
                Poll::Ready(Pop::Frame(frame)) => {
                    let part = frame.encoded(&self.encoder);
                    if part.contains_delimiter {
                        // Browsers would cut it at the delimiter: a broken image.
                        self.unsendable += 1;
                        self.conn.stats_cell().record_dropped(1);
                        self.conn.meter().dropped(1);
                        continue;
                    }
                    #[cfg(feature = "metrics")]
                    self.conn.meter().latency(frame.age());
                    self.send(part, 1);
                    if self.beats {
                        if let Some(heartbeat) = &mut self.heartbeat {
                            heartbeat.last_sent = Instant::now();
                        }
                    }
                }
                Poll::Ready(Pop::End(end)) => {
                    if let Some(err) = self.finish(end) {
                        return Poll::Ready(Some(Err(err)));
                    }
                }
                Poll::Pending => {
                    if self.held_frame_is_on_time(cx) {
                        continue;
                    }
                    if !self.beats {
                        return Poll::Pending;
                    }
                    let Some(heartbeat) = &mut self.heartbeat else {
                        return Poll::Pending;
                    };
                    if !heartbeat.is_due(cx) {
                        return Poll::Pending;
                    }
                    if let Some(last) = self.cursor.last().cloned() {
                        self.send(last, 0);
                        self.conn.stats.heartbeats += 1;
                    }
                }
            }
        }
    }

    /// Whether the fps limit's held frame is on time now; otherwise `cx` is
    /// woken when it will be.
    fn held_frame_is_on_time(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.queue.held_until() else {
            return false;
        };
        let timer = self
            .held_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if timer.deadline() != at {
            timer.as_mut().reset(at);
        }
        // Once per deadline: should the queue still hold the frame back, the
        // body waits for the next push rather than spinning.
        let fired = timer.as_mut().poll(cx).is_ready();
        fired && self.held_fired.replace(at) != Some(at)
    }

    /// The next chunk of `out`, keeping `queued` true while it holds more.
    fn pop_queued(&mut self) -> Option<Bytes> {
        if !self.queued {
            return None;
        }
        let chunk = self.out.pop_front();
        self.queued = !self.out.is_empty();
        chunk
    }

    /// The payload, then the tail, of a frame that continued the wire.
    fn next_of_last(&mut self) -> Option<Bytes> {
        let last = self.cursor.last()?;
        match self.next {
            Next::Nothing => None,
            Next::Payload => {
                self.next = Next::Tail;
                Some(last.payload.clone())
            }
            Next::Tail => {
                self.next = Next::Nothing;
                Some(last.tail.clone())
            }
        }
    }

    /// Queues the chunks that send `part` from where the wire stands.
    fn send(&mut self, part: Arc<EncodedPart>, frames: u64) {
        if self.next == Next::Nothing && !self.queued && self.cursor.continues(&part) {
            let bytes = (part.payload.len() + part.tail.len()) as u64;
            self.cursor.continue_with(part);
            self.next = Next::Payload;
            self.record(frames, bytes);
            return;
        }
        let from = self.out.len();
        self.cursor.frame(&self.encoder, part, &mut self.out);
        self.count(from, frames);
    }

    /// Counts the chunks queued from index `from` on (and `frames` frames)
    /// here, once, rather than per chunk handed out.
    fn count(&mut self, from: usize, frames: u64) {
        let bytes: u64 = self.out.range(from..).map(|c| c.len() as u64).sum();
        self.queued = !self.out.is_empty();
        self.record(frames, bytes);
    }

    fn record(&mut self, frames: u64, bytes: u64) {
        self.bytes_sent += bytes;
        self.frames_sent += frames;
        self.stats.record_sent(frames, bytes);
        self.conn.meter().sent(frames, bytes);
    }

    /// Queues the close delimiter, or returns the error that aborts the
    /// response of a viewer that overflowed.
    fn finish(&mut self, end: End) -> Option<BoxError> {
        self.phase = Phase::Done;
        let error: Option<BoxError> = match end {
            End::Overflow => Some(OverflowError.into()),
            End::OverBudget => Some(MemoryBudgetError.into()),
            _ => None,
        };
        self.conn.outcome.ended(end);
        if error.is_some() {
            return error;
        }
        if self.repeat_final_frame {
            if let Some(last) = self.cursor.last().cloned() {
                self.send(last, 0);
            }
        }
        let from = self.out.len();
        self.cursor.close(&self.encoder, &mut self.out);
        self.count(from, 0);
        None
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        // A viewer disconnected while its client was not reading never took
        // its end; it still decides the reason.
        if let Some(end) = self.queue.take_disconnect() {
            self.conn.outcome.ended(end);
        }
        self.queue.close_consumer();
        self.conn.stats.frames_dropped = self.queue.dropped() + self.unsendable;
        self.conn.stats.frames_sent = self.frames_sent;
        self.conn.stats.bytes_sent = self.bytes_sent;
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

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use super::*;

    #[test]
    fn a_frame_round_trip_reads_one_cache_line() {
        assert_eq!(align_of::<StreamBody>(), 64);
        assert!(offset_of!(StreamBody, feeds) < 64);
    }
}
