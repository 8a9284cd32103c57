//! The `traffic-lights` example: a finite per-request stream.
//!
//! Run with `cargo run -p mjpeg-examples --bin traffic-lights -- [--addr 127.0.0.1:8080] [--loops 3] [--interval-ms 500]`
//! and open <http://127.0.0.1:8080/>.
//!
//! Each viewer gets its own stream from the start ([`Mjpeg::new`]): red,
//! yellow, green, one frame per interval, `loops` times over, then the close
//! delimiter. The layer uses [`OverflowPolicy::Wait`], so a slow viewer holds
//! the stream back instead of losing frames: every frame arrives. When the
//! stream ends, the layer sends the last light once more (the part announced
//! after it carries it), so it stays on screen in Safari and WebKit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::Html;
use axum::{Router, routing::get};
use bytes::Bytes;
use futures_util::stream;
use jpeg_encoder::EncodingError;
use mjpeg_tower::{Frame, Mjpeg, MjpegLayer, OverflowPolicy};
use tiny_skia::{Color, PathBuilder, Rect, Transform};

use crate::args::{ArgError, Args, in_range, unknown};
use crate::page::Page;
use crate::render::{Canvas, Size, solid};

/// The `traffic-lights` binary's usage line.
pub const USAGE: &str =
    "usage: traffic-lights [--addr 127.0.0.1:8080] [--loops 3] [--interval-ms 500]";

/// The three lights, top to bottom: name, lit colour.
const LIGHTS: [(&str, [u8; 3]); 3] = [
    ("RED", [230, 40, 40]),
    ("YELLOW", [245, 200, 40]),
    ("GREEN", [40, 210, 80]),
];

/// Command-line options of `traffic-lights`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// How many times each viewer sees red, yellow, green (1..=1000).
    pub loops: u32,
    /// Time between frames.
    pub interval: Duration,
}

impl Default for TrafficOptions {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            loops: 3,
            interval: Duration::from_millis(500),
        }
    }
}

impl TrafficOptions {
    /// Parses `--addr`, `--loops` and `--interval-ms`.
    ///
    /// # Errors
    /// [`ArgError::Help`] for `--help`; [`ArgError::Invalid`] for anything wrong.
    pub fn parse(mut args: Args) -> Result<Self, ArgError> {
        let mut options = Self::default();
        while let Some(flag) = args.next_flag()? {
            match flag.as_str() {
                "--addr" => options.addr = args.value(&flag)?,
                "--loops" => options.loops = in_range(&flag, args.value(&flag)?, 1, 1000)?,
                "--interval-ms" => {
                    let ms = in_range(&flag, args.value(&flag)?, 1, 60_000)?;
                    options.interval = Duration::from_millis(ms);
                }
                _ => return Err(unknown(&flag)),
            }
        }
        Ok(options)
    }
}

/// The rendered lights and how to play them; cheap to clone.
#[derive(Clone, Debug)]
pub struct TrafficLights {
    frames: Arc<[Bytes; 3]>,
    loops: u32,
    interval: Duration,
}

impl TrafficLights {
    /// Renders the three frames once; every viewer shares them.
    ///
    /// # Errors
    /// The JPEG encoder's error.
    pub fn new(loops: u32, interval: Duration) -> Result<Self, EncodingError> {
        let mut canvas = Canvas::new(
            Size {
                width: 160,
                height: 400,
            },
            85,
        );
        let mut frames = [Bytes::new(), Bytes::new(), Bytes::new()];
        for (lit, frame) in frames.iter_mut().enumerate() {
            draw(&mut canvas, lit);
            *frame = canvas.encode_jpeg()?;
        }
        Ok(Self {
            frames: Arc::new(frames),
            loops,
            interval,
        })
    }

    /// The frames of one viewer's stream: `3 * loops` frames, one per
    /// interval (the first at once).
    pub fn frames(&self) -> impl futures_util::Stream<Item = Frame> + Send + 'static {
        let (lights, total) = (self.clone(), 3 * self.loops as usize);
        stream::unfold(0, move |i| {
            let lights = lights.clone();
            async move {
                if i == total {
                    return None;
                }
                if i > 0 {
                    tokio::time::sleep(lights.interval).await;
                }
                Some((Frame::jpeg(lights.frames[i % 3].clone()), i + 1))
            }
        })
    }
}

/// The layer: every frame arrives ([`OverflowPolicy::Wait`]).
pub fn layer() -> MjpegLayer {
    MjpegLayer::new().overflow_policy(OverflowPolicy::Wait)
}

/// The router: the page at `/`, each viewer's own stream at `/lights`.
pub fn app(lights: TrafficLights) -> Router {
    let page: Arc<str> = Page::new("mjpeg-tower: traffic lights")
        .intro("Red, yellow, green: a finite stream per viewer. Reload to watch again.")
        .image("/lights")
        .render()
        .into();
    Router::new()
        .route("/", get(move || async move { Html(page.to_string()) }))
        .route("/lights", get(play))
        .with_state(lights)
        .layer(layer())
}

async fn play(State(lights): State<TrafficLights>) -> Mjpeg {
    Mjpeg::new(lights.frames())
}

/// Draws the housing with light `lit` on and the others dimmed.
fn draw(canvas: &mut Canvas, lit: usize) {
    canvas.clear(Color::from_rgba8(235, 235, 235, 255));
    let (w, h) = (canvas.width() as f32, canvas.height() as f32);
    let radius = w * 0.3;
    let housing = Rect::from_xywh(w * 0.15, h * 0.04, w * 0.7, h * 0.84);
    let pixmap = canvas.pixmap();
    if let Some(housing) = housing {
        pixmap.fill_rect(housing, &solid([40, 40, 44]), Transform::identity(), None);
    }
    for (i, (_, rgb)) in LIGHTS.iter().enumerate() {
        let on = i == lit;
        let rgb = if on { *rgb } else { rgb.map(|c| c / 5) };
        let cy = h * (0.18 + 0.28 * i as f32);
        if let Some(circle) = PathBuilder::from_circle(w / 2.0, cy, radius) {
            pixmap.fill_path(
                &circle,
                &solid(rgb),
                tiny_skia::FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }
    let name = LIGHTS[lit].0;
    let x = (canvas.width() as i32 - 16 * name.len() as i32) / 2;
    canvas.text(x, canvas.height() as i32 - 30, 2, name, [20, 20, 20]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let args = Args::new(["--loops", "2", "--interval-ms=20"]);
        let options = TrafficOptions::parse(args).unwrap();
        assert_eq!(options.loops, 2);
        assert_eq!(options.interval, Duration::from_millis(20));
        assert!(TrafficOptions::parse(Args::new(["--loops", "0"])).is_err());
    }
}
