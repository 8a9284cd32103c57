//! [`Heartbeat`]: re-sending the last frame of an idle source.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Re-sends the last frame when none went out for `every`.
///
/// Sending a frame only records the time; the timer is re-armed when it
/// fires, not on every frame.
pub(crate) struct Heartbeat {
    every: Duration,
    timer: Pin<Box<Sleep>>,
    pub(crate) last_sent: Instant,
}

impl Heartbeat {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            every,
            timer: Box::pin(tokio::time::sleep(every)),
            last_sent: Instant::now(),
        }
    }

    /// Whether a heartbeat is due now; if so, counts it as a send. Otherwise
    /// the timer is armed for when one would be, and `cx` will be woken then.
    pub(crate) fn is_due(&mut self, cx: &mut Context<'_>) -> bool {
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
