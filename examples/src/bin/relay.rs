//! Relays an existing MJPEG stream to many viewers, reconnecting when it drops.
//!
//! Run with `cargo run -p mjpeg-examples --bin relay -- --upstream http://127.0.0.1:8080/stream [--addr 127.0.0.1:8081] [--overlay]`
//! and open <http://127.0.0.1:8081/>.

use std::process::ExitCode;
use std::time::Duration;

use mjpeg_examples::args::Args;
use mjpeg_examples::relay::{self, Relay, RelayOptions, USAGE};
use mjpeg_tower::FrameHub;

#[tokio::main]
async fn main() -> ExitCode {
    let options = RelayOptions::parse(Args::from_env()).unwrap_or_else(|e| e.exit(USAGE));
    let listener = match mjpeg_axum::bind(options.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    let hub = FrameHub::new();
    let relay = Relay {
        overlay: options.overlay,
        ..Relay::new(options.upstream.clone())
    }
    .spawn(hub.clone());
    println!("relaying {}", options.upstream);
    // Port 0 picks a free port: print the one actually bound.
    let addr = listener.local_addr().unwrap_or(options.addr);
    println!("open http://{addr}/");

    let layer = relay::layer(Duration::from_secs(1), options.overlay);
    let app = relay::app(hub.clone(), layer, &options.upstream);
    let shutdown = async move {
        mjpeg_examples::ctrl_c().await;
        println!("shutting down: closing streams");
        hub.stop();
    };
    let served = mjpeg_axum::serve_with_shutdown(listener, app, shutdown).await;
    relay.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}
