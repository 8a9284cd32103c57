//! The README's main demo: a live sine wave over MJPEG, served with axum.
//!
//! Run with `cargo run --release -p mjpeg-examples --bin sine -- [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]`
//! and open <http://127.0.0.1:8080/>. Ctrl-C stops the stream (viewers get
//! the close delimiter) and then the server.

use std::process::ExitCode;

use mjpeg_examples::args::Args;
use mjpeg_examples::producer::RenderLoop;
use mjpeg_examples::sine::{self, SineOptions, USAGE};
use mjpeg_tower::{FrameHub, MjpegLayer};

#[tokio::main]
async fn main() -> ExitCode {
    let options = SineOptions::parse(Args::from_env()).unwrap_or_else(|e| e.exit(USAGE));
    let listener = match mjpeg_axum::bind(options.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    let hub = FrameHub::new();
    let renderer = RenderLoop {
        fps: options.fps,
        size: options.size,
        quality: options.quality,
        log: true,
    }
    .spawn(hub.clone());
    println!(
        "rendering {} at up to {} fps, quality {}",
        options.size, options.fps, options.quality
    );
    // Port 0 picks a free port: print the one actually bound.
    let addr = listener.local_addr().unwrap_or(options.addr);
    println!("open http://{addr}/");

    let app = sine::app(hub.clone(), MjpegLayer::new());
    let shutdown = async move {
        mjpeg_examples::ctrl_c().await;
        println!("shutting down: closing streams");
        // Stop first: viewers get the close delimiter, then the server stops.
        hub.stop();
    };
    let served = mjpeg_axum::serve_with_shutdown(listener, app, shutdown).await;
    renderer.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}
