//! Running one cell: the scenario on a backend (or the URL as served), one
//! client watching it.

use std::time::Duration;

use mjpeg_tower::Framing;
use mjpeg_tower::server::Server;

use crate::Target;
use crate::backend;
use crate::client::Context;
use crate::clients::decoded::Decoded;
use crate::clients::page::{PageOptions, PageReport};
use crate::clients::page_server::PageServer;
use crate::clients::{ClientError, Colour, chromium, ffmpeg, firefox, gstreamer, opencv, webkit};

use super::scenario::{Published, produce};
use super::{Cell, Client, Scenario};

/// What the client reported.
#[derive(Debug)]
pub(super) enum Observed {
    /// A browser's viewer page.
    Page(PageReport),
    /// A decoder's pictures.
    Decoded(Decoded),
}

/// Start-up allowance on top of the watching time.
const STARTUP: Duration = Duration::from_secs(12);

/// Serves the scenario (or uses the URL), lets the cell's client watch, and
/// returns what it saw and what was published when.
pub(super) async fn watch(
    target: &Target,
    cell: Cell,
) -> Result<(Observed, Vec<(u64, Colour)>), String> {
    match target {
        Target::Url(url) => Ok((look(cell.client, cell.scenario, url).await?, Vec::new())),
        Target::Backend(b) => {
            let framing = cell.framing.unwrap_or(Framing::AdvanceHeaders);
            let layer = cell.scenario.layer(framing)?;
            let running = backend::start(*b, layer, Server::new())
                .await
                .context("start")?;
            let frames = cell.scenario.frames().context("frames")?;
            let url = running.url(cell.scenario.path());
            let (observed, published) = if cell.scenario.path() == "/play" {
                let colours: Vec<Colour> = frames.iter().map(|f| f.2).collect();
                running
                    .script
                    .set(frames.into_iter().map(|(d, f, _)| (d, f)).collect());
                let observed = look(cell.client, cell.scenario, &url).await;
                let played = running.script.played();
                (observed, played.into_iter().zip(colours).collect())
            } else {
                let (published, producer): (Published, _) = produce(&running.hub, frames);
                let observed = look(cell.client, cell.scenario, &url).await;
                producer.abort();
                let published = published.lock().map(|p| p.clone()).unwrap_or_default();
                (observed, published)
            };
            Ok((observed?, published))
        }
    }
}

async fn look(client: Client, scenario: Scenario, url: &str) -> Result<Observed, String> {
    let name = client.name();
    if client.is_browser() {
        let mut options = PageOptions::new(url, scenario.watch());
        options.streams = scenario.streams();
        options.https = scenario.https();
        let mut page = PageServer::with_options(&options)
            .await
            .context("page server")?;
        let page_url = page.url().to_owned();
        let ca = page.ca_pem().map(str::to_owned);
        let timeout = scenario.watch() + STARTUP;
        let report = match client {
            Client::Chromium => chromium::run_page(&page_url, timeout, page.report()).await,
            Client::Firefox => {
                firefox::run_page_trusting(&page_url, ca.as_deref(), timeout, page.report()).await
            }
            _ => webkit::run_page(&page_url, timeout, page.report()).await,
        };
        let report = report.context(name)?.context("page report")?;
        return Ok(Observed::Page(report));
    }
    let n = scenario.decode_count();
    let timeout = scenario.watch() + Duration::from_secs(8);
    let decoded: Result<Decoded, ClientError> = match client {
        Client::Ffmpeg => ffmpeg::decode(url, n, timeout).await,
        Client::GStreamer => gstreamer::decode(url, n, timeout).await,
        _ => opencv::decode(url, n, timeout).await,
    };
    Ok(Observed::Decoded(decoded.context(name)?))
}
