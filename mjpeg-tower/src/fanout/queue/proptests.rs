//! Property: whatever the sequence of pushes and pops, policy and mark, a
//! queue stays bounded, hands out whole frames in order, and its counts add
//! up.

use std::task::Waker;

use proptest::prelude::*;

use super::*;
use crate::lifecycle::telemetry::Meter;
use crate::wire::frame::Frame;

#[derive(Clone, Debug)]
enum Op {
    Push(usize),
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..3000).prop_map(Op::Push),
        2 => Just(Op::Pop),
    ]
}

fn policy() -> impl Strategy<Value = OverflowPolicy> {
    prop_oneof![
        Just(OverflowPolicy::KeepLatest),
        Just(OverflowPolicy::DropNewest),
        Just(OverflowPolicy::Disconnect),
    ]
}

/// A frame numbered `n` whose every byte says so: a torn frame would show.
fn numbered(n: u32, len: usize) -> Arc<SharedFrame> {
    let mut payload = n.to_le_bytes().to_vec();
    payload.resize(len.max(4), (n % 251) as u8);
    Arc::new(SharedFrame::new(Frame::new(payload)))
}

proptest! {
    #[test]
    fn bounded_whole_in_order_and_counted(
        ops in proptest::collection::vec(op(), 1..300),
        policy in policy(),
        mark in 0usize..20_000,
    ) {
        let limits = QueueLimits { high_water_mark: mark, policy, min_interval: None, budget: None };
        let q = ViewerQueue::new(limits, Arc::new(StatsCell::new()), Arc::new(Meter::new("test")));
        let mut cx = Context::from_waker(Waker::noop());
        let (mut next, mut accepted, mut last_popped) = (0u32, 0u64, None::<u32>);
        let mut largest = 0;
        let mut ended = false;
        for op in ops {
            match op {
                Op::Push(len) => {
                    let frame = numbered(next, len);
                    largest = largest.max(len.max(4) + FRAME_OVERHEAD);
                    next += 1;
                    match q.push(frame) {
                        Pushed::Closed => prop_assert!(ended, "closed while open"),
                        Pushed::Overflow => {
                            prop_assert_eq!(policy, OverflowPolicy::Disconnect);
                            accepted += 1;
                            ended = true;
                        }
                        Pushed::Queued | Pushed::Skipped => accepted += 1,
                    }
                }
                Op::Pop => match q.poll_pop(&mut cx) {
                    Poll::Ready(Pop::Frame(frame)) => {
                        let data = frame.frame().data();
                        let n = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                        prop_assert!(
                            data[4..].iter().all(|&b| b == (n % 251) as u8),
                            "frame {} torn", n
                        );
                        prop_assert!(last_popped.is_none_or(|last| n > last), "order broken");
                        last_popped = Some(n);
                    }
                    Poll::Ready(Pop::End(end)) => {
                        prop_assert!(matches!(end, End::Overflow));
                        ended = true;
                    }
                    Poll::Pending => {}
                },
            }
            let (popped, dropped, queued) = q.counts();
            prop_assert!(queued <= mark.max(largest) + largest, "{} bytes queued", queued);
            // Every accepted frame was popped, dropped, or is still queued.
            let in_queue = accepted.checked_sub(popped + dropped);
            prop_assert!(in_queue.is_some(), "more popped and dropped than accepted");
            prop_assert_eq!(queued == 0, in_queue == Some(0), "{} bytes for {:?} frames", queued, in_queue);
            if policy != OverflowPolicy::Disconnect {
                prop_assert!(!ended);
            }
        }
    }
}
