//! Slow readers under each overflow policy: bounded memory, whole frames, counted drops.

use std::time::Duration;

use mjpeg_tower::decode::Part;
use mjpeg_tower::server::Server;
use mjpeg_tower::{DisconnectReason, Frame, MjpegLayer, OverflowPolicy};

use crate::backend::{self, BURST_FRAMES, BURST_LEN, Backend};
use crate::client::{
    CheckResult, Context, Disconnects, Outcome, all_parts, frames_of, get, silent_client,
    wait_until,
};
use crate::ensure;

const LEN: usize = 50_000;
const HWM: usize = 4 * LEN;
const PUBLISHED: u8 = 60;

/// Each part's number, failing on a torn or mixed part.
fn numbers(parts: &[Part], len: usize) -> Result<Vec<u8>, String> {
    parts
        .iter()
        .map(|p| {
            ensure!(
                p.body.len() == len,
                "torn part: {} bytes, want {len}",
                p.body.len()
            );
            ensure!(p.body.iter().all(|&x| x == p.body[0]), "part mixes frames");
            Ok(p.body[0])
        })
        .collect()
}

/// A hub viewer that reads nothing while 60 frames are published, then
/// reads everything after `stop`. Returns the numbers received, the hub's
/// dropped count and its worst queue fill.
async fn stalled_hub_viewer(
    b: Backend,
    policy: OverflowPolicy,
) -> Result<(Vec<u8>, u64, usize), String> {
    let layer = MjpegLayer::new()
        .high_water_mark(HWM)
        .overflow_policy(policy);
    let running = backend::start(b, layer, Server::new())
        .await
        .context("start")?;
    let res = get(&running.url("/live")).await?; // headers only; the body is not read yet
    wait_until("the viewer", || running.hub.viewers() == 1).await?;
    let mut worst = 0;
    for n in 0..PUBLISHED {
        ensure!(
            running.hub.publish(Frame::jpeg(vec![n; LEN])),
            "publish refused"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
        worst = worst.max(running.hub.stats().max_queued_bytes);
    }
    let dropped = running.hub.stats().dropped;
    running.hub.stop();
    let (parts, closed) = all_parts(res).await?;
    ensure!(closed, "no close delimiter after stop");
    ensure!(
        worst <= HWM + LEN,
        "{worst} bytes queued for one viewer; bound is {}",
        HWM + LEN
    );
    Ok((numbers(&frames_of(parts), LEN)?, dropped, worst))
}

fn ascending(got: &[u8]) -> Result<(), String> {
    ensure!(got.windows(2).all(|w| w[0] < w[1]), "order broken: {got:?}");
    Ok(())
}

pub(super) async fn slow_reader_keep_latest(b: Backend) -> CheckResult {
    let (got, dropped, worst) = stalled_hub_viewer(b, OverflowPolicy::KeepLatest).await?;
    ascending(&got)?;
    ensure!(dropped > 0, "nothing dropped");
    ensure!(
        got.last() == Some(&(PUBLISHED - 1)),
        "did not end on the latest frame: {got:?}"
    );
    ensure!(
        got.len() as u64 + dropped == u64::from(PUBLISHED),
        "{} got + {dropped} dropped != {PUBLISHED}",
        got.len()
    );
    Ok(Outcome::Pass(format!(
        "{} of {PUBLISHED} whole, {dropped} dropped, peak {worst} B queued",
        got.len()
    )))
}

pub(super) async fn slow_reader_drop_newest(b: Backend) -> CheckResult {
    let (got, dropped, worst) = stalled_hub_viewer(b, OverflowPolicy::DropNewest).await?;
    ascending(&got)?;
    ensure!(dropped > 0, "nothing dropped");
    // Drop newest keeps the oldest: an unbroken run from frame 0, without the
    // latest (keep latest would end on it after a gap).
    let unbroken = got.iter().enumerate().all(|(i, &n)| usize::from(n) == i);
    ensure!(unbroken, "oldest frames not kept in one run: {got:?}");
    ensure!(
        got.last() != Some(&(PUBLISHED - 1)),
        "the newest frames were kept: {got:?}"
    );
    Ok(Outcome::Pass(format!(
        "{} of {PUBLISHED} whole, {dropped} dropped, peak {worst} B queued",
        got.len()
    )))
}

pub(super) async fn slow_reader_wait(b: Backend) -> CheckResult {
    let layer = MjpegLayer::new()
        .high_water_mark(2 * BURST_LEN)
        .overflow_policy(OverflowPolicy::Wait);
    let running = backend::start(b, layer.clone(), Server::new())
        .await
        .context("start")?;
    let res = get(&running.url("/burst")).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent_while_stalled = layer.stats().frames_sent;
    ensure!(
        sent_while_stalled < BURST_FRAMES as u64 / 2,
        "the producer was not held back: {sent_while_stalled} of {BURST_FRAMES} frames out while the client read nothing"
    );
    let (parts, closed) = all_parts(res).await?;
    let got = numbers(&frames_of(parts), BURST_LEN)?;
    ensure!(
        closed && got.len() == BURST_FRAMES,
        "{} of {BURST_FRAMES} frames, closed: {closed}",
        got.len()
    );
    ascending(&got)?;
    ensure!(
        layer.stats().frames_dropped == 0,
        "{} dropped",
        layer.stats().frames_dropped
    );
    Ok(Outcome::Pass(format!(
        "all {BURST_FRAMES} delivered; {sent_while_stalled} left the layer while the client stalled"
    )))
}

pub(super) async fn slow_reader_disconnect(b: Backend) -> CheckResult {
    let seen = Disconnects::default();
    let layer = seen.attach(
        MjpegLayer::new()
            .high_water_mark(2 * LEN)
            .overflow_policy(OverflowPolicy::Disconnect),
    );
    // The stall timeout (which also reports Overflow) is kept long enough
    // that the policy's own effect can be seen first.
    let server = Server::new().write_stall_timeout(Some(Duration::from_secs(2)));
    let running = backend::start(b, layer, server).await.context("start")?;
    let _silent = silent_client(running.addr, "/live").await?;
    wait_until("the viewer", || running.hub.viewers() == 1).await?;
    let hub = running.hub.clone();
    let producer = tokio::spawn(async move {
        for n in 0..=255u8 {
            hub.publish(Frame::jpeg(vec![n; 2 * LEN]));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    // At the first overflow the policy empties and closes the viewer's queue;
    // drop newest or keep latest would hold it at the mark until the stall.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stats = running.hub.stats();
    let result = seen.expect_one(DisconnectReason::Overflow).await;
    producer.abort();
    ensure!(
        stats.dropped > 0 && stats.max_queued_bytes == 0,
        "queue not emptied by the policy before the stall timeout: {stats:?}"
    );
    result?;
    wait_until("the hub to forget the viewer", || {
        running.hub.viewers() == 0
    })
    .await?;
    Ok(Outcome::Pass(
        "queue emptied at the first overflow, connection closed, reason overflow, active 0".into(),
    ))
}
