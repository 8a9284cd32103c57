//! The memory budget across viewers, on real sockets: each of its three
//! steps (shed the viewers with most queued, refuse new viewers, disconnect
//! the slowest), and the count of queued bytes returning to zero.
#![allow(clippy::unwrap_used)] // tests fail loudly

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use mjpeg_tower::server::Server;
use mjpeg_tower::{DisconnectReason, Frame, FrameHub, MjpegLayer, Stats};
use support::{RawClient, Recorder, wait_until};

const FRAME_LEN: usize = 100_000;
const BUDGET: usize = 1_000_000;

/// A 100 KB frame whose payload bytes are all `n` (never 0xFF).
fn frame(n: u8) -> Frame {
    let mut data = vec![0xFF, 0xD8];
    data.resize(FRAME_LEN - 2, n);
    data.extend_from_slice(&[0xFF, 0xD9]);
    Frame::jpeg(data)
}

/// The frame numbers in a body, in order.
fn numbers(body: &[u8]) -> Vec<u8> {
    body.windows(3)
        .filter(|w| w[0] == 0xFF && w[1] == 0xD8)
        .map(|w| w[2])
        .collect()
}

/// A hub behind a layer with a 1 MB budget, served without a stall timeout
/// (stalled viewers stay); `stalled` viewers that read only the head.
async fn setup(
    rec: &Recorder,
    stalled: usize,
) -> (FrameHub, MjpegLayer, SocketAddr, Vec<RawClient>) {
    let hub = FrameHub::new();
    let layer = rec.attach(
        MjpegLayer::new()
            .high_water_mark(450_000)
            .memory_budget(Some(BUDGET)),
    );
    let h = hub.clone();
    let server = Server::new().write_stall_timeout(None);
    let addr = support::serve(layer.clone(), server, move |_| {
        h.subscribe().into_http_response()
    })
    .await;
    let mut clients = Vec::new();
    for _ in 0..stalled {
        clients.push(RawClient::get(addr, "/").await);
    }
    wait_until(|| hub.viewers() == stalled).await;
    (hub, layer, addr, clients)
}

/// Publishes frames `0..n`, 5 ms apart; returns the most bytes queued seen.
async fn publish(hub: &FrameHub, layer: &MjpegLayer, n: u8) -> usize {
    let mut worst = 0;
    for i in 0..n {
        hub.publish(frame(i));
        tokio::time::sleep(Duration::from_millis(5)).await;
        worst = worst.max(layer.stats().queued_bytes);
    }
    worst
}

fn steps(stats: &Stats) -> (bool, bool, bool) {
    (
        stats.budget_shed > 0,
        stats.budget_refused > 0,
        stats.budget_disconnects > 0,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_the_viewers_with_most_queued_are_shed_while_a_fast_viewer_gets_everything() {
    let rec = Recorder::default();
    let (hub, layer, addr, stalled) = setup(&rec, 3).await;
    let fast = tokio::spawn(async move {
        let mut client = RawClient::get(addr, "/").await;
        client.read_body_until(|_| false).await;
        numbers(client.body())
    });
    wait_until(|| hub.viewers() == 4).await;

    let worst = publish(&hub, &layer, 40).await;
    let stats = layer.stats();
    assert_eq!(steps(&stats), (true, false, false), "{stats:?}");
    assert!(worst <= BUDGET + FRAME_LEN + 1024, "{worst} bytes queued");

    hub.stop();
    let got: BTreeSet<u8> = fast.await.unwrap().into_iter().collect();
    assert_eq!(got, (0..40).collect(), "the fast viewer lost frames");
    drop(stalled);
    wait_until(|| layer.stats().active == 0).await;
    assert_eq!(layer.stats().queued_bytes, 0, "queued bytes are given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn then_new_viewers_are_refused_with_retry_after() {
    let rec = Recorder::default();
    let (hub, layer, addr, _stalled) = setup(&rec, 12).await;
    publish(&hub, &layer, 30).await;
    wait_until(|| layer.stats().queued_bytes >= BUDGET).await;

    let refused = RawClient::get(addr, "/").await;
    assert_eq!(refused.status(), 503, "{}", refused.head);
    assert!(refused.header("retry-after").is_some(), "{}", refused.head);
    let stats = layer.stats();
    assert_eq!(steps(&stats), (true, true, false), "{stats:?}");
    assert_eq!(stats.active, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn then_the_slowest_are_disconnected_with_reason_memory_budget() {
    let rec = Recorder::default();
    let (hub, layer, _addr, stalled) = setup(&rec, 18).await;
    publish(&hub, &layer, 30).await;
    let stats = layer.stats();
    assert!(stats.budget_disconnects > 0, "{stats:?}");
    // A frame still goes into an empty queue (its viewer may be fast), so
    // the total may pass 1.5x the budget for a moment; the next frame
    // disconnects those still holding it.
    let far = BUDGET + BUDGET / 2 + FRAME_LEN + 1024;
    assert!(stats.queued_bytes <= far, "{stats:?}");
    // Their memory is free at once; their connections close when the
    // server's write-stall timeout fires (off here) or the clients leave.
    drop(stalled);
    let disconnects = rec.wait_disconnects(18).await;
    let by_budget = disconnects
        .iter()
        .filter(|e| {
            e.reason()
                .is_some_and(|(r, _)| r == DisconnectReason::MemoryBudget)
        })
        .count();
    assert_eq!(
        by_budget as u64, stats.budget_disconnects,
        "{disconnects:?}"
    );
    assert_eq!(layer.stats().queued_bytes, 0);
}
