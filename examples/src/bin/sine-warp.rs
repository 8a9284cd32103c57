//! The `sine` demo served through warp filters.
//!
//! Run with `cargo run --release -p mjpeg-examples --bin sine-warp -- [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]`
//! and open <http://127.0.0.1:8080/>.

use std::process::ExitCode;

use mjpeg_examples::args::Args;
use mjpeg_examples::producer::RenderLoop;
use mjpeg_examples::sine::SineOptions;
use mjpeg_examples::sine_warp::{USAGE, app};
use mjpeg_tower::{FrameHub, MjpegLayer};
use mjpeg_warp::Server;

#[tokio::main]
async fn main() -> ExitCode {
    let options = SineOptions::parse(Args::from_env()).unwrap_or_else(|e| e.exit(USAGE));
    let server = Server::new();
    let listener = match server.bind(options.addr).await {
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
    // Port 0 picks a free port: print the one actually bound.
    let addr = listener.local_addr().unwrap_or(options.addr);
    println!("open http://{addr}/");

    let layer = MjpegLayer::new();
    let service = warp::service(app(hub.clone(), layer.clone()));
    let shutdown = async move {
        mjpeg_examples::ctrl_c().await;
        println!("shutting down: closing streams");
        hub.stop();
    };
    let served = mjpeg_warp::serve_with(server, listener, service, layer, shutdown).await;
    renderer.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}
