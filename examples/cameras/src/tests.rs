#![allow(clippy::unwrap_used)] // tests fail loudly

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

const WAIT: Duration = Duration::from_secs(15);

fn have_ffmpeg() -> bool {
    let found = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true requires ffmpeg"
    );
    if !found {
        eprintln!("skipping: ffmpeg is not installed");
    }
    found
}

/// The process's one recorder.
fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().unwrap())
        .clone()
}

async fn serve(linger: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = super::app(super::streams(linger), metrics());
    tokio::spawn(axum::serve(listener, app).into_future());
    format!("http://{addr}")
}

/// JPEG frames of a live stream read for `time`, at most `max`.
async fn frames(url: &str, time: Duration, max: usize) -> usize {
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    let mut body = res.bytes_stream();
    let (start, mut seen, mut count) = (Instant::now(), Vec::new(), 0);
    while start.elapsed() < time && count < max {
        let Ok(Some(chunk)) = tokio::time::timeout(WAIT, body.next()).await else {
            break;
        };
        seen.extend_from_slice(&chunk.unwrap());
        count = seen.windows(2).filter(|w| w == &[0xFF, 0xD8]).count();
    }
    count
}

/// The value of a Prometheus line starting with `prefix`.
fn value(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// ffmpeg processes that are children of this one (zombies included).
fn ffmpeg_children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // "pid (comm) state ppid ..."
            let Some((comm, rest)) = stat.split_once(") ") else {
                return false;
            };
            comm.ends_with("(ffmpeg") && rest.split(' ').nth(1) == Some(me.as_str())
        })
        .count()
}

async fn text(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < WAIT, "{what} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cameras_run_while_watched_at_each_viewers_rate_and_stop_after_the_linger() {
    if !have_ffmpeg() {
        return;
    }
    let url = serve(Duration::from_secs(1)).await;
    let list = text(&format!("{url}/streams")).await;
    assert!(
        list.contains(r#""name":"lobby","viewers":0,"published":0,"status":"idle""#),
        "{list}"
    );
    assert_eq!(ffmpeg_children(), 0);

    // Two viewers of one camera, one at 2 fps, for 3 s: one ffmpeg.
    let full = tokio::spawn({
        let url = format!("{url}/streams/lobby/stream");
        async move { frames(&url, Duration::from_secs(3), 1000).await }
    });
    let slow = frames(
        &format!("{url}/streams/lobby/stream?fps=2"),
        Duration::from_secs(3),
        1000,
    )
    .await;
    let full = full.await.unwrap();
    assert!(
        full >= 20,
        "the full-rate viewer got {full} frames in 3 s (15 fps source)"
    );
    assert!(
        (2..=9).contains(&slow),
        "the 2 fps viewer got {slow} frames in 3 s"
    );

    let scraped = text(&format!("{url}/metrics")).await;
    let sent = value(&scraped, r#"mjpeg_frames_sent_total{stream="lobby"}"#);
    assert!(sent >= (full + slow) as f64 - 2.0, "{sent} sent\n{scraped}");
    assert!(value(&scraped, r#"mjpeg_source_starts_total{stream="lobby"}"#) >= 1.0);
    eventually("disconnects counted by reason", async || {
        let scraped = text(&format!("{url}/metrics")).await;
        scraped.lines().any(|l| {
            l.starts_with("mjpeg_disconnects_total")
                && l.contains(r#"stream="lobby""#)
                && l.contains(r#"reason="client_closed""#)
        })
    })
    .await;

    // Nobody watches: after the 1 s linger the camera stops and its ffmpeg is gone.
    eventually("the camera going idle", async || {
        text(&format!("{url}/streams"))
            .await
            .contains(r#""name":"lobby","viewers":0"#)
            && text(&format!("{url}/streams"))
                .await
                .contains(r#""status":"idle""#)
    })
    .await;
    eventually("no ffmpeg left", async || ffmpeg_children() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_pushed_in_are_served() {
    let url = serve(Duration::from_secs(1)).await;
    let jpeg = vec![0xFF, 0xD8, 0x01, 0x02, 0xFF, 0xD9];
    let pushed = reqwest::Client::new()
        .post(format!("{url}/streams/push"))
        .header("content-type", "image/jpeg")
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200, "{}", pushed.text().await.unwrap());
    let snapshot = reqwest::get(format!("{url}/streams/push/snapshot"))
        .await
        .unwrap();
    assert_eq!(snapshot.bytes().await.unwrap(), jpeg);

    // A stream of two frames, as `ffmpeg -f mpjpeg -method POST` sends one.
    let second = vec![0xFF, 0xD8, 0x02, 0x03, 0xFF, 0xD9];
    let mut body = Vec::new();
    for frame in [&jpeg, &second] {
        body.extend_from_slice(b"--b\r\nContent-Type: image/jpeg\r\n\r\n");
        body.extend_from_slice(frame);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--b--\r\n");
    let pushed = reqwest::Client::new()
        .post(format!("{url}/streams/push"))
        .header("content-type", "multipart/x-mixed-replace; boundary=b")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);
    let snapshot = reqwest::get(format!("{url}/streams/push/snapshot"))
        .await
        .unwrap();
    assert_eq!(snapshot.bytes().await.unwrap(), second);

    let bad = reqwest::Client::new()
        .post(format!("{url}/streams/push"))
        .header("content-type", "multipart/x-mixed-replace; boundary=b")
        .body("not a multipart stream")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let unknown = reqwest::Client::new()
        .post(format!("{url}/streams/attic"))
        .header("content-type", "image/jpeg")
        .body(jpeg)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}
