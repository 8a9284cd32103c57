//! The sine demo's routes as warp filters: `/`, `/stream`, `/snapshot`, `/stats`.
//!
//! Run with `cargo run --release -p mjpeg-example-sine-warp` and open the
//! printed URL; `--help` lists the options.
//!
//! warp filters are not tower services, but `warp::service(filter)` is:
//! [`mjpeg_warp::serve_with`] wraps it in the [`MjpegLayer`] and serves it
//! with slow-client protection (warp 0.4 has no listener hook for it).

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use mjpeg_example_scenery::canvas::Size;
use mjpeg_example_scenery::page::Page;
use mjpeg_example_scenery::render_loop::RenderLoop;
use mjpeg_example_scenery::stats::StatsReport;
use mjpeg_warp::{FrameHub, MjpegLayer, Server};
use warp::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use warp::{Filter, Rejection, Reply};

/// A live sine wave over MJPEG, served by warp.
#[derive(Debug, Parser)]
#[command(name = "sine-warp")]
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
}

/// The routes for `hub`; `layer` (a clone of the one serving them) is read for `/stats`.
fn app(
    hub: FrameHub,
    layer: MjpegLayer,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let page = Page::new("mjpeg-tower: sine (warp)").stats(true).render();
    let index = warp::path::end().map(move || warp::reply::html(page.clone()));
    let h = hub.clone();
    let stream = warp::path!("stream").map(move || h.subscribe());
    let h = hub.clone();
    let snapshot = warp::path!("snapshot").map(move || h.snapshot());
    let stats = warp::path!("stats").map(move || {
        let json = StatsReport::collect(&hub, &layer).to_json();
        let reply = warp::reply::with_header(json, CONTENT_TYPE, "application/json");
        warp::reply::with_header(reply, CACHE_CONTROL, "no-store")
    });
    warp::get().and(index.or(stream).or(snapshot).or(stats))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let server = Server::new();
    let listener = match server.bind(args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("sine-warp: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let hub = FrameHub::new();
    let renderer = RenderLoop {
        fps: args.fps,
        size: args.size,
        ..RenderLoop::default()
    }
    .spawn(hub.clone());
    println!(
        "open http://{}/",
        listener.local_addr().unwrap_or(args.addr)
    );

    let layer = MjpegLayer::new();
    let service = warp::service(app(hub.clone(), layer.clone()));
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        hub.stop(); // viewers get the close delimiter, so shutdown can finish
    };
    let served = mjpeg_warp::serve_with(server, listener, service, layer, shutdown).await;
    renderer.abort();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sine-warp: server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
