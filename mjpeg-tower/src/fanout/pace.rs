//! [`Pace`]: the per-viewer fps limit's clock.
//!
//! Frames are accepted on a grid of `min_interval` steps rather than
//! `min_interval` after the last accepted frame: the latter rounds every
//! interval up to the next frame of the source (a 2 fps limit on a 30 fps
//! source gave 1.875 fps). A frame up to an eighth of the interval early
//! still counts as on time, so a source at the limit's own rate with a
//! little jitter is not halved. A viewer whose source paused re-anchors
//! the grid at its next frame instead of catching up with a burst.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    min: Duration,
    /// When the next frame is due; `None` before the first.
    due: Option<Instant>,
}

impl Pace {
    pub(crate) fn new(min: Duration) -> Self {
        Self { min, due: None }
    }

    /// Whether a frame at `now` comes too early to be sent.
    pub(crate) fn is_early(&self, now: Instant) -> bool {
        self.due.is_some_and(|due| now + self.min / 8 < due)
    }

    /// When a frame held back would be on time.
    pub(crate) fn on_time_at(&self) -> Option<Instant> {
        self.due
            .map(|due| due.checked_sub(self.min / 8).unwrap_or(due))
    }

    /// Records a frame accepted at `now`.
    pub(crate) fn accept(&mut self, now: Instant) {
        let next = match self.due {
            // On the grid (a little early or late): the next step, though
            // never sooner than half an interval from now.
            Some(due) if now <= due + self.min => (due + self.min).max(now + self.min / 2),
            // The first frame, or a whole interval late: a new grid.
            _ => now + self.min,
        };
        self.due = Some(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames accepted from `frames` sent `every` apart from the start.
    fn accepted(min: Duration, every: Duration, frames: u32) -> u32 {
        let start = Instant::now();
        let mut pace = Pace::new(min);
        let mut n = 0;
        for i in 0..frames {
            let now = start + every * i;
            if !pace.is_early(now) {
                pace.accept(now);
                n += 1;
            }
        }
        n
    }

    #[tokio::test]
    async fn the_rate_is_kept_on_a_grid_without_rounding_up() {
        let fps = |n| Duration::from_secs(1) / n;
        // About 60 s of a 30 fps source (the last frame at 59.8 s).
        assert_eq!(accepted(fps(2), fps(30), 1795), 120);
        assert_eq!(accepted(fps(30), fps(30), 1795), 1795);
        // 7 fps: steps of 142.86 ms, the 420th (59.86 s) is past the last frame.
        assert_eq!(accepted(fps(7), fps(30), 1795), 419);
        assert_eq!(accepted(fps(10), fps(50), 50), 10);
        // A slower source than the limit: every frame.
        assert_eq!(accepted(fps(30), fps(10), 100), 100);
    }

    #[tokio::test]
    async fn a_jittery_source_at_the_limit_keeps_its_rate() {
        let min = Duration::from_secs(1) / 30;
        let start = Instant::now();
        let mut pace = Pace::new(min);
        let mut n = 0;
        for i in 0..300u32 {
            // +-3 ms around the nominal time.
            let jitter = Duration::from_millis(u64::from(i * 37 % 7));
            let now = start + min * i + jitter - Duration::from_millis(3);
            if !pace.is_early(now) {
                pace.accept(now);
                n += 1;
            }
        }
        assert_eq!(n, 300);
    }

    #[tokio::test]
    async fn after_a_pause_the_grid_restarts_without_a_burst() {
        let min = Duration::from_millis(100);
        let start = Instant::now();
        let mut pace = Pace::new(min);
        pace.accept(start);
        let later = start + Duration::from_secs(10);
        assert!(!pace.is_early(later));
        pace.accept(later);
        assert!(pace.is_early(later + Duration::from_millis(10)));
        assert!(pace.is_early(later + Duration::from_millis(80)));
        assert!(!pace.is_early(later + Duration::from_millis(90)));
    }
}
