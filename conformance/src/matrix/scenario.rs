//! The scenarios: what the server sends, and how long a client watches.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use mjpeg_tower::{Frame, FrameHub, Framing, MjpegLayer};

use crate::clients::{ClientError, Colour, frame_colour, solid_jpeg, solid_jpeg_sized, unix_ms};

use super::Client;

/// A scenario of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// A hub at 30 fps.
    Live,
    /// A frame every 2 s: is the newest one shown, and how late.
    Slow,
    /// One frame, then nothing; a 500 ms heartbeat re-sends it.
    Heartbeat,
    /// A per-request stream of four frames, then the close delimiter: is
    /// the last frame still shown at the end.
    Finite,
    /// The same with `repeat_final_frame` (Safari's final-frame delay).
    FiniteRepeat,
    /// Every frame with its own part header (a timestamp), as cameras send.
    PartHeaders,
    /// 2 MB frames.
    Large,
    /// 1x1 pixel frames (a few hundred bytes) at 30 fps.
    Small,
    /// Frames whose payload contains the delimiter (in a JPEG comment).
    Delimiter,
    /// A page with sixteen images of the stream from one origin over
    /// HTTP/1.1: the browser draws as many as it opens connections.
    SixteenStreams,
    /// The same page over HTTPS, where the images share one HTTP/2 connection.
    SixteenStreamsHttps,
    /// Whatever a server that is not ours sends (`--url`).
    AsServed,
}

/// The boundary of the `Delimiter` scenario, also written into its payloads.
pub(super) const DELIMITER_BOUNDARY: &str = "scenario-delimiter";

impl Scenario {
    /// Every scenario run on our backends, in report order.
    pub const ALL: [Scenario; 11] = [
        Scenario::Live,
        Scenario::Slow,
        Scenario::Heartbeat,
        Scenario::Finite,
        Scenario::FiniteRepeat,
        Scenario::PartHeaders,
        Scenario::Large,
        Scenario::Small,
        Scenario::Delimiter,
        Scenario::SixteenStreams,
        Scenario::SixteenStreamsHttps,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Live => "live-30fps",
            Scenario::Slow => "slow-2s",
            Scenario::Heartbeat => "static-heartbeat",
            Scenario::Finite => "finite-end",
            Scenario::FiniteRepeat => "finite-repeat-last",
            Scenario::PartHeaders => "part-headers",
            Scenario::Large => "large-2MB",
            Scenario::Small => "small-1px",
            Scenario::Delimiter => "delimiter-in-payload",
            Scenario::SixteenStreams => "sixteen-streams",
            Scenario::SixteenStreamsHttps => "sixteen-streams-https",
            Scenario::AsServed => "as-served",
        }
    }

    /// Why `client` cannot run this scenario, if it cannot.
    pub fn not_for(self, client: Client) -> Option<&'static str> {
        match self {
            Scenario::SixteenStreams | Scenario::SixteenStreamsHttps if !client.is_browser() => {
                Some(
                    "a decoder opens one stream per process; the per-origin connection limit is a browser's",
                )
            }
            Scenario::SixteenStreamsHttps if client == Client::WebKit => Some(
                "HTTPS is checked in Chromium and Firefox (run-time budget); WebKit's HTTP/1.1 limit is in sixteen-streams",
            ),
            _ => None,
        }
    }

    /// The layer for this scenario in `framing`.
    pub(super) fn layer(self, framing: Framing) -> Result<MjpegLayer, String> {
        // The viewer page comes from another origin: let it read the pixels.
        let mut layer = MjpegLayer::new().framing(framing).header(
            http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        match self {
            Scenario::Heartbeat => layer = layer.heartbeat(Some(Duration::from_millis(500))),
            Scenario::FiniteRepeat => layer = layer.repeat_final_frame(true),
            Scenario::Delimiter => {
                layer = layer
                    .boundary(DELIMITER_BOUNDARY)
                    .map_err(|e| format!("boundary: {e}"))?;
            }
            _ => {}
        }
        Ok(layer)
    }

    /// The path clients watch: `/play` (a per-request stream) or `/live`.
    pub(super) fn path(self) -> &'static str {
        match self {
            Scenario::Finite | Scenario::FiniteRepeat => "/play",
            _ => "/live",
        }
    }

    /// Images on the viewer page.
    pub(super) fn streams(self) -> usize {
        match self {
            Scenario::SixteenStreams | Scenario::SixteenStreamsHttps => 16,
            _ => 1,
        }
    }

    /// Whether the viewer page is served over HTTPS (HTTP/2 by ALPN).
    pub(super) fn https(self) -> bool {
        self == Scenario::SixteenStreamsHttps
    }

    /// The framings it runs in: HTTPS in one only (HTTP/2 carries both
    /// alike; the run-time budget), the others in both.
    pub(super) fn framings(self) -> &'static [Framing] {
        match self {
            Scenario::SixteenStreamsHttps => &[Framing::AdvanceHeaders],
            _ => &[Framing::AdvanceHeaders, Framing::Standard],
        }
    }

    /// The frames, each with the pause before it and its colour.
    pub(super) fn frames(self) -> Result<Vec<(Duration, Frame, Colour)>, ClientError> {
        let ms = Duration::from_millis;
        let plain = |n: usize, every: Duration| -> Result<_, ClientError> {
            (0..n)
                .map(|i| {
                    let c = frame_colour(i);
                    Ok((every, Frame::jpeg(solid_jpeg(c)?), c))
                })
                .collect()
        };
        match self {
            Scenario::Live | Scenario::AsServed => plain(90, ms(33)),
            Scenario::Slow => plain(3, ms(2000)),
            Scenario::Heartbeat => plain(1, ms(0)),
            Scenario::Finite | Scenario::FiniteRepeat => plain(4, ms(250)),
            Scenario::SixteenStreams | Scenario::SixteenStreamsHttps => plain(40, ms(100)),
            Scenario::PartHeaders => {
                let stamp = HeaderName::from_static("x-timestamp");
                plain(16, ms(150))?
                    .into_iter()
                    .enumerate()
                    .map(|(i, (d, f, c))| {
                        let value = HeaderValue::from(1_700_000_000_000u64 + i as u64 * 150);
                        Ok((d, f.with_header(stamp.clone(), value), c))
                    })
                    .collect()
            }
            Scenario::Large => (0..6)
                .map(|i| {
                    let c = frame_colour(i);
                    let jpeg = with_comments(&solid_jpeg(c)?, &[], 2_000_000);
                    Ok((ms(400), Frame::jpeg(jpeg), c))
                })
                .collect(),
            Scenario::Small => (0..45)
                .map(|i| {
                    let c = frame_colour(i);
                    Ok((ms(33), Frame::jpeg(solid_jpeg_sized(c, 1, 1)?), c))
                })
                .collect(),
            Scenario::Delimiter => {
                // Every other frame carries the delimiter line: those are
                // never sent (a browser would cut them there), the rest are.
                let line = format!("\r\n--{DELIMITER_BOUNDARY}\r\n");
                (0..12)
                    .map(|i| {
                        let c = frame_colour(i);
                        let text = if i % 2 == 1 { line.as_bytes() } else { &[][..] };
                        let jpeg = with_comments(&solid_jpeg(c)?, text, 0);
                        Ok((ms(200), Frame::jpeg(jpeg), c))
                    })
                    .collect()
            }
        }
    }

    /// How long a browser watches.
    pub(super) fn watch(self) -> Duration {
        let ms = Duration::from_millis;
        match self {
            Scenario::Live => ms(2000),
            Scenario::Slow => ms(5000),
            Scenario::Heartbeat => ms(2500),
            Scenario::Finite | Scenario::FiniteRepeat => ms(2500),
            Scenario::PartHeaders => ms(2000),
            Scenario::Large => ms(2500),
            Scenario::Small => ms(1500),
            Scenario::Delimiter => ms(2000),
            Scenario::SixteenStreams | Scenario::SixteenStreamsHttps => ms(3000),
            Scenario::AsServed => ms(4000),
        }
    }

    /// How many pictures a decoder reads (it stops there, or at the end of a
    /// finite stream, or at the deadline).
    pub(super) fn decode_count(self) -> usize {
        match self {
            Scenario::Live => 30,
            Scenario::Slow => 3,
            Scenario::Heartbeat => 4,
            Scenario::Finite | Scenario::FiniteRepeat => 100,
            Scenario::PartHeaders => 8,
            Scenario::Large => 4,
            Scenario::Small => 20,
            // Six of the twelve are sent; ffmpeg holds the newest back (see Framing).
            Scenario::Delimiter => 3,
            Scenario::SixteenStreams | Scenario::SixteenStreamsHttps | Scenario::AsServed => 5,
        }
    }
}

/// JPEG `jpeg` with COM segments right after SOI: `text` in the first, and
/// filler comments until the file has about `total` bytes. Every client
/// skips comments, so the picture is unchanged.
pub(super) fn with_comments(jpeg: &[u8], text: &[u8], total: usize) -> Vec<u8> {
    const MAX: usize = 65_533;
    let mut out = Vec::with_capacity(total.max(jpeg.len() + text.len() + 8));
    out.extend_from_slice(&jpeg[..2]);
    let comment = |body: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(body);
    };
    if !text.is_empty() {
        comment(&text[..text.len().min(MAX)], &mut out);
    }
    let filler = vec![b'x'; MAX];
    while out.len() + jpeg.len() + 4 < total {
        let n = (total - out.len() - jpeg.len() - 4).min(MAX);
        comment(&filler[..n], &mut out);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// When each frame went out (unix ms) and its colour.
pub(super) type Published = Arc<Mutex<Vec<(u64, Colour)>>>;

/// Once a viewer is there, publishes `frames` into `hub`, recording when.
pub(super) fn produce(
    hub: &FrameHub,
    frames: Vec<(Duration, Frame, Colour)>,
) -> (Published, tokio::task::JoinHandle<()>) {
    let published = Published::default();
    let (hub, log) = (hub.clone(), published.clone());
    let task = tokio::spawn(async move {
        hub.wait_for_viewers().await;
        for (n, (pause, frame, colour)) in frames.into_iter().enumerate() {
            if n > 0 {
                tokio::time::sleep(pause).await;
            }
            if let Ok(mut log) = log.lock() {
                log.push((unix_ms(), colour));
            }
            hub.publish(frame);
        }
    });
    (published, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_pad_and_carry_text_without_touching_the_picture() {
        let jpeg = solid_jpeg(frame_colour(1)).expect("jpeg");
        let big = with_comments(&jpeg, b"\r\n--b\r\n", 2_000_000);
        assert!((2_000_000 - 70_000..=2_000_000).contains(&big.len()));
        assert_eq!(&big[..4], &[0xFF, 0xD8, 0xFF, 0xFE]);
        assert!(big.windows(7).any(|w| w == b"\r\n--b\r\n"));
        assert!(big.ends_with(&jpeg[2..]));
        let small = with_comments(&jpeg, b"hi", 0);
        assert_eq!(small.len(), jpeg.len() + 6);
    }

    #[test]
    fn every_scenario_has_frames() {
        for s in Scenario::ALL {
            assert!(!s.frames().expect("frames").is_empty(), "{s:?}");
        }
    }
}
