//! Drawing into a reused pixmap and encoding it as JPEG.
//!
//! [`Canvas`] owns one [`Pixmap`] for its whole life: each frame draws over the
//! same buffer, and the JPEG output buffer is sized from the previous frame, so
//! a steady stream of frames allocates only the JPEG it hands out.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use jpeg_encoder::{ColorType, Encoder, EncodingError};
use tiny_skia::{Color, Paint, Pixmap};

/// The smallest and largest accepted width or height.
const MIN_SIDE: u32 = 32;
const MAX_SIDE: u32 = 4096;

/// A frame size in pixels, parsed from `WIDTHxHEIGHT` (like `640x480`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Size {
    /// A size; `None` unless both sides are within 32..=4096.
    pub fn new(width: u32, height: u32) -> Option<Self> {
        let ok = |side| (MIN_SIDE..=MAX_SIDE).contains(&side);
        (ok(width) && ok(height)).then_some(Self { width, height })
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (w, h) = s
            .split_once(['x', 'X'])
            .ok_or_else(|| "expected WIDTHxHEIGHT, like 640x480".to_owned())?;
        let side = |v: &str| v.trim().parse::<u32>().map_err(|e| e.to_string());
        Self::new(side(w)?, side(h)?)
            .ok_or_else(|| format!("each side must be between {MIN_SIDE} and {MAX_SIDE}"))
    }
}

/// A reusable drawing surface that encodes itself as JPEG.
pub struct Canvas {
    pixmap: Pixmap,
    quality: u8,
    /// Size of the last JPEG, to size the next output buffer.
    last_len: usize,
}

impl fmt::Debug for Canvas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canvas")
            .field("width", &self.pixmap.width())
            .field("height", &self.pixmap.height())
            .field("quality", &self.quality)
            .finish_non_exhaustive()
    }
}

impl Canvas {
    /// A canvas of `size`, encoding at JPEG `quality` (clamped to 1..=100).
    pub fn new(size: Size, quality: u8) -> Self {
        // `Size` keeps both sides within 32..=4096, so this cannot fail.
        let pixmap = Pixmap::new(size.width, size.height).unwrap_or_else(|| unreachable!());
        Self {
            pixmap,
            quality: quality.clamp(1, 100),
            last_len: 0,
        }
    }

    /// The pixmap to draw on.
    pub fn pixmap(&mut self) -> &mut Pixmap {
        &mut self.pixmap
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// Fills the whole canvas with one colour.
    pub fn clear(&mut self, color: Color) {
        self.pixmap.fill(color);
    }

    /// Draws `text` with the 8x8 bitmap font, each font pixel `scale` pixels
    /// wide, top-left corner at (`x`, `y`); characters outside ASCII show as `?`.
    ///
    /// Pixels are overwritten, not blended: no anti-aliasing, no alpha.
    pub fn text(&mut self, x: i32, y: i32, scale: u32, text: &str, color: [u8; 3]) {
        let (width, height) = (self.width() as i32, self.height() as i32);
        let scale = scale.max(1) as i32;
        let data = self.pixmap.data_mut();
        for (i, ch) in text.chars().enumerate() {
            let code = if ch.is_ascii() { ch } else { '?' };
            let glyph = font8x8::legacy::BASIC_LEGACY[code as usize];
            let left = x + i as i32 * 8 * scale;
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    // Bit 0 is the leftmost pixel of the row.
                    if bits >> col & 1 == 0 {
                        continue;
                    }
                    let (px, py) = (left + col * scale, y + row as i32 * scale);
                    for dy in py.max(0)..(py + scale).min(height) {
                        for dx in px.max(0)..(px + scale).min(width) {
                            let at = ((dy * width + dx) * 4) as usize;
                            data[at..at + 4].copy_from_slice(&[color[0], color[1], color[2], 255]);
                        }
                    }
                }
            }
        }
    }

    /// Encodes the canvas as a baseline JPEG.
    ///
    /// The pixmap is premultiplied RGBA; with an opaque background that is
    /// plain RGBA, which the encoder reads directly (alpha ignored).
    ///
    /// # Errors
    /// The encoder's error (it cannot fail for a valid canvas).
    pub fn encode_jpeg(&mut self) -> Result<Bytes, EncodingError> {
        let mut out = Vec::with_capacity(self.last_len + self.last_len / 4 + 1024);
        let encoder = Encoder::new(&mut out, self.quality);
        // `Size` keeps both sides <= 4096, which fits in u16.
        let (w, h) = (self.width() as u16, self.height() as u16);
        encoder.encode(self.pixmap.data(), w, h, ColorType::Rgba)?;
        self.last_len = out.len();
        Ok(Bytes::from(out))
    }
}

/// An opaque, anti-aliased solid paint of colour `rgb`.
pub fn solid(rgb: [u8; 3]) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    paint.anti_alias = true;
    paint
}

/// Running averages of render and encode times and frame sizes, for a
/// periodic summary line.
#[derive(Debug)]
pub struct Timing {
    since: Instant,
    frames: u32,
    render: Duration,
    encode: Duration,
    bytes: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Self::new()
    }
}

impl Timing {
    /// Empty counters, starting now.
    pub fn new() -> Self {
        Self {
            since: Instant::now(),
            frames: 0,
            render: Duration::ZERO,
            encode: Duration::ZERO,
            bytes: 0,
        }
    }

    /// Records one frame.
    pub fn record(&mut self, render: Duration, encode: Duration, bytes: usize) {
        self.frames += 1;
        self.render += render;
        self.encode += encode;
        self.bytes += bytes as u64;
    }

    /// After `every` has passed since the last summary (and with at least one
    /// frame), the summary line; the counters then start over.
    pub fn summary_every(&mut self, every: Duration) -> Option<String> {
        let elapsed = self.since.elapsed();
        if elapsed < every || self.frames == 0 {
            return None;
        }
        let n = self.frames;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(n);
        let line = format!(
            "timing: render {:.2} ms, encode {:.2} ms, {:.2} ms total per frame; \
             {:.1} KB per frame; {:.1} fps ({} frames in {:.1} s)",
            ms(self.render),
            ms(self.encode),
            ms(self.render + self.encode),
            self.bytes as f64 / f64::from(n) / 1000.0,
            f64::from(n) / elapsed.as_secs_f64(),
            n,
            elapsed.as_secs_f64(),
        );
        *self = Self::new();
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_are_bounded() {
        assert_eq!("640x480".parse(), Ok(Size::new(640, 480).unwrap()));
        assert!("640".parse::<Size>().is_err());
        assert!("8x8".parse::<Size>().is_err());
        assert!("5000x100".parse::<Size>().is_err());
    }

    #[test]
    fn canvas_encodes_a_jpeg() {
        let mut canvas = Canvas::new(Size::new(64, 32).unwrap(), 80);
        canvas.clear(Color::WHITE);
        canvas.text(2, 2, 1, "Hi", [0, 0, 0]);
        let jpeg = canvas.encode_jpeg().unwrap();
        assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
        assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9]);
    }

    #[test]
    fn text_sets_glyph_pixels_only() {
        let mut canvas = Canvas::new(Size::new(32, 32).unwrap(), 80);
        canvas.clear(Color::BLACK);
        canvas.text(0, 0, 1, "I", [255, 0, 0]);
        let red = canvas
            .pixmap()
            .data()
            .chunks(4)
            .filter(|p| p[0] == 255)
            .count();
        // 'I' in the 8x8 font: a few strokes, far fewer than 64 pixels.
        assert!((8..40).contains(&red), "{red}");
        canvas.text(-100, -100, 3, "clipped", [255, 255, 255]);
    }
}
