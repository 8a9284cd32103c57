//! Real clients, not written by us: headless Chromium and ffmpeg.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderValue, header};
use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, FrameHub, Framing, MjpegLayer};

use crate::backend::{self, Backend};
use crate::client::{CheckResult, Context, Outcome};
use crate::clients::chromium::{chromium_path, run_page};
use crate::clients::ffmpeg::{ffmpeg_path, read_frames};
use crate::clients::page_server::PageServer;
use crate::clients::{Colour, LatencySummary, frame_colour, latencies, solid_jpeg, unix_ms};
use crate::ensure;

/// Frames the browser watches, and how far apart (a slow producer, so a
/// frame drawn late is a whole interval late).
const FRAMES: usize = 8;
const INTERVAL: Duration = Duration::from_millis(300);

type Published = Arc<Mutex<Vec<(u64, Colour)>>>;

/// Once a viewer is there, publishes `frames` solid-colour frames `every`
/// apart, recording when each went out.
fn produce(
    hub: &FrameHub,
    frames: usize,
    every: Duration,
) -> (Published, tokio::task::JoinHandle<()>) {
    let published = Published::default();
    let (hub, log) = (hub.clone(), published.clone());
    let task = tokio::spawn(async move {
        hub.wait_for_viewers().await;
        for n in 0..frames {
            let colour = frame_colour(n);
            let Ok(jpeg) = solid_jpeg(colour) else { return };
            if let Ok(mut log) = log.lock() {
                log.push((unix_ms(), colour));
            }
            hub.publish(Frame::jpeg(jpeg));
            tokio::time::sleep(every).await;
        }
    });
    (published, task)
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.0}"))
}

/// Chromium shows `/live` in an `<img>`; the page reports each frame drawn.
async fn chromium_draws(b: Backend, framing: Framing) -> CheckResult {
    if chromium_path().is_none() {
        return Ok(Outcome::Skip("skipped: chromium not installed".into()));
    }
    // The page comes from its own origin: let it read the image's pixels.
    let layer = MjpegLayer::new().framing(framing).header(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    let running = backend::start(b, layer, Server::new())
        .await
        .context("start")?;
    let watch = INTERVAL * FRAMES as u32 + Duration::from_secs(1);
    let mut page = PageServer::start(&running.url("/live"), watch)
        .await
        .context("page server")?;
    let (published, producer) = produce(&running.hub, FRAMES, INTERVAL);
    let url = page.url().to_owned();
    let report = run_page(&url, Duration::from_secs(30), page.report()).await;
    producer.abort();
    let report = report.context("chromium")?.context("page report")?;
    // What the page saw of the image, for any failure below.
    let seen_by_page = format!(
        "img events {:?}, final width {}, {} samples, errors {:?}",
        report.events, report.final_width, report.samples, report.errors
    );
    ensure!(report.errors.is_empty(), "page errors; {seen_by_page}");
    let published = published.lock().map(|p| p.clone()).unwrap_or_default();
    let summary = LatencySummary::of(&latencies(&published, &report.seen));
    ensure!(
        report.distinct_colours() >= 3,
        "only {} distinct frames drawn of {} published; {seen_by_page}",
        report.distinct_colours(),
        published.len()
    );
    if framing == Framing::AdvanceHeaders {
        // The reason this framing is the default: a frame is shown before the
        // next one is published, not when it arrives (Standard's one interval).
        let half = INTERVAL.as_secs_f64() * 500.0;
        ensure!(
            summary.p50.is_some_and(|p50| p50 < half),
            "frames shown late: p50 {} ms, want under {half} ms",
            ms(summary.p50)
        );
    }
    Ok(Outcome::Pass(format!(
        "{}/{} frames drawn ({} missed); publish-to-display p50 {} ms, max {} ms ({} ms apart)",
        summary.drawn,
        published.len(),
        summary.missed,
        ms(summary.p50),
        ms(summary.max),
        INTERVAL.as_millis()
    )))
}

pub(super) async fn chromium_draws_frames_advance_headers(b: Backend) -> CheckResult {
    chromium_draws(b, Framing::AdvanceHeaders).await
}

pub(super) async fn chromium_draws_frames_standard(b: Backend) -> CheckResult {
    chromium_draws(b, Framing::Standard).await
}

/// ffmpeg's mpjpeg demuxer reads `/live` and decodes five frames.
async fn ffmpeg_decodes(b: Backend, framing: Framing) -> CheckResult {
    if ffmpeg_path().is_none() {
        return Ok(Outcome::Skip("skipped: ffmpeg not installed".into()));
    }
    let running = backend::start(b, MjpegLayer::new().framing(framing), Server::new())
        .await
        .context("start")?;
    let (_, producer) = produce(&running.hub, 200, Duration::from_millis(20));
    let report = read_frames(&running.url("/live"), 5, Duration::from_secs(20)).await;
    producer.abort();
    let report = report.context("ffmpeg")?;
    ensure!(
        report.frames == 5,
        "ffmpeg decoded {} frames, want 5",
        report.frames
    );
    ensure!(report.distinct() >= 2, "all decoded frames are identical");
    Ok(Outcome::Pass(format!(
        "5 frames decoded, {} distinct, no errors",
        report.distinct()
    )))
}

pub(super) async fn ffmpeg_decodes_advance_headers(b: Backend) -> CheckResult {
    ffmpeg_decodes(b, Framing::AdvanceHeaders).await
}

pub(super) async fn ffmpeg_decodes_standard(b: Backend) -> CheckResult {
    ffmpeg_decodes(b, Framing::Standard).await
}
