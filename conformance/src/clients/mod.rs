//! Real clients driven against a live server.
//!
//! Browsers (headless Chromium, headless Firefox ESR, WebKitGTK's MiniBrowser
//! through `WebKitWebDriver`) open a viewer page that reports what it drew
//! ([`page`]); decoders (ffmpeg's `mpjpeg` demuxer, GStreamer's
//! `multipartdemux`, OpenCV's `VideoCapture`) report each decoded picture's
//! colour ([`decoded::Decoded`]). Each runs in its own process group, killed
//! whole at the end. A machine without a program reports it as not
//! installed, and the check says "skipped".
//!
//! Frames are solid colours from [`PALETTE`], far enough apart that the
//! nearest palette entry identifies a frame after lossy JPEG coding.

pub mod chromium;
pub mod decoded;
pub mod ffmpeg;
pub mod firefox;
pub mod gstreamer;
pub mod opencv;
pub mod page;
pub mod page_server;
pub(crate) mod process;
pub mod webkit;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a client run failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The program is not on this machine.
    NotInstalled(&'static str),
    /// The program could not be started (or its scratch directory made).
    Spawn(&'static str, io::Error),
    /// The program did not finish within the time given.
    TimedOut(&'static str, Duration),
    /// The program ran but its output or exit status was wrong.
    BadOutput(&'static str, String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled(p) => write!(f, "{p} is not installed"),
            Self::Spawn(p, e) => write!(f, "could not start {p}: {e}"),
            Self::TimedOut(p, d) => write!(f, "{p} timed out after {d:?}"),
            Self::BadOutput(p, detail) => write!(f, "bad output from {p}: {detail}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn(_, e) => Some(e),
            _ => None,
        }
    }
}

/// An RGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Colour {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
}

impl Colour {
    /// A colour from its components.
    pub const fn new(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }

    /// Squared distance in RGB space.
    pub fn distance2(self, other: Self) -> u32 {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).unsigned_abs().pow(2);
        d(self.r, other.r) + d(self.g, other.g) + d(self.b, other.b)
    }

    /// The index of the nearest [`PALETTE`] entry.
    pub fn nearest(self) -> usize {
        (0..PALETTE.len())
            .min_by_key(|&i| self.distance2(PALETTE[i]))
            .unwrap_or(0)
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

const LEVELS: [u8; 3] = [0, 128, 255];

/// 27 colours, every channel one of 0, 128, 255: neighbours differ by at
/// least 127 in one channel, far beyond JPEG's error on a solid colour.
pub const PALETTE: [Colour; 27] = {
    let mut out = [Colour::new(0, 0, 0); 27];
    let mut i = 0;
    while i < 27 {
        out[i] = Colour::new(LEVELS[i % 3], LEVELS[(i / 3) % 3], LEVELS[i / 9]);
        i += 1;
    }
    out
};

/// The colour of frame `n`: a palette entry, repeating every 27 frames.
/// Consecutive frames differ in red at least.
pub fn frame_colour(n: usize) -> Colour {
    PALETTE[n % PALETTE.len()]
}

/// One change of the drawn colour, as the viewer page reports it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// When the page first drew this colour (`Date.now()`, unix ms).
    pub t: f64,
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha (0: nothing drawn there, e.g. a blank image).
    #[serde(default = "opaque")]
    pub a: u8,
}

fn opaque() -> u8 {
    255
}

impl Seen {
    /// The colour drawn.
    pub fn colour(&self) -> Colour {
        Colour::new(self.r, self.g, self.b)
    }
}

/// How much earlier than its publish time a frame may be seen (clock rounding).
const SLACK_MS: f64 = 2.0;

/// Display latency of each published frame, in ms: from its publish time
/// (unix ms) to the first report of its colour, looked for before the next
/// frame of the same palette colour was published. `None`: never drawn.
pub fn latencies(published: &[(u64, Colour)], seen: &[Seen]) -> Vec<Option<f64>> {
    published
        .iter()
        .enumerate()
        .map(|(k, &(at, colour))| {
            let index = colour.nearest();
            let start = at as f64 - SLACK_MS;
            let end = published[k + 1..]
                .iter()
                .find(|(_, c)| c.nearest() == index)
                .map_or(f64::INFINITY, |&(t, _)| t as f64);
            seen.iter()
                .find(|s| s.t >= start && s.t < end && s.colour().nearest() == index)
                .map(|s| (s.t - at as f64).max(0.0))
        })
        .collect()
}

/// A summary of [`latencies`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencySummary {
    /// Frames drawn.
    pub drawn: usize,
    /// Frames never drawn.
    pub missed: usize,
    /// Median latency, ms.
    pub p50: Option<f64>,
    /// Largest latency, ms.
    pub max: Option<f64>,
}

impl LatencySummary {
    /// Summarises latencies (`None` entries count as missed).
    pub fn of(latencies: &[Option<f64>]) -> Self {
        let mut drawn: Vec<f64> = latencies.iter().flatten().copied().collect();
        drawn.sort_by(f64::total_cmp);
        Self {
            drawn: drawn.len(),
            missed: latencies.len() - drawn.len(),
            p50: drawn.get(drawn.len().saturating_sub(1) / 2).copied(),
            max: drawn.last().copied(),
        }
    }
}

/// The first path of `name` on `PATH`, or `preferred` if that file exists.
pub(crate) fn find_program(preferred: &str, name: &str) -> Option<PathBuf> {
    let preferred = PathBuf::from(preferred);
    if preferred.is_file() {
        return Some(preferred);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Unix time in milliseconds: the clock the page's `Date.now()` also reads.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A solid-colour 64x48 JPEG: its centre pixel tells which frame is drawn.
///
/// # Errors
/// If the encoder fails (it does not for these sizes).
pub fn solid_jpeg(colour: Colour) -> Result<Vec<u8>, ClientError> {
    solid_jpeg_sized(colour, 64, 48)
}

/// A solid-colour `w` x `h` JPEG.
///
/// # Errors
/// If the encoder fails (e.g. a zero size).
pub fn solid_jpeg_sized(colour: Colour, w: u16, h: u16) -> Result<Vec<u8>, ClientError> {
    let pixels: Vec<u8> = (0..usize::from(w) * usize::from(h))
        .flat_map(|_| [colour.r, colour.g, colour.b])
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| ClientError::BadOutput("jpeg-encoder", e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_is_distinct_and_far_apart() {
        for (i, a) in PALETTE.iter().enumerate() {
            assert_eq!(a.nearest(), i);
            for b in &PALETTE[i + 1..] {
                assert!(a.distance2(*b) >= 127 * 127);
            }
        }
        let noisy = Colour::new(250, 6, 131);
        assert_eq!(PALETTE[noisy.nearest()], Colour::new(255, 0, 128));
    }

    #[test]
    fn latencies_match_first_sighting_in_window() {
        let (a, b) = (frame_colour(0), frame_colour(1));
        let published = [(1000, a), (1500, b), (2000, a), (2500, b)];
        let seen = |t: f64, c: Colour| Seen {
            t,
            r: c.r,
            g: c.g,
            b: c.b,
            a: 255,
        };
        // frame 3 (b at 2500) is never drawn again after 1510.
        let seen = [seen(1020.0, a), seen(1510.0, b), seen(2400.0, a)];
        let got = latencies(&published, &seen);
        assert_eq!(got, [Some(20.0), Some(10.0), Some(400.0), None]);
        let s = LatencySummary::of(&got);
        assert_eq!(
            (s.drawn, s.missed, s.p50, s.max),
            (3, 1, Some(20.0), Some(400.0))
        );
    }
}
