//! The `sine` demo served through warp filters.
//!
//! Run with `cargo run --release -p mjpeg-examples --bin sine-warp -- [--addr 127.0.0.1:8080] [--fps 30] [--size 640x480] [--quality 80]`
//! and open <http://127.0.0.1:8080/>.

use std::process::ExitCode;

use mjpeg_examples::args::Args;
use mjpeg_examples::serving;
use mjpeg_examples::sine::SineOptions;
use mjpeg_examples::sine_warp::{USAGE, app};
use mjpeg_tower::{FrameHub, MjpegLayer};
use mjpeg_warp::Server;

#[tokio::main]
async fn main() -> ExitCode {
    let options = SineOptions::parse(Args::from_env()).unwrap_or_else(|e| e.exit(USAGE));
    let server = Server::new();
    let Some(listener) = serving::bind(&server, options.addr).await else {
        return ExitCode::FAILURE;
    };
    let hub = FrameHub::new();
    let renderer = options.render_loop().spawn(hub.clone());
    serving::announce(&listener, options.addr);

    let layer = MjpegLayer::new();
    let service = warp::service(app(hub.clone(), layer.clone()));
    let shutdown = serving::stop_on_ctrl_c(hub);
    let served = mjpeg_warp::serve_with(server, listener, service, layer, shutdown).await;
    renderer.abort();
    serving::exit_code(served)
}
