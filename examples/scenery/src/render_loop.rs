//! The sine render loop: renders frames into a [`FrameHub`] only while
//! someone watches, off the async threads, and logs what each frame costs.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mjpeg_axum::{Frame, FrameHub};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::canvas::{Size, Timing};
use crate::sine::{Rendered, SPEED, SineScene};

/// How often the timing summary is logged.
const SUMMARY_EVERY: Duration = Duration::from_secs(5);

/// Renders the sine wave into a hub at a steady rate while it has viewers.
///
/// The first frame is published at once, viewers or not, so `/snapshot`
/// has something to show; after that the loop sleeps in
/// [`FrameHub::wait_for_viewers`] whenever nobody streams. Drawing and
/// encoding run in [`tokio::task::spawn_blocking`], reusing one scene (and its
/// pixmap) for every frame.
///
/// ```no_run
/// use mjpeg_axum::FrameHub;
/// use mjpeg_example_scenery::render_loop::RenderLoop;
///
/// # async fn run() {
/// let hub = FrameHub::new();
/// let renderer = RenderLoop::default().spawn(hub.clone());
/// // ... serve the hub; on shutdown:
/// hub.stop();
/// renderer.abort();
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct RenderLoop {
    /// Frames per second (at least 1).
    pub fps: u32,
    /// Frame size.
    pub size: Size,
    /// JPEG quality.
    pub quality: u8,
    /// Whether to print pause/resume transitions and the timing summary.
    pub log: bool,
}

impl Default for RenderLoop {
    /// 30 fps, 640x480, quality 80, logging on.
    fn default() -> Self {
        Self {
            fps: 30,
            size: Size {
                width: 640,
                height: 480,
            },
            quality: 80,
            log: true,
        }
    }
}

impl RenderLoop {
    /// Runs the loop on the current tokio runtime until the hub is stopped
    /// (or the task is aborted).
    pub fn spawn(self, hub: FrameHub) -> JoinHandle<()> {
        tokio::spawn(self.run(hub))
    }

    async fn run(self, hub: FrameHub) {
        let log = |line: &str| {
            if self.log {
                println!("{line}");
            }
        };
        let mut sine = SineRenderer::new(self.size, self.quality);
        let mut ticker = tokio::time::interval(Duration::from_secs(1) / self.fps.max(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut number = 0u64;
        let mut rate = Rate::default();
        let mut timing = Timing::new();
        while !hub.is_stopped() {
            if number > 0 && hub.viewers() == 0 {
                log("no viewers: rendering paused");
                if !hub.wait_for_viewers().await {
                    return; // stopped
                }
                log("viewer connected: rendering");
                ticker.reset();
                (rate, timing) = (Rate::default(), Timing::new());
            }
            ticker.tick().await;
            let label = format!("frame {number}  {}", rate.label());
            let rendered = match sine.render(label).await {
                Ok(rendered) => rendered,
                Err(err) => return eprintln!("{err}"),
            };
            timing.record(rendered.render, rendered.encode, rendered.jpeg.len());
            if hub.publish(Frame::jpeg(rendered.jpeg)) {
                number += 1;
                rate.tick();
            }
            if let Some(line) = timing.summary_every(SUMMARY_EVERY) {
                log(&line);
            }
        }
    }
}

/// Renders the wave at the phase the clock says, off the async threads.
///
/// Drawing and encoding run in [`tokio::task::spawn_blocking`], reusing one
/// scene (and its pixmap) for every frame.
#[derive(Debug)]
pub struct SineRenderer {
    scene: Option<SineScene>,
    started: Instant,
}

impl SineRenderer {
    /// A renderer of `size` frames at JPEG `quality`; the wave starts moving now.
    pub fn new(size: Size, quality: u8) -> Self {
        Self {
            scene: Some(SineScene::new(size, quality)),
            started: Instant::now(),
        }
    }

    /// The next frame, labelled `label`.
    ///
    /// # Errors
    /// Why rendering failed; the renderer cannot be used after that.
    pub async fn render(&mut self, label: String) -> Result<Rendered, String> {
        let phase = self.started.elapsed().as_secs_f32() * SPEED;
        let mut scene = self.scene.take().ok_or("the renderer failed before")?;
        let job = tokio::task::spawn_blocking(move || {
            let rendered = scene.render(phase, &label);
            (scene, rendered)
        });
        let (scene, rendered) = job.await.map_err(|e| format!("render task failed: {e}"))?;
        self.scene = Some(scene);
        rendered.map_err(|e| format!("jpeg encoding failed: {e}"))
    }

    /// The next frame's JPEG, labelled `label`.
    ///
    /// # Errors
    /// As [`render`](Self::render).
    pub async fn jpeg(&mut self, label: String) -> Result<Bytes, String> {
        Ok(self.render(label).await?.jpeg)
    }
}

/// Frames per second, measured over windows of about one second.
#[derive(Debug)]
struct Rate {
    window_start: Instant,
    frames: u32,
    fps: Option<f64>,
}

impl Default for Rate {
    fn default() -> Self {
        Self {
            window_start: Instant::now(),
            frames: 0,
            fps: None,
        }
    }
}

impl Rate {
    fn tick(&mut self) {
        self.frames += 1;
        let elapsed = self.window_start.elapsed();
        if elapsed >= Duration::from_secs(1) {
            self.fps = Some(f64::from(self.frames) / elapsed.as_secs_f64());
            self.frames = 0;
            self.window_start = Instant::now();
        }
    }

    fn label(&self) -> String {
        match self.fps {
            Some(fps) => format!("{fps:.1} fps"),
            None => "-- fps".to_owned(),
        }
    }
}
