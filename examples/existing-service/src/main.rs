//! MJPEG added to a service that already exists: ordinary routes behind
//! tower-http's tracing and compression layers, the service's own auth,
//! `ConnectInfo`, and a graceful shutdown that stops the hubs first. The
//! MJPEG part is the `// MJPEG:` lines.
//!
//! Run with `cargo run -p mjpeg-example-existing-service`, then open
//! <http://127.0.0.1:3000>. The camera needs the token (`CAMERA_TOKEN`,
//! `secret` by default): programs send it as a bearer token
//! (`curl -H 'Authorization: Bearer secret' http://127.0.0.1:3000/camera/snapshot -o s.jpg`),
//! a page's `<img>` cannot, so people log in once at `/login`, which sets a
//! session cookie that the `<img>` requests carry (see `auth.rs`).

mod auth;
mod camera;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::middleware;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use mjpeg_axum::{FrameHub, MjpegLayer};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// The service: its own routes, and the camera routes MJPEG adds.
fn app(hub: FrameHub, token: &str) -> Router {
    let auth = auth::Auth::new(token);
    // MJPEG: the camera routes, behind the service's own auth (bearer or
    // session cookie): a refusal passes through `MjpegLayer` untouched.
    let camera = Router::new()
        .route(
            "/stream",
            get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .route(
            "/snapshot",
            get(|State(hub): State<FrameHub>| async move { hub.snapshot() }),
        )
        .with_state(hub)
        .layer(middleware::from_fn_with_state(auth.clone(), auth::require));
    let login = Router::new()
        .route("/login", get(auth::form).post(auth::login))
        .with_state(auth);
    Router::new()
        .route("/", get(index))
        .merge(login)
        .route("/api/whoami", get(whoami))
        .nest("/camera", camera) // MJPEG: mounted like any other router
        // Order matters: compression runs inside MJPEG, so the stream is made
        // after compression ran and goes out uncompressed, while the other
        // routes are compressed as before.
        .layer(CompressionLayer::new())
        .layer(MjpegLayer::new()) // MJPEG: one line
        .layer(TraceLayer::new_for_http())
}

async fn index() -> Html<&'static str> {
    Html(include_str!("index.html"))
}

async fn whoami(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Json<String> {
    Json(peer.to_string())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().init();
    let hub = FrameHub::new(); // MJPEG
    tokio::spawn(camera::run(hub.clone())); // MJPEG
    let token = std::env::var("CAMERA_TOKEN").unwrap_or_else(|_| "secret".into());
    let listener = mjpeg_axum::listener(([127, 0, 0, 1], 3000).into()).await?; // MJPEG: instead of TcpListener::bind
    let stopping = hub.clone();
    axum::serve(
        listener,
        app(hub, &token).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopping.stop(); // MJPEG: viewers get the close delimiter, so shutdown can finish
    })
    .await
}

#[cfg(test)]
mod tests;
