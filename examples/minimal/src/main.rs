//! The README's snippet, compiled and tested: a hub fed by a camera loop,
//! its stream and snapshot routes, and `axum::serve` with slow-client
//! protection.
//!
//! Run with `cargo run -p mjpeg-example-minimal`, then open
//! <http://127.0.0.1:3000>.

mod camera;

use axum::{Router, extract::State, response::Html, routing::get};
use mjpeg_axum::{FrameHub, MjpegLayer};

// README:begin
fn app(hub: FrameHub) -> Router {
    Router::new()
        .route("/", get(|| async { Html(r#"<img src="/stream">"#) }))
        .route(
            "/stream",
            get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .route(
            "/snapshot",
            get(|State(hub): State<FrameHub>| async move { hub.snapshot() }),
        )
        .with_state(hub)
        .layer(MjpegLayer::new())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let hub = FrameHub::new();
    tokio::spawn(camera::run(hub.clone())); // hub.publish(Frame::jpeg(bytes)) in a loop
    let listener = mjpeg_axum::listener(([127, 0, 0, 1], 3000).into()).await?;
    axum::serve(listener, app(hub)).await
}
// README:end

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test helpers fail loudly

    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn the_readme_app_streams_and_snapshots() {
        let hub = FrameHub::new();
        tokio::spawn(camera::run(hub.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, app(hub)).into_future());

        let page = reqwest::get(format!("http://{addr}/")).await.unwrap();
        assert!(
            page.text()
                .await
                .unwrap()
                .contains(r#"<img src="/stream">"#)
        );
        let snap = reqwest::get(format!("http://{addr}/snapshot"))
            .await
            .unwrap();
        assert_eq!(snap.headers()["content-type"], "image/jpeg");
        assert!(snap.bytes().await.unwrap().starts_with(&[0xFF, 0xD8]));
        let live = reqwest::get(format!("http://{addr}/stream")).await.unwrap();
        assert!(
            live.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("multipart/x-mixed-replace; boundary=")
        );
        let mut body = live.bytes_stream();
        let mut seen = Vec::new();
        while mjpeg_count(&seen) < 3 {
            seen.extend_from_slice(&body.next().await.unwrap().unwrap());
        }
    }

    /// JPEG start-of-image markers in `bytes`.
    fn mjpeg_count(bytes: &[u8]) -> usize {
        bytes.windows(2).filter(|w| w == &[0xFF, 0xD8]).count()
    }

    #[test]
    fn the_readme_shows_exactly_this_code() {
        let source = include_str!("main.rs");
        let readme = include_str!("../../../README.md");
        let snippet = source
            .split("// README:begin\n")
            .nth(1)
            .and_then(|rest| rest.split("// README:end").next())
            .unwrap();
        assert!(
            readme.contains(snippet),
            "README.md must quote examples/minimal/src/main.rs between the README markers:\n{snippet}"
        );
    }

    /// The README's `[dependencies]` block names this crate's dependencies
    /// (but the drawing one) at the versions and tokio features it builds with.
    #[test]
    fn the_readme_lists_exactly_these_dependencies() {
        let readme = include_str!("../../../README.md");
        let manifest = include_str!("../Cargo.toml");
        let workspace = include_str!("../../../Cargo.toml");
        let block = readme
            .split("```toml\n[dependencies]\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap();
        let listed: Vec<&str> = block
            .lines()
            .filter_map(|line| line.split(" = ").next())
            .collect();
        assert_eq!(listed, ["mjpeg-axum", "axum", "tokio"], "{block}");
        let ours = manifest
            .split("[dependencies]\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap();
        for name in &listed {
            assert!(
                ours.contains(&format!("{name} = ")) || ours.contains(&format!("{name}.workspace"))
            );
        }
        let features = |text: &str| -> Vec<String> {
            let line = text.lines().find(|l| l.starts_with("tokio = ")).unwrap();
            let list = line.split("features = [").nth(1).unwrap();
            list.split(']')
                .next()
                .unwrap()
                .split(", ")
                .map(|f| f.trim_matches('"').to_owned())
                .collect()
        };
        assert_eq!(features(block), features(ours), "tokio features differ");
        let major = |text: &str, name: &str| -> String {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{name} = ")))
                .unwrap();
            let version = line.split('"').nth(1).unwrap();
            version.split('.').take(2).collect::<Vec<_>>().join(".")
        };
        assert_eq!(major(block, "axum"), major(workspace, "axum"));
        assert_eq!(major(block, "mjpeg-axum"), major(workspace, "version"));
    }
}
