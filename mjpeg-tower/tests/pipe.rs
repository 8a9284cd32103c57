//! The pipe source on real ffmpeg output.
#![allow(clippy::unwrap_used)] // test code fails loudly

use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use mjpeg_tower::FrameHub;
use mjpeg_tower::pipe::PipeSource;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// `ffmpeg`, or `None` (with a message) when it is missing outside CI.
fn ffmpeg() -> Option<&'static str> {
    let found = std::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some("ffmpeg");
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "ffmpeg is required in CI"
    );
    eprintln!("skipped: ffmpeg is not installed");
    None
}

#[tokio::test]
async fn ffmpeg_mjpeg_output_gives_twenty_whole_frames() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let mut child = Command::new(ffmpeg)
        .args(["-loglevel", "error", "-f", "lavfi"])
        .args(["-i", "testsrc=size=320x240:rate=10", "-frames:v", "20"])
        .args(["-f", "mjpeg", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut source = PipeSource::new(child.stdout.take().unwrap());
    let mut frames = Vec::new();
    let read_all = async {
        while let Some(frame) = source.next().await {
            frames.push(frame.unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read_all)
        .await
        .expect("ffmpeg finished within 60 s");
    assert!(child.wait().await.unwrap().success());

    assert_eq!(frames.len(), 20);
    let stats = source.stats();
    assert_eq!(
        (stats.frames, stats.errors(), stats.garbage_bytes),
        (20, 0, 0)
    );
    for frame in &frames {
        let data = frame.data();
        assert!(data.starts_with(&[0xFF, 0xD8]) && data.ends_with(&[0xFF, 0xD9]));
        assert!(data.len() > 1000, "a 320x240 picture: {} bytes", data.len());
    }
    // testsrc moves every frame: no two frames are the same.
    let mut distinct: Vec<_> = frames.iter().map(|f| f.data().clone()).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 20);

    // ffmpeg decodes each frame we cut, one picture per frame.
    let mut decoder = Command::new(ffmpeg)
        .args(["-loglevel", "error", "-f", "mjpeg", "-i", "-"])
        .args(["-f", "framemd5", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = decoder.stdin.take().unwrap();
    let input: Vec<u8> = frames.iter().flat_map(|f| f.data().to_vec()).collect();
    let write = async move {
        stdin.write_all(&input).await.unwrap();
    };
    let (_, out) = tokio::join!(write, decoder.wait_with_output());
    let out = out.unwrap();
    assert!(out.status.success());
    let pictures = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    assert_eq!(pictures, 20);
}

#[tokio::test]
async fn ffmpeg_output_feeds_a_hub() {
    let Some(ffmpeg) = ffmpeg() else { return };
    let mut child = Command::new(ffmpeg)
        .args(["-loglevel", "error", "-f", "lavfi"])
        .args(["-i", "testsrc=size=160x120:rate=10", "-frames:v", "5"])
        .args(["-f", "mjpeg", "-"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let hub = FrameHub::new();
    let source = PipeSource::new(child.stdout.take().unwrap());
    let stats = tokio::time::timeout(Duration::from_secs(60), source.publish_to(&hub))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stats.frames, stats.errors()), (5, 0));
    assert_eq!(hub.stats().published, 5);
    assert!(hub.latest().unwrap().data().ends_with(&[0xFF, 0xD9]));
}

#[tokio::test]
async fn a_pipe_streams_to_one_viewer_as_a_per_request_stream() {
    use http_body_util::BodyExt;
    use mjpeg_tower::Mjpeg;

    const INPUT: &[u8] =
        b"\xFF\xD8\xFF\xDA\x00\x02one\xFF\xD9garbage\xFF\xD8\xFF\xDA\x00\x02two\xFF\xD9";
    let res = Mjpeg::try_new(PipeSource::new(INPUT)).into_http_response();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(text.matches("one").count(), 1);
    assert!(text.contains("two"));
    assert!(!text.contains("garbage"));
    assert!(
        text.ends_with("--\r\n"),
        "ends with the close delimiter: {text}"
    );
}
