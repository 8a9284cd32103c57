use std::task::Waker;
use std::time::Duration;

use super::*;
use crate::lifecycle::telemetry::Meter;
use crate::wire::frame::Frame;

/// What one 100-byte test frame is charged.
const C: usize = 100 + FRAME_OVERHEAD;
/// A mark that two 100-byte frames fit under and three do not.
const MARK: usize = 2 * C + 50;

fn queue(policy: OverflowPolicy, hwm: usize) -> ViewerQueue {
    let limits = QueueLimits {
        high_water_mark: hwm,
        policy,
        min_interval: None,
        budget: None,
    };
    ViewerQueue::new(
        limits,
        Arc::new(StatsCell::new()),
        Arc::new(Meter::new("test")),
    )
}

fn frame(tag: u8, len: usize) -> Arc<SharedFrame> {
    Arc::new(SharedFrame::new(Frame::new(vec![tag; len])))
}

fn pop(q: &ViewerQueue) -> Option<u8> {
    let mut cx = Context::from_waker(Waker::noop());
    match q.poll_pop(&mut cx) {
        Poll::Ready(Pop::Frame(f)) => Some(f.frame().data()[0]),
        Poll::Ready(Pop::End(end)) => panic!("unexpected end {end:?}"),
        Poll::Pending => None,
    }
}

#[test]
fn keep_latest_drops_oldest_and_stays_bounded() {
    let q = queue(OverflowPolicy::KeepLatest, MARK);
    for tag in 0..10 {
        q.push(frame(tag, 100));
        assert!(q.counts().2 <= MARK + C);
    }
    assert_eq!(q.dropped(), 8);
    assert_eq!((pop(&q), pop(&q), pop(&q)), (Some(8), Some(9), None));
}

#[test]
fn drop_newest_keeps_the_oldest() {
    let q = queue(OverflowPolicy::DropNewest, MARK);
    let results: Vec<_> = (0..4).map(|tag| q.push(frame(tag, 100))).collect();
    assert_eq!(results[..2], [Pushed::Queued, Pushed::Queued]);
    assert_eq!(results[2..], [Pushed::Skipped, Pushed::Skipped]);
    assert_eq!((pop(&q), pop(&q), pop(&q)), (Some(0), Some(1), None));
    assert_eq!(q.dropped(), 2);
}

#[test]
fn a_frame_larger_than_the_mark_still_goes_through_when_the_queue_is_empty() {
    let q = queue(OverflowPolicy::DropNewest, 10);
    assert_eq!(q.push(frame(1, 1000)), Pushed::Queued);
    assert_eq!(pop(&q), Some(1));
}

#[test]
fn disconnect_frees_the_queue_and_ends_with_overflow() {
    let q = queue(OverflowPolicy::Disconnect, MARK);
    q.push(frame(0, 100));
    q.push(frame(1, 100));
    assert_eq!(q.push(frame(2, 100)), Pushed::Overflow);
    assert_eq!(
        q.stats.snapshot().frames_dropped,
        3,
        "the layer counts them too"
    );
    assert_eq!(q.counts().2, 0);
    assert_eq!(q.push(frame(3, 100)), Pushed::Closed);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        q.poll_pop(&mut cx),
        Poll::Ready(Pop::End(End::Overflow))
    ));
}

#[test]
fn wait_is_ready_only_below_the_mark() {
    let q = queue(OverflowPolicy::Wait, MARK);
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(q.poll_ready(&mut cx), Poll::Ready(true));
    q.push_waited(frame(0, 100));
    q.push_waited(frame(1, 100));
    assert_eq!(q.poll_ready(&mut cx), Poll::Ready(true));
    assert_eq!(q.push_waited(frame(2, 100)), Pushed::Queued);
    assert_eq!(q.dropped(), 0);
    assert_eq!(q.poll_ready(&mut cx), Poll::Pending);
    assert_eq!(q.poll_ready(&mut cx), Poll::Pending);
    assert_eq!(
        q.stats.snapshot().overflow_events,
        1,
        "one overflow per episode, not per poll"
    );
    pop(&q);
    assert_eq!(q.poll_ready(&mut cx), Poll::Ready(true));
    q.close_consumer();
    assert_eq!(q.poll_ready(&mut cx), Poll::Ready(false));
}

#[test]
fn a_hub_push_under_wait_drops_the_newest() {
    let q = queue(OverflowPolicy::Wait, 150);
    q.push(frame(0, 100));
    assert_eq!(q.push(frame(1, 100)), Pushed::Skipped);
    assert_eq!(q.dropped(), 1);
}

#[test]
fn queued_frames_come_out_before_the_end() {
    let q = queue(OverflowPolicy::KeepLatest, 1000);
    q.push(frame(0, 10));
    q.close(End::Completed);
    assert_eq!(q.push(frame(1, 10)), Pushed::Closed);
    assert_eq!(pop(&q), Some(0));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        q.poll_pop(&mut cx),
        Poll::Ready(Pop::End(End::Completed))
    ));
}

#[tokio::test(start_paused = true)]
async fn fps_limit_skips_frames_above_the_rate() {
    let limits = QueueLimits {
        high_water_mark: 1 << 20,
        policy: OverflowPolicy::KeepLatest,
        min_interval: Some(Duration::from_millis(100)),
        budget: None,
    };
    let q = ViewerQueue::new(
        limits,
        Arc::new(StatsCell::new()),
        Arc::new(Meter::new("test")),
    );
    let mut accepted = 0;
    for tag in 0..50u8 {
        if q.push(frame(tag, 10)) == Pushed::Queued {
            accepted += 1;
        }
        tokio::time::advance(Duration::from_millis(20)).await;
    }
    // 50 frames over one second at 50 fps, limited to 10 fps.
    assert_eq!(accepted, 10);
    // The newest frame skipped is held back, not dropped, until it is on time.
    assert_eq!(q.dropped(), 39);
    // One second on, the held frame (the last) is on time too.
    let mut sent: Vec<_> = std::iter::from_fn(|| pop(&q)).collect();
    assert_eq!(sent.pop(), Some(49));
    assert_eq!(sent, (0..50).step_by(5).collect::<Vec<u8>>());
    assert_eq!(q.held_until(), None);

    // A frame too early waits for its time rather than being lost.
    assert_eq!(q.push(frame(50, 10)), Pushed::Skipped);
    let held = q.held_until().expect("the newest frame is held");
    assert_eq!(pop(&q), None);
    tokio::time::advance(held - tokio::time::Instant::now()).await;
    assert_eq!(pop(&q), Some(50));
    assert_eq!(q.held_until(), None);
    assert_eq!(q.dropped(), 39);
}

#[tokio::test(start_paused = true)]
async fn a_held_frame_goes_out_before_the_end() {
    let limits = QueueLimits {
        high_water_mark: 1 << 20,
        policy: OverflowPolicy::KeepLatest,
        min_interval: Some(Duration::from_secs(1)),
        budget: None,
    };
    let q = ViewerQueue::new(
        limits,
        Arc::new(StatsCell::new()),
        Arc::new(Meter::new("test")),
    );
    assert_eq!(q.push(frame(1, 10)), Pushed::Queued);
    assert_eq!(q.push(frame(2, 10)), Pushed::Skipped);
    assert_eq!(q.push(frame(3, 10)), Pushed::Skipped);
    assert_eq!(q.dropped(), 1);
    q.close(End::Completed);
    assert_eq!(pop(&q), Some(1));
    assert_eq!(pop(&q), Some(3));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        q.poll_pop(&mut cx),
        Poll::Ready(Pop::End(End::Completed))
    ));
}

#[test]
fn tiny_and_empty_frames_are_charged_their_overhead_so_memory_stays_bounded() {
    for policy in [OverflowPolicy::KeepLatest, OverflowPolicy::DropNewest] {
        let hwm = 512 * 1024;
        let q = queue(policy, hwm);
        for n in 0..200_000u32 {
            q.push(Arc::new(SharedFrame::new(Frame::new(vec![n as u8]))));
        }
        let (_, dropped, queued) = q.counts();
        assert!(
            queued <= hwm + FRAME_OVERHEAD + 1,
            "{policy:?}: {queued} bytes queued"
        );
        let held = 200_000 - dropped;
        assert!(
            held <= (hwm / FRAME_OVERHEAD + 1) as u64,
            "{policy:?}: {held} frames held"
        );
    }
}

#[path = "proptests.rs"]
mod proptests;
