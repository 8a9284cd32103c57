//! Scenery, not needed for streaming: a stand-in camera that publishes a
//! small JPEG whose colour drifts, 10 times a second, while anyone watches.

use std::time::Duration;

use jpeg_encoder::{ColorType, Encoder};
use mjpeg_axum::{Frame, FrameHub};

/// Publishes frames into `hub` until it is stopped.
pub(crate) async fn run(hub: FrameHub) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for n in 0u32.. {
        if !hub.wait_for_viewers().await {
            return;
        }
        tick.tick().await;
        if let Some(jpeg) = solid(n) {
            hub.publish(Frame::jpeg(jpeg));
        }
    }
}

/// A 160x120 JPEG of one colour, which changes with `n`.
fn solid(n: u32) -> Option<Vec<u8>> {
    let (w, h) = (160u16, 120u16);
    let rgb = [(n * 7 % 256) as u8, (n * 3 % 256) as u8, 160];
    let pixels: Vec<u8> = rgb.repeat(usize::from(w) * usize::from(h));
    let mut out = Vec::new();
    Encoder::new(&mut out, 80)
        .encode(&pixels, w, h, ColorType::Rgb)
        .ok()?;
    Some(out)
}
