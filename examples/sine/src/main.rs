//! The README's demo: a sine wave rendered live into a [`FrameHub`], only
//! while someone watches, served by `axum::serve`.
//!
//! Run with `cargo run --release -p mjpeg-example-sine` and open the printed
//! URL; `--help` lists the options. Ctrl-C stops the hub first (viewers get
//! the close delimiter), then the server.
//!
//! The streaming is [`app`] and [`main`]; the wave itself comes from
//! `mjpeg_example_scenery`, which a real service replaces with its camera.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::serve::Listener as _;
use axum::{Router, routing::get};
use clap::Parser;
use mjpeg_axum::{FrameHub, MjpegLayer, Snapshot, Subscribe};
use mjpeg_example_scenery::canvas::Size;
use mjpeg_example_scenery::page::Page;
use mjpeg_example_scenery::render_loop::RenderLoop;
use mjpeg_example_scenery::stats::StatsReport;

/// A live sine wave over MJPEG.
#[derive(Debug, Parser)]
#[command(name = "sine")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Frames per second while someone watches.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=120))]
    fps: u32,
    /// Frame size, WIDTHxHEIGHT.
    #[arg(long, default_value = "640x480")]
    size: Size,
    /// JPEG quality.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
}

/// What the handlers share: the hub and the layer, to read its counters.
#[derive(Clone)]
struct AppState {
    hub: FrameHub,
    layer: MjpegLayer,
}

/// `/` (a page), `/stream`, `/snapshot` and `/stats` (JSON) for `hub`.
fn app(hub: FrameHub) -> Router {
    // The handlers read `/stats` from a clone: clones share the counters.
    let layer = MjpegLayer::new();
    Router::new()
        .route("/", get(index))
        .route("/stream", get(stream))
        .route("/snapshot", get(snapshot))
        .route("/stats", get(stats))
        .with_state(AppState {
            hub,
            layer: layer.clone(),
        })
        .layer(layer)
}

async fn stream(State(state): State<AppState>) -> Subscribe {
    state.hub.subscribe()
}

async fn snapshot(State(state): State<AppState>) -> Snapshot {
    state.hub.snapshot()
}

async fn stats(State(state): State<AppState>) -> impl IntoResponse {
    let report = StatsReport::collect(&state.hub, &state.layer);
    let json = [(header::CONTENT_TYPE, "application/json")];
    (
        json,
        [(header::CACHE_CONTROL, "no-store")],
        report.to_json(),
    )
}

async fn index() -> Html<String> {
    Html(
        Page::new("mjpeg-tower: sine")
            .stats(true)
            .intro("A sine wave rendered live, only while someone watches.")
            .render(),
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match mjpeg_axum::listener(args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("sine: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let hub = FrameHub::new();
    let renderer = RenderLoop {
        fps: args.fps,
        size: args.size,
        quality: args.quality,
        log: true,
    }
    .spawn(hub.clone());
    println!(
        "open http://{}/",
        listener.local_addr().unwrap_or(args.addr)
    );

    let stopping = hub.clone();
    let served = axum::serve(listener, app(hub))
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            println!("shutting down: closing streams");
            stopping.stop(); // viewers get the close delimiter, so shutdown can finish
        })
        .await;
    renderer.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sine: server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
