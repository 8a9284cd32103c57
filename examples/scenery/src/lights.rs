//! The traffic lights' three pictures: red, yellow and green lit.

use bytes::Bytes;
use jpeg_encoder::EncodingError;
use tiny_skia::{Color, PathBuilder, Rect, Transform};

use crate::canvas::{Canvas, Size, solid};

/// The three lights, top to bottom: name, lit colour.
const LIGHTS: [(&str, [u8; 3]); 3] = [
    ("RED", [230, 40, 40]),
    ("YELLOW", [245, 200, 40]),
    ("GREEN", [40, 210, 80]),
];

/// The three pictures as JPEGs: red, yellow, then green lit.
///
/// # Errors
/// The JPEG encoder's error.
pub fn render() -> Result<[Bytes; 3], EncodingError> {
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
    Ok(frames)
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
    #[test]
    fn three_different_jpegs() {
        let [red, yellow, green] = super::render().unwrap();
        for jpeg in [&red, &yellow, &green] {
            assert_eq!(jpeg[..2], [0xFF, 0xD8]);
        }
        assert!(red != yellow && yellow != green && red != green);
    }
}
