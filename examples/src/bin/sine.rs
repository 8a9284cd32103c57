//! The README's main demo: a live sine wave over MJPEG, served with axum.
//!
//! Run with `cargo run --release -p mjpeg-examples --bin sine -- [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]`
//! and open <http://127.0.0.1:8080/>. Ctrl-C stops the stream (viewers get
//! the close delimiter) and then the server.

use std::process::ExitCode;

use mjpeg_axum::Server;
use mjpeg_examples::args::Args;
use mjpeg_examples::serving;
use mjpeg_examples::sine::{self, SineOptions, USAGE};
use mjpeg_tower::{FrameHub, MjpegLayer};

#[tokio::main]
async fn main() -> ExitCode {
    let options = SineOptions::parse(Args::from_env()).unwrap_or_else(|e| e.exit(USAGE));
    let Some(listener) = serving::bind(&Server::new(), options.addr).await else {
        return ExitCode::FAILURE;
    };
    let hub = FrameHub::new();
    let renderer = options.render_loop().spawn(hub.clone());
    println!(
        "rendering {} at up to {} fps, quality {}",
        options.size, options.fps, options.quality
    );
    serving::announce(&listener, options.addr);

    let app = sine::app(hub.clone(), MjpegLayer::new());
    // Stop first: viewers get the close delimiter, then the server stops.
    let shutdown = serving::stop_on_ctrl_c(hub);
    let served = mjpeg_axum::serve_with_shutdown(listener, app, shutdown).await;
    renderer.abort();
    serving::exit_code(served)
}
