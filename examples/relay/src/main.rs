//! Relays an existing MJPEG stream to many viewers, reconnecting when it drops.
//!
//! Run with `cargo run -p mjpeg-example-relay -- --upstream http://127.0.0.1:8080/stream`
//! and open the printed URL; `--help` lists the options.
//!
//! [`upstream::Relay`] reads the upstream into a [`FrameHub`]; [`app`]
//! serves the hub like the sine example. While the upstream is away, the
//! layer's heartbeat re-sends the last frame every second, so viewers keep
//! their picture instead of being cut off.

mod backoff;
mod upstream;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::serve::Listener as _;
use axum::{Router, routing::get};
use clap::Parser;
use mjpeg_axum::{FrameHub, Framing, MjpegLayer};
use mjpeg_example_scenery::page::Page;
use mjpeg_example_scenery::stats::StatsReport;
use reqwest::Url;

use self::upstream::Relay;

/// Relays an MJPEG stream to many viewers.
#[derive(Debug, Parser)]
#[command(name = "relay")]
struct Args {
    /// The MJPEG stream to relay (http:// only: built without TLS).
    #[arg(long, value_parser = http_url)]
    upstream: Url,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8081")]
    addr: SocketAddr,
    /// Add an X-Relay-Timestamp part header to each frame.
    #[arg(long)]
    overlay: bool,
}

fn http_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" => Ok(url),
        other => Err(format!("{other}:// is not supported (built without TLS)")),
    }
}

/// The relay's layer: a heartbeat every `heartbeat`, and standard framing
/// when frames carry their own overlay header.
fn layer(heartbeat: Duration, overlay: bool) -> MjpegLayer {
    let layer = MjpegLayer::new().heartbeat(Some(heartbeat));
    if overlay {
        layer.framing(Framing::Standard)
    } else {
        layer
    }
}

#[derive(Clone)]
struct AppState {
    hub: FrameHub,
    layer: MjpegLayer,
    page: String,
}

/// `/` (a page), `/stream`, `/snapshot` and `/stats` (JSON) for `hub`.
fn app(hub: FrameHub, layer: MjpegLayer, upstream: &Url) -> Router {
    let page = Page::new("mjpeg-tower: relay")
        .stats(true)
        .intro(format!("Relaying {upstream}."))
        .render();
    let state = AppState {
        hub,
        layer: layer.clone(),
        page,
    };
    Router::new()
        .route("/", get(|State(s): State<AppState>| async { Html(s.page) }))
        .route(
            "/stream",
            get(|State(s): State<AppState>| async move { s.hub.subscribe() }),
        )
        .route(
            "/snapshot",
            get(|State(s): State<AppState>| async move { s.hub.snapshot() }),
        )
        .route("/stats", get(stats))
        .with_state(state)
        .layer(layer)
}

async fn stats(State(state): State<AppState>) -> impl IntoResponse {
    let report = StatsReport::collect(&state.hub, &state.layer);
    (
        [(header::CONTENT_TYPE, "application/json")],
        report.to_json(),
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match mjpeg_axum::listener(args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("relay: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let hub = FrameHub::new();
    let relay = Relay {
        overlay: args.overlay,
        ..Relay::new(args.upstream.clone())
    }
    .spawn(hub.clone());
    println!("relaying {}", args.upstream);
    println!(
        "open http://{}/",
        listener.local_addr().unwrap_or(args.addr)
    );

    let app = app(
        hub.clone(),
        layer(Duration::from_secs(1), args.overlay),
        &args.upstream,
    );
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        hub.stop(); // viewers get the close delimiter, so shutdown can finish
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    relay.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("relay: server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
