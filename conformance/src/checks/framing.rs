//! The wire: payloads, lengths, the close delimiter, errors, heartbeats, HTTP/2.

use std::time::Duration;

use mjpeg_tower::server::Server;
use mjpeg_tower::{DisconnectReason, Frame, Framing, MjpegLayer};

use crate::backend::{self, Backend, finite_frames};
use crate::client::{
    CheckResult, Context, Disconnects, Outcome, all_parts, frames_of, get, parts, whole,
};
use crate::ensure;

pub(super) async fn payload_bytes_and_order_exact(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    let (got, _) = all_parts(get(&running.url("/finite")).await?).await?;
    let got = frames_of(got);
    let want = finite_frames();
    ensure!(
        got.len() == want.len(),
        "{} parts, want {}",
        got.len(),
        want.len()
    );
    for (n, (part, frame)) in got.iter().zip(&want).enumerate() {
        ensure!(
            part.body == frame.data(),
            "part {n}: {} bytes differ from the frame",
            part.body.len()
        );
    }
    Ok(Outcome::Pass(format!(
        "{} parts, byte-exact, in order",
        got.len()
    )))
}

pub(super) async fn content_length_exact_per_part(b: Backend) -> CheckResult {
    let layer = MjpegLayer::new().framing(Framing::Standard);
    let running = backend::start(b, layer, Server::new())
        .await
        .context("start")?;
    let (got, _) = all_parts(get(&running.url("/finite")).await?).await?;
    let got = frames_of(got);
    ensure!(
        got.len() == finite_frames().len(),
        "{} parts, want {}",
        got.len(),
        finite_frames().len()
    );
    for (n, part) in got.iter().enumerate() {
        ensure!(
            part.content_length() == Some(part.body.len()),
            "part {n}: content-length {:?} for {} bytes",
            part.content_length(),
            part.body.len()
        );
    }
    Ok(Outcome::Pass(format!(
        "{} parts, strict parse (Standard framing)",
        got.len()
    )))
}

pub(super) async fn close_delimiter_on_finite_end(b: Backend) -> CheckResult {
    let seen = Disconnects::default();
    let running = backend::start(b, seen.attach(MjpegLayer::new()), Server::new())
        .await
        .context("start")?;
    let (got, closed) = all_parts(get(&running.url("/finite")).await?).await?;
    ensure!(closed, "no close delimiter");
    let n = finite_frames().len();
    ensure!(
        got.len() == n + 1 && got[n].body == got[n - 1].body,
        "{} parts; want the {n} frames, then the last again (the part announced after it, never empty)",
        got.len()
    );
    seen.expect_one(DisconnectReason::Completed).await?;
    Ok(Outcome::Pass(
        "the last frame again, --B--, a clean end; reason completed".into(),
    ))
}

pub(super) async fn producer_error_ends_cleanly(b: Backend) -> CheckResult {
    let seen = Disconnects::default();
    let running = backend::start(b, seen.attach(MjpegLayer::new()), Server::new())
        .await
        .context("start")?;
    let (got, closed) = all_parts(get(&running.url("/error")).await?).await?;
    let got = frames_of(got);
    ensure!(
        got.len() == 2 && closed,
        "{} parts, closed: {closed}",
        got.len()
    );
    seen.expect_one(DisconnectReason::ProducerError).await?;
    Ok(Outcome::Pass(
        "2 parts, close delimiter, reason producer-error".into(),
    ))
}

pub(super) async fn heartbeat_resends_when_idle(b: Backend) -> CheckResult {
    let layer = MjpegLayer::new().heartbeat(Some(Duration::from_millis(200)));
    let running = backend::start(b, layer, Server::new())
        .await
        .context("start")?;
    running
        .hub
        .publish(Frame::jpeg(&b"\xFF\xD8 the only frame \xFF\xD9"[..]));
    let got = parts(get(&running.url("/live")).await?, 3).await?;
    ensure!(
        got.iter().all(|p| p.body == got[0].body),
        "heartbeat sent a different frame"
    );
    Ok(Outcome::Pass(
        "latest frame re-sent twice while the producer was idle".into(),
    ))
}

pub(super) async fn http2_h2c_stream_valid(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .context("client")?;
    let res = client
        .get(running.url("/finite"))
        .send()
        .await
        .context("GET over h2c")?;
    ensure!(
        res.version() == reqwest::Version::HTTP_2,
        "version {:?}",
        res.version()
    );
    for name in ["connection", "keep-alive", "transfer-encoding", "upgrade"] {
        ensure!(
            res.headers().get(name).is_none(),
            "hop-by-hop {name} over HTTP/2"
        );
    }
    let (got, closed) = all_parts(res).await?;
    let got = frames_of(got);
    ensure!(
        got.len() == finite_frames().len() && closed,
        "{} parts, closed: {closed}",
        got.len()
    );
    Ok(Outcome::Pass(
        "HTTP/2 prior knowledge, no hop-by-hop, all parts".into(),
    ))
}

/// With `AdvanceHeaders`, a frame with its own part headers cannot use the
/// header block sent ahead. Whatever the layer does instead, it must not
/// close that block as an empty part: Chromium commits it as a broken image.
pub(super) async fn no_empty_part_before_own_headers(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    let stamp = http::HeaderName::from_static("x-timestamp");
    running.script.set(
        (0..3u8)
            .map(|n| {
                let frame = Frame::jpeg(vec![n; 100])
                    .with_header(stamp.clone(), http::HeaderValue::from(u16::from(n)));
                (Duration::ZERO, frame)
            })
            .collect(),
    );
    let got = whole(get(&running.url("/play")).await?).await?;
    // Three frames, the last one again at the end (never an empty part).
    ensure!(
        got.parts.len() == 4 && got.closed,
        "{} parts, closed: {}",
        got.parts.len(),
        got.closed
    );
    ensure!(
        got.parts
            .iter()
            .all(|p| p.headers.contains_key("x-timestamp")),
        "a part lost its own header"
    );
    ensure!(
        got.empty == 0,
        "{} empty part(s) on the wire for 3 frames with their own headers (AdvanceHeaders)",
        got.empty
    );
    Ok(Outcome::Pass(
        "3 frames with own headers, no empty part (AdvanceHeaders)".into(),
    ))
}

/// A finite stream must end on its last frame: a part opened (a header
/// block sent ahead, or a bare delimiter) and then closed by the close
/// delimiter is an empty last part, and WebKit then shows a blank image.
pub(super) async fn no_empty_part_at_finite_end(b: Backend) -> CheckResult {
    for framing in [Framing::AdvanceHeaders, Framing::Standard] {
        let layer = MjpegLayer::new()
            .framing(framing)
            .boundary("B")
            .context("boundary")?;
        let running = backend::start(b, layer, Server::new())
            .await
            .context("start")?;
        let got = whole(get(&running.url("/finite")).await?).await?;
        // The frames, then the last again, filling the part left open.
        ensure!(
            got.parts.len() == finite_frames().len() + 1 && got.closed,
            "{framing:?}: {} parts, closed: {}",
            got.parts.len(),
            got.closed
        );
        ensure!(
            got.empty == 0,
            "{framing:?}: {} empty part(s) on the wire",
            got.empty
        );
        let last = crate::client::last_part_body(&got.body, "B").ok_or("no close delimiter")?;
        let want = finite_frames()
            .last()
            .map(|f| f.data().clone())
            .unwrap_or_default();
        let tail =
            String::from_utf8_lossy(&got.body[got.body.len().saturating_sub(40)..]).into_owned();
        ensure!(
            last == want.as_ref(),
            "{framing:?}: the part before the close delimiter has {} bytes, not the last frame's {} (ends {tail:?})",
            last.len(),
            want.len()
        );
    }
    Ok(Outcome::Pass(
        "both framings end on the last frame, then --B--".into(),
    ))
}
