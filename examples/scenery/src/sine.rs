//! The moving sine wave: [`SineScene`] draws one frame.
//!
//! [`RenderLoop`](crate::render_loop::RenderLoop) renders frames only while
//! someone watches and publishes them into a hub.

use std::time::{Duration, Instant};

use bytes::Bytes;
use jpeg_encoder::EncodingError;
use tiny_skia::{Color, LineCap, Path, PathBuilder, Pixmap, Stroke, Transform};

use crate::canvas::{Canvas, Size, solid};

/// Wave cycles across the width.
const CYCLES: f32 = 2.0;
/// Phase advance in radians per second.
pub const SPEED: f32 = 3.0;

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
    fn frames_at_other_phases_differ() {
        let mut scene = SineScene::new(Size::new(96, 64).unwrap(), 70);
        let a = scene.render(0.0, "frame 0").unwrap();
        let b = scene.render(1.0, "frame 1").unwrap();
        assert_eq!(&a.jpeg[..2], [0xFF, 0xD8]);
        assert_ne!(a.jpeg, b.jpeg);
    }
}
