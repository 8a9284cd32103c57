//! The `sine` example: a moving sine wave rendered live into a [`FrameHub`].
//!
//! Run with `cargo run --release -p mjpeg-examples --bin sine -- [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]`
//! and open <http://127.0.0.1:8080/>.
//!
//! [`SineScene`] draws one frame; [`RenderLoop`](crate::producer::RenderLoop)
//! renders frames only while someone watches and publishes them into the
//! hub; [`app`] serves the hub.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use bytes::Bytes;
use jpeg_encoder::EncodingError;
use mjpeg_tower::{FrameHub, MjpegLayer};
use tiny_skia::{Color, LineCap, Path, PathBuilder, Pixmap, Stroke, Transform};

use crate::args::{ArgError, Args, in_range, unknown};
use crate::page::Page;
use crate::render::{Canvas, Size, solid};

/// The `sine` binary's usage line.
pub const USAGE: &str =
    "usage: sine [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]";

/// Wave cycles across the width.
const CYCLES: f32 = 2.0;
/// Phase advance in radians per second.
pub(crate) const SPEED: f32 = 3.0;

/// Command-line options of `sine` and `sine-warp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SineOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Frames per second to render while someone watches (1..=120).
    pub fps: u32,
    /// Frame size.
    pub size: Size,
    /// JPEG quality (1..=100).
    pub quality: u8,
}

impl Default for SineOptions {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            fps: 30,
            size: Size {
                width: 640,
                height: 480,
            },
            quality: 80,
        }
    }
}

impl SineOptions {
    /// Parses `--addr`, `--fps`, `--size` and `--quality`.
    ///
    /// # Errors
    /// [`ArgError::Help`] for `--help`; [`ArgError::Invalid`] for anything wrong.
    pub fn parse(mut args: Args) -> Result<Self, ArgError> {
        let mut options = Self::default();
        while let Some(flag) = args.next_flag()? {
            match flag.as_str() {
                "--addr" => options.addr = args.value(&flag)?,
                "--fps" => options.fps = in_range(&flag, args.value(&flag)?, 1, 120)?,
                "--size" => options.size = args.value(&flag)?,
                "--quality" => options.quality = in_range(&flag, args.value(&flag)?, 1, 100)?,
                _ => return Err(unknown(&flag)),
            }
        }
        Ok(options)
    }

    /// The render loop these options ask for, logging what it does.
    pub fn render_loop(&self) -> crate::producer::RenderLoop {
        crate::producer::RenderLoop {
            fps: self.fps,
            size: self.size,
            quality: self.quality,
            log: true,
        }
    }
}

/// The sine router: `/`, `/stream`, `/snapshot` and `/stats` for `hub`
/// (see [`broadcast::router`](crate::broadcast::router)).
pub fn app(hub: FrameHub, layer: MjpegLayer) -> Router {
    crate::broadcast::router(hub, layer, &page())
}

/// The page at `/`.
pub fn page() -> Page {
    Page::new("mjpeg-tower: sine").stats(true).intro(
        "A sine wave rendered live, only while someone watches. \
         /snapshot has the latest frame; /stats the counters.",
    )
}

/// One rendered frame and what it cost.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The JPEG.
    pub jpeg: Bytes,
    /// Time spent drawing.
    pub render: Duration,
    /// Time spent encoding.
    pub encode: Duration,
}

/// Draws the wave into a reused canvas.
///
/// The grid and axes never change: they are drawn once into a background
/// pixmap that each frame starts from.
#[derive(Debug)]
pub struct SineScene {
    canvas: Canvas,
    background: Pixmap,
    /// The wave's path, kept to reuse its allocation.
    wave: Option<Path>,
}

impl SineScene {
    /// A scene of `size`, encoded at JPEG `quality`.
    pub fn new(size: Size, quality: u8) -> Self {
        let mut canvas = Canvas::new(size, quality);
        draw_background(&mut canvas);
        let background = canvas.pixmap().clone();
        Self {
            canvas,
            background,
            wave: None,
        }
    }

    /// Draws the wave at `phase` (radians) with `label` in the corner, and encodes it.
    ///
    /// # Errors
    /// The JPEG encoder's error.
    pub fn render(&mut self, phase: f32, label: &str) -> Result<Rendered, EncodingError> {
        let started = Instant::now();
        self.draw(phase, label);
        let drawn = Instant::now();
        let jpeg = self.canvas.encode_jpeg()?;
        Ok(Rendered {
            jpeg,
            render: drawn - started,
            encode: drawn.elapsed(),
        })
    }

    fn draw(&mut self, phase: f32, label: &str) {
        let (w, h) = (self.canvas.width() as f32, self.canvas.height() as f32);
        // A plain copy: cheaper than blending the background in.
        self.canvas
            .pixmap()
            .data_mut()
            .copy_from_slice(self.background.data());
        let mut pb = self.wave.take().map_or_else(PathBuilder::new, Path::clear);
        let (mid, amplitude) = (h / 2.0, h * 0.35);
        let mut x = 0.0;
        while x <= w {
            let y = mid - amplitude * (CYCLES * std::f32::consts::TAU * x / w + phase).sin();
            if x == 0.0 {
                pb.move_to(x, y);
            } else {
                pb.line_to(x, y);
            }
            x += 2.0;
        }
        if let Some(path) = pb.finish() {
            let paint = solid([64, 200, 255]);
            let stroke = Stroke {
                width: (h / 120.0).max(2.0),
                line_cap: LineCap::Round,
                ..Stroke::default()
            };
            self.canvas
                .pixmap()
                .stroke_path(&path, &paint, &stroke, Transform::identity(), None);
            self.wave = Some(path);
        }
        let scale = if w >= 480.0 { 2 } else { 1 };
        self.canvas.text(8, 8, scale, label, [255, 255, 255]);
    }
}

/// Grid lines every eighth of the width and height, and the two axes.
fn draw_background(canvas: &mut Canvas) {
    canvas.clear(Color::from_rgba8(16, 20, 28, 255));
    let (w, h) = (canvas.width() as f32, canvas.height() as f32);
    let mut grid = PathBuilder::new();
    for i in 1..8 {
        let (x, y) = (w * i as f32 / 8.0, h * i as f32 / 8.0);
        grid.move_to(x, 0.0);
        grid.line_to(x, h);
        grid.move_to(0.0, y);
        grid.line_to(w, y);
    }
    let mut axes = PathBuilder::new();
    axes.move_to(0.0, h / 2.0);
    axes.line_to(w, h / 2.0);
    axes.move_to(1.0, 0.0);
    axes.line_to(1.0, h);
    let pixmap = canvas.pixmap();
    for (path, color, width) in [(grid, [45, 52, 64], 1.0), (axes, [140, 150, 165], 2.0)] {
        if let Some(path) = path.finish() {
            let stroke = Stroke {
                width,
                ..Stroke::default()
            };
            pixmap.stroke_path(&path, &solid(color), &stroke, Transform::identity(), None);
        }
    }
    let footer = "mjpeg-tower";
    let y = canvas.height() as i32 - 14;
    let x = canvas.width() as i32 - 8 * footer.len() as i32 - 6;
    canvas.text(x, y, 1, footer, [140, 150, 165]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        let args = Args::new(["--fps", "10", "--size=320x240", "--quality", "50"]);
        let options = SineOptions::parse(args).unwrap();
        assert_eq!((options.fps, options.quality), (10, 50));
        assert_eq!(options.size, Size::new(320, 240).unwrap());
        assert!(SineOptions::parse(Args::new(["--fps", "0"])).is_err());
        assert!(SineOptions::parse(Args::new(["--colour", "red"])).is_err());
    }

    #[test]
    fn frames_at_other_phases_differ() {
        let mut scene = SineScene::new(Size::new(96, 64).unwrap(), 70);
        let a = scene.render(0.0, "frame 0").unwrap();
        let b = scene.render(1.0, "frame 1").unwrap();
        assert_eq!(&a.jpeg[..2], [0xFF, 0xD8]);
        assert_ne!(a.jpeg, b.jpeg);
    }
}
