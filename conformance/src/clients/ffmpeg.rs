//! ffmpeg's `mpjpeg` demuxer as a client: decode frames from a stream URL
//! and report one MD5 per decoded picture (`-f framemd5`).

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::Command;

use super::decoded::Decoded;
use super::process::{Records, run_decoder};
use super::{ClientError, Seen, find_program};

const PROGRAM: &str = "ffmpeg";

/// `/usr/bin/ffmpeg`, else `ffmpeg` on `PATH`.
pub fn ffmpeg_path() -> Option<PathBuf> {
    find_program("/usr/bin/ffmpeg", PROGRAM)
}

/// What one ffmpeg run did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FfmpegReport {
    /// Pictures decoded.
    pub frames: usize,
    /// The MD5 of each decoded picture, in order.
    pub md5s: Vec<String>,
    /// ffmpeg's exit status.
    pub status: ExitStatus,
    /// Everything ffmpeg printed on stderr (`-loglevel error`: only errors).
    pub stderr: String,
}

impl FfmpegReport {
    /// Distinct pictures among those decoded.
    pub fn distinct(&self) -> usize {
        let mut md5s = self.md5s.clone();
        md5s.sort();
        md5s.dedup();
        md5s.len()
    }

    /// `self` if ffmpeg exited 0 and printed no error.
    ///
    /// # Errors
    /// [`ClientError::BadOutput`] with the status and stderr otherwise.
    pub fn check(self) -> Result<Self, ClientError> {
        if self.status.success() && self.stderr.trim().is_empty() {
            Ok(self)
        } else {
            Err(ClientError::BadOutput(
                PROGRAM,
                format!(
                    "{} after {} frames: {}",
                    self.status,
                    self.frames,
                    self.stderr.trim()
                ),
            ))
        }
    }
}

/// Decodes up to `n` frames of the `multipart/x-mixed-replace` stream at
/// `url`, then checks the run with [`FfmpegReport::check`].
///
/// Fewer than `n` frames is not an error by itself (a finite stream may end
/// first): compare [`FfmpegReport::frames`].
///
/// # Errors
/// As [`run`], plus [`ClientError::BadOutput`] if ffmpeg exited non-zero or
/// printed an error.
pub async fn read_frames(
    url: &str,
    n: usize,
    timeout: Duration,
) -> Result<FfmpegReport, ClientError> {
    run(url, n, timeout).await?.check()
}

/// `ffmpeg` reading at most `n` pictures of the MJPEG stream at `url`, quietly;
/// the caller adds the output.
fn reading(url: &str, n: usize) -> Result<Command, ClientError> {
    let program = ffmpeg_path().ok_or(ClientError::NotInstalled(PROGRAM))?;
    let mut command = Command::new(program);
    command
        .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
        .args(["-f", "mpjpeg", "-i", url])
        .arg("-frames:v")
        .arg(n.to_string());
    Ok(command)
}

/// Runs `ffmpeg -f mpjpeg -i URL -frames:v N -f framemd5 -` and reports
/// what it did, whatever its exit status.
///
/// # Errors
/// [`ClientError::NotInstalled`], [`ClientError::Spawn`],
/// [`ClientError::TimedOut`] (ffmpeg is killed), and
/// [`ClientError::BadOutput`] if stdout is not framemd5 text.
pub async fn run(url: &str, n: usize, timeout: Duration) -> Result<FfmpegReport, ClientError> {
    let child = reading(url, n)?
        .args(["-f", "framemd5", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    // On timeout the future, and with it the child, is dropped: killed.
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| ClientError::TimedOut(PROGRAM, timeout))?
        .map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let stdout = String::from_utf8(output.stdout)
        .map_err(|e| ClientError::BadOutput(PROGRAM, format!("stdout is not utf-8: {e}")))?;
    let md5s = parse_framemd5(&stdout)?;
    Ok(FfmpegReport {
        frames: md5s.len(),
        md5s,
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Decodes up to `n` pictures of the stream at `url` (at most `timeout`),
/// each scaled to one RGB pixel on stdout as it comes out.
///
/// # Errors
/// [`ClientError::NotInstalled`] and [`ClientError::Spawn`]; what it decoded
/// and printed is in the [`Decoded`] otherwise.
pub async fn decode(url: &str, n: usize, timeout: Duration) -> Result<Decoded, ClientError> {
    let mut command = reading(url, n)?;
    command
        .args(["-vf", "scale=1:1", "-pix_fmt", "rgb24", "-f", "rawvideo"])
        .args(["-flush_packets", "1", "-"]);
    let out = run_decoder(PROGRAM, command, Records::Fixed(3), timeout).await?;
    let frames = out
        .records
        .iter()
        .map(|(t, px)| Seen {
            t: *t as f64,
            r: px[0],
            g: px[1],
            b: px[2],
            a: 255,
        })
        .collect();
    // `-loglevel error`: every line is an error.
    Ok(Decoded::new(frames, &out.stderr, out.status, |_| true))
}

/// The MD5s of framemd5 output: `stream, dts, pts, duration, size, md5` lines
/// after `#` comments.
fn parse_framemd5(text: &str) -> Result<Vec<String>, ClientError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let md5 = line.rsplit(',').next().unwrap_or_default().trim();
            if md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(md5.to_owned())
            } else {
                Err(ClientError::BadOutput(
                    PROGRAM,
                    format!("not a framemd5 line: {line:?}"),
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_framemd5() {
        let text = "#format: frame checksums\n#version: 2\n#hash: MD5\n#tb 0: 1/25\n\
                    #stream#, dts,        pts, duration,     size, hash\n\
                    0,          0,          0,        1,    13824, 0123456789abcdef0123456789abcdef\n\
                    0,          1,          1,        1,    13824, fedcba9876543210fedcba9876543210\n";
        let md5s = parse_framemd5(text).expect("parses");
        assert_eq!(md5s.len(), 2);
        assert_eq!(md5s[1], "fedcba9876543210fedcba9876543210");
        assert!(parse_framemd5("0, 0, 0, 1, 5, nothex\n").is_err());
        assert!(parse_framemd5("").expect("empty").is_empty());
    }
}
