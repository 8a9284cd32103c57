//! [`Feed`]: what fills a viewer's queue: a task driving a per-request
//! stream, or a hub.

use std::any::Any;
use std::fmt;
use std::future::poll_fn;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::task::AbortHandle;

use crate::fanout::encoded::SharedFrame;
use crate::fanout::hub::HubViewer;
use crate::fanout::queue::{Pushed, ViewerQueue};
use crate::lifecycle::outcome::{BoxError, End};
use crate::wire::frame::Frame;

/// A type-erased per-request stream of frames.
pub(crate) type FrameStream = Pin<Box<dyn Stream<Item = Result<Frame, BoxError>> + Send>>;

/// Frames in a row a stream may yield before the task lets others run.
const BUDGET: u32 = 32;

#[derive(Debug)]
pub(crate) enum Feed {
    /// A task drives the stream, so drop policies keep working while the
    /// connection is write-blocked and nobody polls the body. Aborted on drop.
    Task(AbortHandle),
    /// No tokio runtime to spawn on: the body polls the stream itself.
    Inline(InlineStream),
    /// A hub pushes; dropping this unregisters the viewer.
    Hub(#[allow(dead_code)] HubViewer),
    /// Nothing will push (the queue was closed up front).
    None,
}

pub(crate) struct InlineStream(FrameStream);

impl std::fmt::Debug for InlineStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InlineStream")
    }
}

impl Feed {
    /// Starts feeding `queue` from `stream`. With `wait`, the task waits for
    /// room and keeps to `pace` (the fps limit) rather than having frames skipped.
    pub(crate) fn stream(
        stream: FrameStream,
        queue: Arc<ViewerQueue>,
        wait: bool,
        pace: Option<Duration>,
    ) -> Self {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => Self::Task(handle.spawn(pump(stream, queue, wait, pace)).abort_handle()),
            Err(_) => Self::Inline(InlineStream(stream)),
        }
    }

    /// With an inline stream, moves one ready frame into an empty queue.
    pub(crate) fn poll_inline(&mut self, queue: &ViewerQueue, cx: &mut Context<'_>) {
        let Self::Inline(InlineStream(stream)) = self else {
            return;
        };
        if !queue.is_empty() {
            return;
        }
        match poll_next_frame(stream, cx) {
            Poll::Ready(Some(Ok(frame))) => {
                queue.push(Arc::new(SharedFrame::new(frame)));
            }
            Poll::Ready(Some(Err(err))) => queue.close(End::Error(err)),
            Poll::Ready(None) => queue.close(End::Completed),
            Poll::Pending => {}
        }
    }
}

/// The stream's next frame, with the two things a producer may do that no
/// viewer should see turned into something sane:
/// - a panic in `poll_next` becomes an error, which ends the viewer's stream
///   with the close delimiter and [`DisconnectReason::ProducerError`](crate::DisconnectReason::ProducerError)
///   (the stream is never polled again);
/// - an empty frame is skipped: on the wire it would be an empty part, which
///   Chromium shows as a broken image. After [`BUDGET`] empty frames in a row
///   it yields (waking itself) so a stream of nothing cannot spin a thread.
fn poll_next_frame(
    stream: &mut FrameStream,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame, BoxError>>> {
    for _ in 0..BUDGET {
        let polled = catch_unwind(AssertUnwindSafe(|| stream.as_mut().poll_next(cx)));
        match polled {
            Ok(Poll::Ready(Some(Ok(frame)))) if frame.is_empty() => continue,
            Ok(polled) => return polled,
            Err(panic) => return Poll::Ready(Some(Err(ProducerPanic::from(panic).into()))),
        }
    }
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// A per-request stream panicked while producing a frame.
#[derive(Debug)]
struct ProducerPanic(String);

impl From<Box<dyn Any + Send>> for ProducerPanic {
    fn from(panic: Box<dyn Any + Send>) -> Self {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string payload".to_owned());
        Self(message)
    }
}

impl fmt::Display for ProducerPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the frame stream panicked: {}", self.0)
    }
}

impl std::error::Error for ProducerPanic {}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Self::Task(handle) = self {
            handle.abort();
        }
    }
}

async fn pump(
    mut stream: FrameStream,
    queue: Arc<ViewerQueue>,
    wait: bool,
    pace: Option<Duration>,
) {
    let mut in_a_row = 0;
    loop {
        if wait && !poll_fn(|cx| queue.poll_ready(cx)).await {
            return;
        }
        match poll_fn(|cx| poll_next_frame(&mut stream, cx)).await {
            Some(Ok(frame)) => {
                let frame = Arc::new(SharedFrame::new(frame));
                let pushed = if wait {
                    queue.push_waited(frame)
                } else {
                    queue.push(frame)
                };
                if matches!(pushed, Pushed::Closed | Pushed::Overflow) {
                    return;
                }
                if let (true, Some(pace)) = (wait, pace) {
                    tokio::time::sleep(pace).await;
                }
            }
            Some(Err(err)) => return queue.close(End::Error(err)),
            None => return queue.close(End::Completed),
        }
        in_a_row += 1;
        if in_a_row == BUDGET {
            in_a_row = 0;
            tokio::task::yield_now().await;
        }
    }
}
