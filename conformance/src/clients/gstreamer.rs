//! GStreamer: `souphttpsrc ! multipartdemux ! jpegdec`, each picture scaled
//! to one RGB pixel and hex-dumped by `fakesink`, one line per picture.

use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;

use super::decoded::Decoded;
use super::process::{Records, run_decoder};
use super::{ClientError, Seen, find_program};

const PROGRAM: &str = "gst-launch-1.0";

/// `/usr/bin/gst-launch-1.0`, else on `PATH`.
pub fn gst_path() -> Option<PathBuf> {
    find_program("/usr/bin/gst-launch-1.0", PROGRAM)
}

/// The pipeline's elements after the source.
const PIPELINE: &[&str] = &[
    "!",
    "multipartdemux",
    "!",
    "jpegdec",
    "!",
    "videoconvert",
    "!",
    "videoscale",
    "!",
    "video/x-raw,format=RGB,width=1,height=1",
    "!",
    "fakesink",
    "dump=true",
    "sync=false",
];

/// Decodes up to `n` pictures of the stream at `url`, for at most `timeout`.
///
/// # Errors
/// [`ClientError::NotInstalled`] and [`ClientError::Spawn`]; what it decoded
/// and printed is in the [`Decoded`] otherwise.
pub async fn decode(url: &str, n: usize, timeout: Duration) -> Result<Decoded, ClientError> {
    let program = gst_path().ok_or(ClientError::NotInstalled(PROGRAM))?;
    // Line-buffered stdout (fakesink prints through stdio), so each line's
    // arrival time is the picture's.
    let stdbuf = find_program("/usr/bin/stdbuf", "stdbuf");
    let mut command = match &stdbuf {
        Some(stdbuf) => {
            let mut c = Command::new(stdbuf);
            c.arg("-oL").arg(program);
            c
        }
        None => Command::new(program),
    };
    command
        .arg("-q")
        .arg("souphttpsrc")
        .arg(format!("location={url}"))
        .args(PIPELINE)
        .arg(format!("num-buffers={n}"));
    let out = run_decoder(PROGRAM, command, Records::Lines, timeout).await?;
    let frames = out
        .records
        .iter()
        .filter_map(|(t, line)| pixel(&String::from_utf8_lossy(line)).map(|p| (t, p)))
        .map(|(&t, [r, g, b])| Seen {
            t: t as f64,
            r,
            g,
            b,
            a: 255,
        })
        .collect();
    Ok(Decoded::new(frames, &out.stderr, out.status, |l| {
        l.contains("ERROR") || l.contains("CRITICAL")
    }))
}

/// The RGB bytes of a `fakesink dump=true` line:
/// `00000000 (0x7f..): fe 00 01 00    ....`.
fn pixel(line: &str) -> Option<[u8; 3]> {
    let hex = line.split_once("): ")?.1;
    let mut bytes = hex.split_whitespace().map_while(|w| {
        (w.len() == 2)
            .then(|| u8::from_str_radix(w, 16).ok())
            .flatten()
    });
    Some([bytes.next()?, bytes.next()?, bytes.next()?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pixel_of_a_dump_line() {
        let line = "00000000 (0x7f9538004cf0): fe 00 01 00                                      ....            \n";
        assert_eq!(pixel(line), Some([0xfe, 0, 1]));
        assert_eq!(pixel("Setting pipeline to PLAYING ..."), None);
        assert_eq!(pixel("00000000 (0x1): fe 00"), None);
    }
}
