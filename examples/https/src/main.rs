//! Sixteen cameras on one page over HTTPS. Over HTTP/1.1 a browser opens at
//! most six connections per origin and each live stream holds one, so such
//! a page draws six; over HTTPS with HTTP/2 all streams share one connection.
//!
//! ```text
//! cargo run -p mjpeg-example-https -- --addr 127.0.0.1:8443
//! ```
//!
//! then open <https://localhost:8443> and accept the self-signed certificate
//! made at start. With a real certificate: `--cert fullchain.pem --key privkey.pem`
//! (see this crate's README).

mod camera;

use std::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use mjpeg_axum::{FrameHub, MjpegLayer, Server, TlsConfig};

/// Serves a page of live cameras over HTTPS (HTTP/2 and HTTP/1.1).
#[derive(Debug, Parser)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8443")]
    addr: SocketAddr,
    /// How many cameras the page shows.
    #[arg(long, default_value_t = 16)]
    cameras: usize,
    /// A PEM certificate chain (leaf first); without it a self-signed
    /// certificate for localhost is made at start.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// The PEM private key of `--cert`.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
}

/// The page and one stream per camera: `/camera/{n}`.
fn app(cameras: Vec<FrameHub>) -> Router {
    let page = page(cameras.len());
    Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/camera/{n}", get(camera))
        .with_state(cameras)
        .layer(MjpegLayer::new())
}

async fn camera(State(cameras): State<Vec<FrameHub>>, Path(n): Path<usize>) -> Response {
    match cameras.get(n) {
        Some(hub) => hub.subscribe().into_response(),
        None => (StatusCode::NOT_FOUND, "no such camera").into_response(),
    }
}

fn page(cameras: usize) -> String {
    let images: String = (0..cameras)
        .map(|n| {
            format!("<img src=\"/camera/{n}\" alt=\"camera {n}\" width=\"160\" height=\"120\">\n")
        })
        .collect();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{cameras} cameras</title></head>\n\
         <body style=\"margin:0;background:#222\">\n{images}</body></html>\n"
    )
}

/// A self-signed certificate for `localhost`, `127.0.0.1` and `::1`.
fn self_signed() -> Result<TlsConfig, Box<dyn Error>> {
    let names = ["localhost", "127.0.0.1", "::1"]
        .map(str::to_owned)
        .to_vec();
    let made = rcgen::generate_simple_self_signed(names)?;
    let tls = TlsConfig::from_pem(
        made.cert.pem().as_bytes(),
        made.signing_key.serialize_pem().as_bytes(),
    )?;
    Ok(tls)
}

/// Starts the cameras and serves them on `addr` over HTTPS; returns the
/// bound address and the serving task.
async fn start(
    addr: SocketAddr,
    cameras: usize,
    tls: TlsConfig,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let hubs: Vec<FrameHub> = (0..cameras).map(|_| FrameHub::new()).collect();
    for (index, hub) in hubs.iter().enumerate() {
        tokio::spawn(camera::run(index, hub.clone()));
    }
    let listener = mjpeg_axum::listener_with(Server::new().tls(Some(tls)), addr).await?;
    let bound = axum::serve::Listener::local_addr(&listener)?;
    let serving = tokio::spawn(async move { axum::serve(listener, app(hubs)).await });
    Ok((bound, serving))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => TlsConfig::from_pem_files(cert, key)?,
        _ => self_signed()?,
    };
    let (addr, serving) = start(args.addr, args.cameras, tls).await?;
    println!("{} cameras on https://{addr}/", args.cameras);
    if args.cert.is_none() {
        println!(
            "(a self-signed certificate made at start: your browser will ask you to accept it)"
        );
    }
    serving.await??;
    Ok(())
}

#[cfg(test)]
mod tests;
