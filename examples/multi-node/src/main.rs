//! One origin and several edge processes, fed over NATS.
//!
//! Run with `cargo run --release -p mjpeg-example-multi-node` and open the
//! printed URL: a page with every edge's stream side by side. Without
//! `--nats URL` a local `nats-server` (Debian package `nats-server`) is
//! started on a free port. The launcher runs this same binary as
//! `multi-node origin` and `multi-node edge` children; Ctrl-C stops them all.
//!
//! The streaming is [`origin`] (render and publish to NATS) and
//! [`edge_app`] (a local hub fed from NATS, served as usual); the process
//! handling is in `launcher`.

mod launcher;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::routing::get;
use axum::serve::Listener as _;
use axum::{Json, Router};
use clap::{Args as ClapArgs, Parser, Subcommand};
use mjpeg_axum::{Frame, FrameHub, MjpegLayer};
use mjpeg_example_scenery::canvas::Size;
use mjpeg_example_scenery::render_loop::SineRenderer;
use mjpeg_nats::{NatsEdge, NatsOrigin};

/// The stream's name: frames travel on subject `mjpeg.sine`.
const STREAM: &str = "sine";

/// One origin and several edges over NATS.
#[derive(Debug, Parser)]
#[command(name = "multi-node")]
struct Args {
    #[command(subcommand)]
    role: Option<Role>,
    /// The NATS server; the launcher starts a local nats-server without it.
    #[arg(long, global = true)]
    nats: Option<String>,
    /// Where the launcher's page listens; edges take the following ports.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// How many edges to start.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=16))]
    edges: u16,
    #[command(flatten)]
    render: Render,
}

#[derive(Debug, Subcommand)]
enum Role {
    /// Render the sine wave and publish it to NATS.
    Origin(Render),
    /// Serve the stream from NATS to local viewers.
    Edge {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8081")]
        addr: SocketAddr,
    },
}

#[derive(Clone, Debug, ClapArgs)]
struct Render {
    /// Frames per second.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=120))]
    fps: u32,
    /// Frame size, WIDTHxHEIGHT.
    #[arg(long, default_value = "640x480")]
    size: Size,
}

/// Renders at `render.fps` and publishes every frame to `origin`, until
/// aborted; the origin cannot see the edges' viewers, so it always renders.
async fn origin(origin: NatsOrigin, render: Render) -> Result<(), String> {
    let mut sine = SineRenderer::new(render.size, 80);
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / render.fps);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    for number in 0u64.. {
        ticker.tick().await;
        let jpeg = sine.jpeg(format!("frame {number} via NATS")).await?;
        origin.publish(Frame::jpeg(jpeg));
    }
    Ok(())
}

/// An edge: `/`, `/stream`, `/snapshot` for the hub NATS feeds (the hub
/// does not know where its frames come from), and `/nats` with the bridge's counters.
fn edge_app(hub: FrameHub, edge: NatsEdge) -> Router {
    let page = mjpeg_example_scenery::page::Page::new("mjpeg-tower: edge")
        .intro(format!("Frames from NATS subject {}.", edge.subject()))
        .render();
    let h = hub.clone();
    Router::new()
        .route("/", get(|| async { axum::response::Html(page) }))
        .route("/stream", get(move || async move { h.subscribe() }))
        .route("/snapshot", get(move || async move { hub.snapshot() }))
        .route(
            "/nats",
            get(move || async move { Json(launcher::edge_json(&edge.stats())) }),
        )
        // Repeat the last frame every second while none comes (e.g. while the
        // broker restarts), so browsers keep it and dead viewers are found.
        .layer(MjpegLayer::new().heartbeat(Some(Duration::from_secs(1))))
}

async fn run(args: Args) -> Result<(), String> {
    let Some(role) = args.role else {
        return launcher::launch(&args).await;
    };
    let url = args
        .nats
        .ok_or("--nats URL is required for origin and edge")?;
    match role {
        Role::Origin(render) => {
            let nats = NatsOrigin::builder(STREAM).map_err(|e| e.to_string())?;
            let nats = nats.connect(&url).await.map_err(|e| e.to_string())?;
            println!("origin: publishing to {} on {url}", nats.subject());
            tokio::select! {
                done = origin(nats, render) => done,
                _ = tokio::signal::ctrl_c() => Ok(()),
            }
        }
        Role::Edge { addr } => {
            let listener = mjpeg_axum::listener(addr).await;
            let listener = listener.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let hub = FrameHub::new();
            let nats = NatsEdge::builder(STREAM).map_err(|e| e.to_string())?;
            let edge = nats
                .connect(&url, hub.clone())
                .await
                .map_err(|e| e.to_string())?;
            println!("open http://{}/", listener.local_addr().unwrap_or(addr));
            let stopping = hub.clone();
            let shutdown = async move {
                let _ = tokio::signal::ctrl_c().await;
                stopping.stop();
            };
            let served = axum::serve(listener, edge_app(hub, edge));
            served
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(|e| e.to_string())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("multi-node: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
