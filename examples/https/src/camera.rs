//! Scenery, not needed for streaming: stand-in cameras, each publishing a
//! small JPEG of its own hue, 10 times a second, while anyone watches.

use std::time::Duration;

use jpeg_encoder::{ColorType, Encoder};
use mjpeg_axum::{Frame, FrameHub};

/// Publishes frames of camera `index` into `hub` until it is stopped.
pub(crate) async fn run(index: usize, hub: FrameHub) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for n in 0u32.. {
        if !hub.wait_for_viewers().await {
            return;
        }
        tick.tick().await;
        if let Some(jpeg) = solid(index, n) {
            hub.publish(Frame::jpeg(jpeg));
        }
    }
}

/// A 160x120 JPEG whose colour is the camera's and brightens with `n`.
fn solid(index: usize, n: u32) -> Option<Vec<u8>> {
    let (w, h) = (160u16, 120u16);
    let hue = (index * 37 % 256) as u8;
    let rgb = [hue, (n * 5 % 256) as u8, 255 - hue];
    let pixels: Vec<u8> = rgb.repeat(usize::from(w) * usize::from(h));
    let mut out = Vec::new();
    Encoder::new(&mut out, 80)
        .encode(&pixels, w, h, ColorType::Rgb)
        .ok()?;
    Some(out)
}
