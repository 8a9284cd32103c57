//! Red, yellow, green as a finite per-request MJPEG stream.
//!
//! Run with `cargo run -p mjpeg-examples --bin traffic-lights -- [--addr 127.0.0.1:8080] [--loops 3] [--interval-ms 500]`
//! and open <http://127.0.0.1:8080/>.

use std::process::ExitCode;

use mjpeg_axum::Server;
use mjpeg_examples::args::Args;
use mjpeg_examples::serving;
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
    let Some(listener) = serving::bind(&Server::new(), options.addr).await else {
        return ExitCode::FAILURE;
    };
    serving::announce(&listener, options.addr);
    let served =
        mjpeg_axum::serve_with_shutdown(listener, traffic::app(lights), serving::ctrl_c()).await;
    serving::exit_code(served)
}
