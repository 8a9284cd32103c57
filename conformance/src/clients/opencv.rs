//! OpenCV: `cv2.VideoCapture(url, cv2.CAP_FFMPEG)` in Debian's Python,
//! printing each picture's time and mean colour.

use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;

use super::decoded::Decoded;
use super::process::{Records, run_decoder};
use super::{ClientError, Seen, find_program};

const PROGRAM: &str = "python3-opencv";

/// Reads `n` pictures; prints `frame <unix ms> <r> <g> <b>` for each, `end`
/// when the stream ends first, `open-failed` if it cannot open.
const SCRIPT: &str = r#"
import sys, time, cv2
url, n = sys.argv[1], int(sys.argv[2])
cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
if not cap.isOpened():
    print("open-failed", flush=True)
    sys.exit(3)
for _ in range(n):
    ok, img = cap.read()
    if not ok:
        print("end", flush=True)
        break
    b, g, r = (int(round(x)) for x in img.reshape(-1, 3).mean(axis=0))
    print("frame", int(time.time() * 1000), r, g, b, flush=True)
cap.release()
"#;

/// Debian's `/usr/bin/python3` if it can import `cv2` (python3-opencv).
pub fn python_path() -> Option<PathBuf> {
    let python = find_program("/usr/bin/python3", "python3")?;
    let ok = std::process::Command::new(&python)
        .args(["-c", "import cv2"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

/// Decodes up to `n` pictures of the stream at `url`, for at most `timeout`.
///
/// # Errors
/// [`ClientError::NotInstalled`] and [`ClientError::Spawn`]; what it decoded
/// and printed is in the [`Decoded`] otherwise.
pub async fn decode(url: &str, n: usize, timeout: Duration) -> Result<Decoded, ClientError> {
    let python = python_path().ok_or(ClientError::NotInstalled(PROGRAM))?;
    let mut command = Command::new(python);
    command.args(["-c", SCRIPT, url, &n.to_string()]);
    let out = run_decoder(PROGRAM, command, Records::Lines, timeout).await?;
    let mut frames = Vec::new();
    let mut errors = String::new();
    for (_, line) in &out.records {
        let line = String::from_utf8_lossy(line);
        match parse(&line) {
            Some(seen) => frames.push(seen),
            None if line.trim() == "open-failed" => errors.push_str("could not open the stream\n"),
            None => {}
        }
    }
    errors.push_str(&out.stderr);
    Ok(Decoded::new(frames, &errors, out.status, |l| {
        let l = l.to_ascii_lowercase();
        l.contains("error") || l.contains("could not open") || l.contains("traceback")
    }))
}

/// `frame <t> <r> <g> <b>`.
fn parse(line: &str) -> Option<Seen> {
    let mut words = line.split_whitespace();
    (words.next()? == "frame").then_some(())?;
    let t: f64 = words.next()?.parse().ok()?;
    let mut c = words.map(|w| w.parse::<u8>().ok());
    Some(Seen {
        t,
        r: c.next()??,
        g: c.next()??,
        b: c.next()??,
        a: 255,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frame_lines() {
        let s = parse("frame 1795956520258 254 0 1\n").expect("frame");
        assert_eq!((s.t, s.r, s.g, s.b), (1795956520258.0, 254, 0, 1));
        assert!(parse("end").is_none());
        assert!(parse("frame x 1 2 3").is_none());
    }
}
