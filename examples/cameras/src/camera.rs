//! The cameras' scenery: an `ffmpeg` test pattern piped into a hub, and the
//! page. A real service runs its camera's command (or reads its device) the
//! same way.

use std::process::Stdio;

use mjpeg_axum::pipe::PipeSource;
use mjpeg_axum::{BoxError, FrameHub};
use tokio::process::Command;

/// Plays ffmpeg's `pattern` (a `lavfi` source such as `testsrc`) into
/// `hub` at 15 fps until stopped; an error when ffmpeg cannot start or
/// ends. Dropping the future kills ffmpeg.
pub(crate) async fn ffmpeg(hub: FrameHub, pattern: &'static str) -> Result<(), BoxError> {
    let input = format!("{pattern}=size=640x360:rate=15");
    let mut child = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            &input,
        ])
        .args(["-f", "mjpeg", "-q:v", "5", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start ffmpeg: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or("ffmpeg's output cannot be read")?;
    let stats = PipeSource::new(stdout).publish_to(&hub).await?;
    let status = child.wait().await?;
    Err(format!("ffmpeg ended ({status}) after {} frames", stats.frames).into())
}

/// The page: every camera at full rate and at 2 fps, and the stream list.
pub(crate) fn page(cameras: &[(&str, &str)]) -> String {
    let tiles: String = cameras
        .iter()
        .map(|(name, _)| {
            format!(
                "<figure><img src=\"/streams/{name}/stream\" width=\"320\" alt=\"{name}\">\
                 <img src=\"/streams/{name}/stream?fps=2\" width=\"160\" alt=\"{name} at 2 fps\">\
                 <figcaption>{name}: full rate, and 2 fps</figcaption></figure>\n"
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>cameras</title>\
         <style>body{{font-family:sans-serif}}figure{{display:inline-block}}</style></head><body>\n\
         <h1>Cameras</h1>\n<p>Each camera's ffmpeg runs only while someone watches.</p>\n{tiles}\
         <pre id=\"streams\"></pre>\n<script>\n\
         setInterval(async () => {{ document.getElementById('streams').textContent = \
         JSON.stringify(await (await fetch('/streams')).json(), null, 1); }}, 1000);\n\
         </script>\n</body></html>\n"
    )
}
