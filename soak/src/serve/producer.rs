//! The hub's producer: 25 frames a second, with stalls, empty and 5 MB
//! frames, and the hub replaced every so often, on a seeded schedule.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::Bytes;
use mjpeg_axum::Frame;
use tokio::time::{Instant, MissedTickBehavior};

use super::Shared;
use super::counts::FaultCounts;
use crate::payload;
use crate::rng::Rng;

/// The size of the occasional big frame.
pub(super) const BIG_FRAME: usize = 5 * 1024 * 1024;

/// Time between frames.
pub(super) const FRAME_INTERVAL: Duration = Duration::from_millis(40);

pub(super) async fn run(shared: Arc<Shared>) {
    let mut rng = Rng::new(shared.seed, 1);
    let mut tick = tokio::time::interval(FRAME_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut next_replace = Instant::now() + jitter(shared.replace_every, &mut rng);
    let faults = &shared.faults;
    loop {
        tick.tick().await;
        if Instant::now() >= next_replace {
            shared.replace_hub();
            next_replace = Instant::now() + jitter(shared.replace_every, &mut rng);
        }
        // About one stall of 1-4 s every 13 s.
        if rng.chance(0.003) {
            FaultCounts::bump(&faults.stalls);
            tokio::time::sleep(Duration::from_millis(rng.range(1000, 4000))).await;
            tick.reset();
            continue;
        }
        let (generation, hub) = shared.current();
        if rng.chance(0.01) {
            FaultCounts::bump(&faults.empty_frames);
            if hub.publish(Bytes::new()) {
                FaultCounts::bump(&faults.empty_accepted);
            }
            continue;
        }
        // About one 5 MB frame every 10 s.
        let big = rng.chance(0.004);
        let len = if big {
            BIG_FRAME
        } else {
            rng.range(2_000, 30_000) as usize
        };
        let seq = shared.seq.load(Relaxed) + 1;
        if hub.publish(Frame::jpeg(payload::build(generation, seq, len))) {
            shared.seq.store(seq, Relaxed);
            if big {
                FaultCounts::bump(&faults.big_frames);
            }
        }
    }
}

/// `mean` give or take half.
fn jitter(mean: Duration, rng: &mut Rng) -> Duration {
    let ms = mean.as_millis() as u64;
    Duration::from_millis(rng.range(ms / 2, ms + ms / 2 + 1))
}
