//! Relays an existing MJPEG stream to many viewers, reconnecting when it drops.
//!
//! Run with `cargo run -p mjpeg-examples --bin relay -- --upstream http://127.0.0.1:8080/stream [--addr 127.0.0.1:8081] [--overlay]`
//! and open <http://127.0.0.1:8081/>.

use std::process::ExitCode;
use std::time::Duration;

use mjpeg_axum::Server;
use mjpeg_examples::args::Args;
use mjpeg_examples::relay::{self, Relay, RelayOptions, USAGE};
use mjpeg_examples::serving;
use mjpeg_tower::FrameHub;

#[tokio::main]
async fn main() -> ExitCode {
    let options = RelayOptions::parse(Args::from_env()).unwrap_or_else(|e| e.exit(USAGE));
    let Some(listener) = serving::bind(&Server::new(), options.addr).await else {
        return ExitCode::FAILURE;
    };
    let hub = FrameHub::new();
    let relay = Relay {
        overlay: options.overlay,
        ..Relay::new(options.upstream.clone())
    }
    .spawn(hub.clone());
    println!("relaying {}", options.upstream);
    serving::announce(&listener, options.addr);

    let layer = relay::layer(Duration::from_secs(1), options.overlay);
    let app = relay::app(hub.clone(), layer, &options.upstream);
    let shutdown = serving::stop_on_ctrl_c(hub);
    let served = mjpeg_axum::serve_with_shutdown(listener, app, shutdown).await;
    relay.abort();
    serving::exit_code(served)
}
