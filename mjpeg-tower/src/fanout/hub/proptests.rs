//! Property: whatever the sequence of publishes, viewers joining and
//! leaving, reading or stalling, under any policy and with or without a
//! memory budget, every viewer gets whole frames in publish order, each
//! viewer's queue stays bounded, the layer's count of queued bytes is the
//! sum of its viewers' and returns to zero, and the counts add up.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use proptest::prelude::*;

use super::{FrameHub, HubViewer};
use crate::fanout::encoded::SharedFrame;
use crate::fanout::policy::{OverflowPolicy, QueueLimits};
use crate::fanout::queue::{FRAME_OVERHEAD, Pop, ViewerQueue};
use crate::lifecycle::stats::StatsCell;
use crate::lifecycle::telemetry::Meter;
use crate::wire::frame::Frame;

#[derive(Clone, Debug)]
enum Op {
    /// Publish a frame of this many bytes.
    Publish(usize),
    /// A viewer joins with this policy.
    Join(OverflowPolicy),
    /// Viewer `i % viewers` reads up to this many frames (0: it stalls).
    Read(usize, usize),
    /// Viewer `i % viewers` leaves.
    Leave(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let policy = prop_oneof![
        Just(OverflowPolicy::KeepLatest),
        Just(OverflowPolicy::DropNewest),
        Just(OverflowPolicy::Disconnect),
    ];
    prop_oneof![
        4 => (1usize..4000).prop_map(Op::Publish),
        1 => policy.prop_map(Op::Join),
        3 => (0usize..8, 0usize..4).prop_map(|(i, n)| Op::Read(i, n)),
        1 => (0usize..8).prop_map(Op::Leave),
    ]
}

/// One viewer: its queue, its registration, what it got.
struct Viewer {
    queue: Arc<ViewerQueue>,
    _registration: HubViewer,
    got: Vec<u32>,
    ended: bool,
}

/// Frame `n`: its number, then bytes that all say it, so a torn frame shows.
fn numbered(n: u32, len: usize) -> Frame {
    let mut payload = n.to_le_bytes().to_vec();
    payload.resize(len.max(4), (n % 251) as u8);
    Frame::new(payload)
}

fn number(frame: &SharedFrame) -> u32 {
    let data = frame.frame().data();
    let n = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    assert!(
        data[4..].iter().all(|&b| b == (n % 251) as u8),
        "frame {n} is torn"
    );
    n
}

proptest! {
    #[test]
    fn whole_in_order_bounded_and_counted(
        ops in proptest::collection::vec(op(), 1..200),
        mark in 0usize..20_000,
        budget in proptest::option::of(0usize..40_000),
    ) {
        let hub = FrameHub::new();
        let stats = Arc::new(StatsCell::new());
        let mut cx = Context::from_waker(Waker::noop());
        let mut viewers: Vec<Viewer> = Vec::new();
        let (mut next, mut largest) = (0u32, 0usize);
        for op in ops {
            match op {
                Op::Publish(len) => {
                    largest = largest.max(len.max(4) + FRAME_OVERHEAD);
                    prop_assert!(hub.publish(numbered(next, len)));
                    next += 1;
                }
                Op::Join(policy) => {
                    let limits = QueueLimits { high_water_mark: mark, policy, min_interval: None, budget };
                    let queue = Arc::new(ViewerQueue::new(limits, stats.clone(), Arc::new(Meter::new("p"))));
                    prop_assert!(stats.try_acquire(None).is_some());
                    let registration = hub.register(queue.clone()).unwrap();
                    viewers.push(Viewer { queue, _registration: registration, got: Vec::new(), ended: false });
                }
                Op::Read(i, n) if !viewers.is_empty() => {
                    let at = i % viewers.len();
                    let viewer = &mut viewers[at];
                    for _ in 0..n {
                        match viewer.queue.poll_pop(&mut cx) {
                            Poll::Ready(Pop::Frame(frame)) => viewer.got.push(number(&frame)),
                            Poll::Ready(Pop::End(_)) => viewer.ended = true,
                            Poll::Pending => break,
                        }
                        if viewer.ended { break; }
                    }
                }
                Op::Leave(i) if !viewers.is_empty() => {
                    let viewer = viewers.remove(i % viewers.len());
                    viewer.queue.close_consumer();
                    stats.release();
                }
                _ => {}
            }
            // Bounded: a viewer holds its mark plus one frame; with a budget,
            // the layer holds at most 1.5x it plus a frame per viewer.
            let mut sum = 0;
            for viewer in &viewers {
                let (_, _, bytes) = viewer.queue.counts();
                prop_assert!(bytes <= mark + largest, "{bytes} > {mark} + {largest}");
                sum += bytes;
            }
            prop_assert_eq!(stats.queued(), sum, "the layer's count is its viewers' sum");
            if let Some(budget) = budget {
                let far = budget + budget / 2 + largest * (viewers.len() + 1);
                let each: Vec<_> = viewers.iter().map(|v| v.queue.counts().2).collect();
                prop_assert!(sum <= far, "{sum} queued past the budget {budget} (mark {mark}, largest {largest}): {each:?}, active {}", stats.active());
            }
        }
        for viewer in &viewers {
            // Whole frames (checked in `number`) in publish order, none twice.
            prop_assert!(viewer.got.windows(2).all(|w| w[0] < w[1]), "{:?}", viewer.got);
            let (popped, dropped, _) = viewer.queue.counts();
            prop_assert_eq!(popped, viewer.got.len() as u64);
            prop_assert!(popped + dropped <= u64::from(next) + 1);
        }
        prop_assert_eq!(hub.stats().published, u64::from(next));
        drop(viewers);
        prop_assert_eq!(stats.queued(), 0, "every queued byte is given back");
    }
}
