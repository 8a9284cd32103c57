//! What a decoding client (ffmpeg, GStreamer, OpenCV) reports: each decoded
//! picture's mean colour with the time it came out, and its errors.

use std::process::ExitStatus;

use super::Seen;

/// One decoder run.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Decoded {
    /// Each decoded picture, in order: when it came out (unix ms) and its colour.
    pub frames: Vec<Seen>,
    /// Error lines it printed, and a non-zero exit.
    pub errors: Vec<String>,
    /// `false`: still running at the deadline (killed; an endless stream).
    pub exited: bool,
}

impl Decoded {
    /// Collects `frames` and the error lines of `stderr` (those `is_error` keeps).
    pub(crate) fn new(
        frames: Vec<Seen>,
        stderr: &str,
        status: Option<ExitStatus>,
        is_error: impl Fn(&str) -> bool,
    ) -> Self {
        let mut errors: Vec<String> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && is_error(l))
            .take(10)
            .map(str::to_owned)
            .collect();
        if let Some(status) = status
            && !status.success()
        {
            errors.push(format!("exited with {status}"));
        }
        Self {
            frames,
            errors,
            exited: status.is_some(),
        }
    }

    /// Distinct palette colours among the decoded pictures.
    pub fn distinct(&self) -> usize {
        let mut seen: Vec<usize> = self.frames.iter().map(|s| s.colour().nearest()).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }
}
