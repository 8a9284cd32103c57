//! Red, yellow, green as a finite per-request MJPEG stream.
//!
//! Run with `cargo run -p mjpeg-examples --bin traffic-lights -- [--addr 127.0.0.1:8080] [--loops 3] [--interval-ms 500]`
//! and open <http://127.0.0.1:8080/>.

use std::process::ExitCode;

use mjpeg_examples::args::Args;
use mjpeg_examples::traffic::{self, TrafficLights, TrafficOptions, USAGE};

#[tokio::main]
async fn main() -> ExitCode {
    let options = TrafficOptions::parse(Args::from_env()).unwrap_or_else(|e| e.exit(USAGE));
    let lights = match TrafficLights::new(options.loops, options.interval) {
        Ok(lights) => lights,
        Err(err) => {
            eprintln!("cannot render the lights: {err}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match mjpeg_axum::bind(options.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    // Port 0 picks a free port: print the one actually bound.
    let addr = listener.local_addr().unwrap_or(options.addr);
    println!("open http://{addr}/");
    let served =
        mjpeg_axum::serve_with_shutdown(listener, traffic::app(lights), mjpeg_examples::ctrl_c())
            .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}
