//! A finite per-request stream: red, yellow, green.
//!
//! Run with `cargo run -p mjpeg-example-traffic-lights` and open the printed
//! URL; `--help` lists the options.
//!
//! Each viewer gets its own stream from the start ([`Mjpeg::new`]): red,
//! yellow, green, one frame per interval, `loops` times over, then the close
//! delimiter. The layer uses [`OverflowPolicy::Wait`], so a slow viewer holds
//! its stream back instead of losing frames: every frame arrives. When the
//! stream ends, the layer sends the last light once more (the part announced
//! after it carries it), so it stays on screen in Safari and WebKit.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::Html;
use axum::serve::Listener as _;
use axum::{Router, routing::get};
use bytes::Bytes;
use clap::Parser;
use futures_util::{Stream, stream};
use mjpeg_axum::{Frame, Mjpeg, MjpegLayer, OverflowPolicy};
use mjpeg_example_scenery::page::Page;

/// Red, yellow, green as a finite MJPEG stream per viewer.
#[derive(Debug, Parser)]
#[command(name = "traffic-lights")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// How many times each viewer sees red, yellow, green.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    loops: u32,
    /// Milliseconds between frames.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    interval_ms: u64,
}

/// The three pictures and how to play them; cheap to clone.
#[derive(Clone, Debug)]
struct TrafficLights {
    frames: Arc<[Bytes; 3]>,
    loops: u32,
    interval: Duration,
}

impl TrafficLights {
    /// One viewer's stream: `3 * loops` frames, one per interval (the first at once).
    fn frames(self) -> impl Stream<Item = Frame> + Send + 'static {
        let total = 3 * self.loops as usize;
        stream::unfold(0, move |i| {
            let lights = self.clone();
            async move {
                if i == total {
                    return None;
                }
                if i > 0 {
                    tokio::time::sleep(lights.interval).await;
                }
                Some((Frame::jpeg(lights.frames[i % 3].clone()), i + 1))
            }
        })
    }
}

/// The page at `/`, each viewer's own stream at `/lights`.
fn app(lights: TrafficLights) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/lights", get(play))
        .with_state(lights)
        // Every frame arrives: a slow viewer holds its own stream back.
        .layer(MjpegLayer::new().overflow_policy(OverflowPolicy::Wait))
}

async fn play(State(lights): State<TrafficLights>) -> Mjpeg {
    Mjpeg::new(lights.frames())
}

async fn index() -> Html<String> {
    Html(
        Page::new("mjpeg-tower: traffic lights")
            .intro("Red, yellow, green: a finite stream per viewer. Reload to watch again.")
            .image("/lights")
            .render(),
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let frames = match mjpeg_example_scenery::lights::render() {
        Ok(frames) => Arc::new(frames),
        Err(err) => {
            eprintln!("traffic-lights: cannot render the lights: {err}");
            return ExitCode::FAILURE;
        }
    };
    let lights = TrafficLights {
        frames,
        loops: args.loops,
        interval: Duration::from_millis(args.interval_ms),
    };
    let listener = match mjpeg_axum::listener(args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("traffic-lights: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "open http://{}/",
        listener.local_addr().unwrap_or(args.addr)
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app(lights))
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("traffic-lights: server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
