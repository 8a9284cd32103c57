//! `--url` against a server that is not one of our backends: a minimal
//! hyper server that frames the classic way (delimiter before each part,
//! `Content-Length` per part, its own boundary), as many cameras do.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use http_body_util::StreamBody;
use http_body_util::combinators::BoxBody;
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mjpeg_conformance::clients::{frame_colour, solid_jpeg};
use tokio::net::TcpListener;

const BOUNDARY: &str = "camera_frame_7";

/// Parts `--B`, headers with `Content-Length`, payload, CRLF: the delimiter
/// of the next part comes only with the next frame (20 fps, endless).
fn camera_stream() -> BoxBody<Bytes, Infallible> {
    let frames = futures_util::stream::unfold(0usize, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let jpeg = solid_jpeg(frame_colour(n)).unwrap_or_default();
        let mut part = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        )
        .into_bytes();
        part.extend_from_slice(&jpeg);
        part.extend_from_slice(b"\r\n");
        Some((Ok::<_, Infallible>(Frame::data(Bytes::from(part))), n + 1))
    });
    StreamBody::new(frames).boxed()
}

async fn handle(
    req: Request<Incoming>,
) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
    let empty = || http_body_util::Empty::new().boxed();
    if req.uri().path() != "/cam" {
        let mut res = Response::new(empty());
        *res.status_mut() = StatusCode::NOT_FOUND;
        return Ok(res);
    }
    let body = if req.method() == Method::HEAD {
        empty()
    } else {
        camera_stream()
    };
    let res = Response::builder()
        .header(
            "content-type",
            format!("multipart/x-mixed-replace;boundary={BOUNDARY}"),
        )
        .header("cache-control", "no-cache")
        .body(body)
        .unwrap_or_else(|_| Response::new(http_body_util::Empty::new().boxed()));
    Ok(res)
}

/// Serves `handle` on a free loopback port until the task is aborted.
async fn camera() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(handle)),
            );
        }
    });
    (format!("http://{addr}/cam"), task)
}

/// The status of a check or matrix cell in the JSON report.
fn status<'a>(json: &'a serde_json::Value, key: &str, field: &str, name: &str) -> &'a str {
    json[key]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r[field] == name))
        .and_then(|r| r["status"].as_str())
        .unwrap_or("missing")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_mode_checks_a_server_that_is_not_ours() {
    let (url, server) = camera().await;
    let json_path = std::env::temp_dir().join(format!("url-mode-{}.json", std::process::id()));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mjpeg-conformance"))
        .args(["--url", &url, "--json"])
        .arg(&json_path)
        .args([
            "--client",
            "ffmpeg",
            "--client",
            "gstreamer",
            "--client",
            "chromium",
        ])
        .args(["--check", "stream_status_and_multipart_type"])
        .args(["--check", "stream_parts_parse_strictly"])
        .args(["--check", "head_answers_what_get_would"])
        .args(["--check", "max_clients_gives_503"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("the suite finishes")
        .expect("the suite runs");
    server.abort();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = std::fs::read(&json_path).expect("json written");
    let _ = std::fs::remove_file(&json_path);
    let json: serde_json::Value = serde_json::from_slice(&report).expect("json");
    assert!(out.status.success(), "{text}");
    // The wire checks ran on the URL and saw its own framing.
    for check in [
        "stream_status_and_multipart_type",
        "stream_parts_parse_strictly",
        "head_answers_what_get_would",
    ] {
        assert_eq!(status(&json, "results", "check", check), "pass", "{text}");
    }
    let detail = json["results"][0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(BOUNDARY), "{detail}");
    // A check that needs our lifecycle hooks says why it did not run.
    assert_eq!(
        status(&json, "results", "check", "max_clients_gives_503"),
        "skip"
    );
    assert!(
        text.contains("SKIP max_clients_gives_503 [url]: needs our backend"),
        "{text}"
    );
    // Real clients watched the stream as served (a client missing here is a skip).
    for client in ["ffmpeg", "gstreamer", "chromium"] {
        let s = status(&json, "matrix", "client", client);
        assert!(s == "pass" || s == "skip", "{client}: {s}\n{text}");
    }
}
