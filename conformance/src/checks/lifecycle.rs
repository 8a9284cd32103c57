//! Viewers coming and going: late joiners, disconnects, the client limit.

use std::time::{Duration, Instant};

use mjpeg_tower::server::Server;
use mjpeg_tower::{DisconnectReason, Frame, MjpegLayer};

use crate::backend::{self, Backend};
use crate::client::{CheckResult, Context, Disconnects, Outcome, get, parts, wait_until};
use crate::ensure;

pub(super) async fn late_joiner_gets_latest_frame_at_once(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    running.hub.publish(Frame::jpeg(&b"old"[..]));
    running.hub.publish(Frame::jpeg(&b"latest"[..]));
    let started = Instant::now();
    let got = parts(get(&running.url("/live")).await?, 1).await?;
    let waited = started.elapsed();
    ensure!(got[0].body == "latest", "first part {:?}", got[0].body);
    ensure!(
        waited < Duration::from_secs(1),
        "first part after {waited:?}"
    );
    Ok(Outcome::Pass(format!(
        "latest frame after {} ms, no publish needed",
        waited.as_millis()
    )))
}

pub(super) async fn disconnect_reported_once_and_count_back_to_zero(b: Backend) -> CheckResult {
    let seen = Disconnects::default();
    let layer = seen.attach(MjpegLayer::new());
    let running = backend::start(b, layer.clone(), Server::new())
        .await
        .context("start")?;
    running.hub.publish(Frame::jpeg(&b"frame"[..]));
    let res = get(&running.url("/live")).await?;
    parts(res, 1).await?; // reads one part, then drops the connection
    seen.expect_one(DisconnectReason::ClientClosed).await?;
    ensure!(layer.stats().active == 0, "active {}", layer.stats().active);
    ensure!(
        running.hub.viewers() == 0,
        "hub viewers {}",
        running.hub.viewers()
    );
    Ok(Outcome::Pass("one client-closed event, active 0".into()))
}

pub(super) async fn max_clients_gives_503(b: Backend) -> CheckResult {
    let layer = MjpegLayer::new().max_clients(Some(1));
    let running = backend::start(b, layer.clone(), Server::new())
        .await
        .context("start")?;
    let first = get(&running.url("/live")).await?;
    ensure!(first.status() == 200, "first viewer got {}", first.status());
    let second = get(&running.url("/live")).await?;
    ensure!(
        second.status() == 503,
        "second viewer got {}",
        second.status()
    );
    ensure!(
        second.headers().get("retry-after").is_some(),
        "503 without retry-after"
    );
    drop(first);
    wait_until("the slot to free", || layer.stats().active == 0).await?;
    let third = get(&running.url("/live")).await?;
    ensure!(
        third.status() == 200,
        "after the first left, got {}",
        third.status()
    );
    Ok(Outcome::Pass(
        "2nd gets 503 + Retry-After; slot frees on disconnect".into(),
    ))
}

pub(super) async fn snapshot_answers_the_latest_frame(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    running
        .hub
        .publish(Frame::jpeg(&b"\xFF\xD8 older \xFF\xD9"[..]));
    running
        .hub
        .publish(Frame::jpeg(&b"\xFF\xD8 latest \xFF\xD9"[..]));
    let res = get(&running.url("/snapshot")).await?;
    ensure!(res.status() == 200, "status {}", res.status());
    let h = res.headers().clone();
    ensure!(
        h.get("content-type").is_some_and(|v| v == "image/jpeg"),
        "content-type {:?}",
        h.get("content-type")
    );
    ensure!(
        h.get("content-length").is_some_and(|v| v == "12"),
        "content-length {:?}",
        h.get("content-length")
    );
    ensure!(
        h.get("cache-control")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("no-store"))),
        "cacheable snapshot"
    );
    let body = res.bytes().await.context("body")?;
    ensure!(
        body.as_ref() == b"\xFF\xD8 latest \xFF\xD9",
        "body {body:?}"
    );
    Ok(Outcome::Pass(
        "200 image/jpeg, exact length and bytes, not cacheable".into(),
    ))
}

pub(super) async fn stop_closes_every_stream(b: Backend) -> CheckResult {
    let seen = Disconnects::default();
    let layer = seen.attach(MjpegLayer::new());
    let running = backend::start(b, layer, Server::new())
        .await
        .context("start")?;
    running.hub.publish(Frame::jpeg(&b"frame"[..]));
    let (first, second) = (
        get(&running.url("/live")).await?,
        get(&running.url("/live")).await?,
    );
    wait_until("two viewers", || running.hub.viewers() == 2).await?;
    running.hub.stop();
    for res in [first, second] {
        let (parts, closed) = crate::client::all_parts(res).await?;
        let parts = crate::client::frames_of(parts);
        ensure!(
            closed && parts.len() == 1,
            "{} parts, closed: {closed}",
            parts.len()
        );
    }
    wait_until("both on_disconnect", || seen.seen().len() == 2).await?;
    let reasons: Vec<_> = seen.seen().into_iter().map(|(r, _)| r).collect();
    ensure!(
        reasons == [DisconnectReason::Stopped; 2],
        "reasons {reasons:?}"
    );
    let after = get(&running.url("/live")).await?;
    ensure!(
        after.status() == 503,
        "a viewer after stop got {}",
        after.status()
    );
    Ok(Outcome::Pass(
        "both streams closed with --B--, reason stopped; later viewers get 503".into(),
    ))
}
