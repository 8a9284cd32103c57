//! MJPEG added to a service that already exists: ordinary routes behind
//! tower-http's tracing, compression and auth layers, `ConnectInfo`, and a
//! graceful shutdown that stops the hubs first. The MJPEG part is the
//! `// MJPEG:` lines.
//!
//! Run with `cargo run -p mjpeg-example-existing-service`, then open
//! <http://127.0.0.1:3000> (the camera needs `Authorization: Bearer secret`:
//! `curl -H 'Authorization: Bearer secret' http://127.0.0.1:3000/camera/snapshot -o s.jpg`).

mod camera;

use std::net::SocketAddr;

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mjpeg_axum::{FrameHub, MjpegLayer};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// The service: its own routes, and the camera routes MJPEG adds.
fn app(hub: FrameHub, token: &str) -> Router {
    // MJPEG: the camera routes, behind the service's own auth.
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
        .layer(middleware::from_fn_with_state(
            Arc::from(token),
            require_token,
        ));
    Router::new()
        .route("/", get(index))
        .route("/api/whoami", get(whoami))
        .nest("/camera", camera) // MJPEG: mounted like any other router
        // Order matters: compression runs inside MJPEG, so the stream is made
        // after compression ran and goes out uncompressed, while the other
        // routes are compressed as before.
        .layer(CompressionLayer::new())
        .layer(MjpegLayer::new()) // MJPEG: one line
        .layer(TraceLayer::new_for_http())
}

/// The service's own auth: `Authorization: Bearer <token>`, or `401`.
async fn require_token(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let expected = format!("Bearer {token}");
    let given = req.headers().get(header::AUTHORIZATION);
    if given.is_some_and(|v| v.as_bytes() == expected.as_bytes()) {
        next.run(req).await
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
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
