//! A camera server: several cameras by name, each an on-demand source that
//! runs only while someone watches, a lower frame rate per viewer, frames
//! pushed in over HTTP, and Prometheus metrics.
//!
//! Run with `cargo run --release -p mjpeg-example-cameras` and open the
//! printed URL (`ffmpeg` must be installed: it plays the cameras).
//!
//! | route | what |
//! |---|---|
//! | `/` | a page with every camera and the `/streams` list |
//! | `GET /streams` | the streams as JSON: name, viewers, status |
//! | `GET /streams/{name}/stream?fps=N` | a live stream, at most `N` fps if asked |
//! | `GET /streams/{name}/snapshot` | the latest frame |
//! | `POST /streams/push` | push frames in: `ffmpeg -re -i clip.mp4 -f mpjpeg -method POST http://ADDR/streams/push` |
//! | `/metrics` | Prometheus text |

mod camera;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use axum::serve::Listener as _;
use clap::Parser;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use mjpeg_axum::streams::{OnDemand, Streams};
use mjpeg_axum::{FrameHub, MjpegLayer};

/// The cameras: ffmpeg's test patterns, each its own on-demand source.
const CAMERAS: [(&str, &str); 3] = [
    ("lobby", "testsrc"),
    ("yard", "testsrc2"),
    ("bars", "smptebars"),
];

/// A camera server with on-demand sources.
#[derive(Debug, Parser)]
#[command(name = "cameras")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Seconds a camera keeps running after its last viewer left.
    #[arg(long, default_value_t = 10)]
    linger: u64,
}

/// The registry: each camera on demand, and `push` fed by `POST`.
fn streams(linger: Duration) -> Streams {
    let streams = Streams::new();
    for (name, pattern) in CAMERAS {
        let source = OnDemand::new(move |hub| camera::ffmpeg(hub, pattern)).linger(linger);
        // The names are constants that are valid.
        let _ = streams.insert_on_demand(name, source);
    }
    let _ = streams.insert("push", FrameHub::builder().name("push").build());
    streams
}

/// The page, the stream routes and `/metrics`, behind one `MjpegLayer`.
fn app(streams: Streams, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/", get(|| async { Html(camera::page(&CAMERAS)) }))
        .route(
            "/metrics",
            get(move || async move {
                metrics.run_upkeep();
                metrics.render()
            }),
        )
        .merge(mjpeg_axum::streams_router(streams))
        .layer(MjpegLayer::new())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("mjpeg_tower=info"))
        .init();
    let metrics = match PrometheusBuilder::new().install_recorder() {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("cameras: cannot install the metrics recorder: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The recorder keeps every latency sample until upkeep drains it: run
    // it every few seconds, whether or not anyone scrapes `/metrics`.
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let listener = match mjpeg_axum::listener(args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cameras: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "open http://{}/",
        listener.local_addr().unwrap_or(args.addr)
    );
    let streams = streams(Duration::from_secs(args.linger));
    let shutdown = {
        let streams = streams.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            // Ends every viewer's stream and every camera's ffmpeg.
            streams.stop();
        }
    };
    let served = axum::serve(listener, app(streams, metrics))
        .with_graceful_shutdown(shutdown)
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cameras: server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
