//! The client matrix: every real client x every scenario x each framing.
//!
//! A cell starts the scenario on one backend (the wire check
//! `backends_send_identical_bytes` proves the three send the same bytes),
//! lets one client watch it, and judges what the client drew or decoded
//! (`judge.rs`). Against `--url` there is one scenario, the stream as served.

mod judge;
mod observe;
mod scenario;

use std::fmt;
use std::time::{Duration, Instant};

use mjpeg_tower::Framing;

use crate::Target;
use crate::client::{CheckResult, Outcome};
use crate::clients::{Colour, chromium, ffmpeg, firefox, gstreamer, opencv, webkit};

pub use scenario::Scenario;

/// A real client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    /// Headless Chromium.
    Chromium,
    /// Headless Firefox ESR.
    Firefox,
    /// WebKitGTK's MiniBrowser through `WebKitWebDriver` under Xvfb.
    WebKit,
    /// ffmpeg's `mpjpeg` demuxer.
    Ffmpeg,
    /// GStreamer's `souphttpsrc ! multipartdemux ! jpegdec`.
    GStreamer,
    /// OpenCV's `VideoCapture` with the FFmpeg backend.
    OpenCv,
}

impl Client {
    /// Every client, in report order.
    pub const ALL: [Client; 6] = [
        Client::Chromium,
        Client::Firefox,
        Client::WebKit,
        Client::Ffmpeg,
        Client::GStreamer,
        Client::OpenCv,
    ];

    /// Its name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Client::Chromium => "chromium",
            Client::Firefox => "firefox",
            Client::WebKit => "webkit",
            Client::Ffmpeg => "ffmpeg",
            Client::GStreamer => "gstreamer",
            Client::OpenCv => "opencv",
        }
    }

    /// Whether it is a browser (it draws a page) rather than a decoder.
    pub fn is_browser(self) -> bool {
        matches!(self, Client::Chromium | Client::Firefox | Client::WebKit)
    }

    /// Why it cannot run here, if it cannot.
    pub fn missing(self) -> Option<String> {
        let absent = |what: &str| Some(format!("{what} not installed"));
        match self {
            Client::Chromium => chromium::chromium_path()
                .is_none()
                .then(|| absent("chromium"))
                .flatten(),
            Client::Firefox => firefox::firefox_path()
                .is_none()
                .then(|| absent("firefox-esr"))
                .flatten(),
            Client::WebKit => webkit::missing().map(str::to_owned),
            Client::Ffmpeg => ffmpeg::ffmpeg_path()
                .is_none()
                .then(|| absent("ffmpeg"))
                .flatten(),
            Client::GStreamer => gstreamer::gst_path()
                .is_none()
                .then(|| absent("gst-launch-1.0 (gstreamer1.0-tools)"))
                .flatten(),
            Client::OpenCv => opencv::python_path()
                .is_none()
                .then(|| absent("python3 with cv2 (python3-opencv)"))
                .flatten(),
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One cell: a client watching a scenario in a framing (`None`: as served
/// by a server that is not ours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Who watches.
    pub client: Client,
    /// What it watches.
    pub scenario: Scenario,
    /// How our server frames it.
    pub framing: Option<Framing>,
}

impl Cell {
    /// `scenario/framing`, the row label.
    pub fn row(&self) -> String {
        format!("{}/{}", self.scenario.name(), framing_name(self.framing))
    }
}

/// `advance`, `standard`, or `served`.
pub fn framing_name(framing: Option<Framing>) -> &'static str {
    match framing {
        Some(Framing::Standard) => "standard",
        Some(_) => "advance",
        None => "served",
    }
}

/// What a cell leaves for the report besides its verdict.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// A browser's image at the end, as a `data:` URL.
    pub thumbnail: Option<String>,
    /// A decoder's pictures, in order (solid colours: the colour is the picture).
    pub decoded: Vec<Colour>,
    /// Publish-to-display (or -decode) latency of each published frame, ms.
    pub latencies: Vec<Option<f64>>,
}

/// A cell's result.
#[derive(Clone, Debug)]
pub struct CellReport {
    /// The cell.
    pub cell: Cell,
    /// Pass, skip or fail (`Err`) with detail.
    pub result: CheckResult,
    /// Thumbnails and latencies.
    pub evidence: Evidence,
    /// How long it took.
    pub elapsed: Duration,
}

/// How long one cell may take, client start-up included.
const CELL_TIMEOUT: Duration = Duration::from_secs(60);

/// Every cell for `target`: each client x each scenario x both framings on
/// our backends, each client x the served stream for a URL.
pub fn cells(target: &Target, clients: &[Client]) -> Vec<Cell> {
    let mut out = Vec::new();
    match target {
        Target::Backend(_) => {
            for scenario in Scenario::ALL {
                for &framing in scenario.framings() {
                    for &client in clients {
                        out.push(Cell {
                            client,
                            scenario,
                            framing: Some(framing),
                        });
                    }
                }
            }
        }
        Target::Url(_) => {
            for &client in clients {
                out.push(Cell {
                    client,
                    scenario: Scenario::AsServed,
                    framing: None,
                });
            }
        }
    }
    out
}

/// Runs `cells` one after another against `target`; `require_clients` turns
/// a missing client into a failure.
pub async fn run(target: &Target, cells: &[Cell], require_clients: bool) -> Vec<CellReport> {
    let mut reports = Vec::new();
    for &cell in cells {
        let started = Instant::now();
        let task = tokio::spawn(run_cell(target.clone(), cell));
        let (result, evidence) = match tokio::time::timeout(CELL_TIMEOUT, task).await {
            Ok(Ok(done)) => done,
            Ok(Err(panicked)) => (
                Err(format!("cell panicked: {panicked}")),
                Evidence::default(),
            ),
            Err(_) => (
                Err(format!("did not finish within {CELL_TIMEOUT:?}")),
                Evidence::default(),
            ),
        };
        let result = match result {
            Ok(Outcome::Skip(why)) if require_clients => Err(format!("{why} (--require-clients)")),
            result => result,
        };
        let report = CellReport {
            cell,
            result,
            evidence,
            elapsed: started.elapsed(),
        };
        eprintln!(
            "  {:<9} {:<28} {} ({} ms)",
            cell.client.name(),
            cell.row(),
            status(&report.result),
            report.elapsed.as_millis()
        );
        reports.push(report);
    }
    reports
}

fn status(result: &CheckResult) -> &'static str {
    match result {
        Ok(Outcome::Pass(_)) => "pass",
        Ok(_) => "skip",
        Err(_) => "FAIL",
    }
}

async fn run_cell(target: Target, cell: Cell) -> (CheckResult, Evidence) {
    if let Some(why) = cell.client.missing() {
        return (
            Ok(Outcome::Skip(format!("skipped: {why}"))),
            Evidence::default(),
        );
    }
    if let Some(why) = cell.scenario.not_for(cell.client) {
        return (Ok(Outcome::NotApplicable(why.into())), Evidence::default());
    }
    let (observed, published) = match observe::watch(&target, cell).await {
        Ok(seen) => seen,
        Err(e) => return (judge::annotate(cell, Err(e)), Evidence::default()),
    };
    judge::judge(cell, &observed, &published)
}
