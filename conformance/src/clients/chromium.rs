//! Headless Chromium as a plain child process.
//!
//! [`run_page`] opens a URL in a fresh profile and waits for a signal from
//! the test (typically the viewer page's report reaching the test server),
//! then kills the whole browser process group and removes the profile.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;

use super::process::{Scratch, run_browser};
use super::{ClientError, find_program};

const PROGRAM: &str = "chromium";

/// The flags every run uses (besides `--user-data-dir`). Without the
/// background-networking ones Chromium stalls on this machine.
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
];

/// `/usr/bin/chromium`, else `chromium` on `PATH`.
pub fn chromium_path() -> Option<PathBuf> {
    find_program("/usr/bin/chromium", PROGRAM)
}

/// Opens `url` in headless Chromium and waits for `done`, at most `timeout`.
///
/// Chromium runs in its own process group with a fresh profile directory;
/// both are gone when this returns (and the process is killed on drop if the
/// future is cancelled).
///
/// # Errors
/// [`ClientError::NotInstalled`], [`ClientError::Spawn`],
/// [`ClientError::TimedOut`] if `done` did not resolve in time, and
/// [`ClientError::BadOutput`] (with the end of its stderr) if Chromium exited
/// first.
pub async fn run_page<F: Future>(
    url: &str,
    timeout: Duration,
    done: F,
) -> Result<F::Output, ClientError> {
    let program = chromium_path().ok_or(ClientError::NotInstalled(PROGRAM))?;
    let profile = Scratch::create("chromium").map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let mut command = Command::new(program);
    command
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.dir().display()));
    if url.starts_with("https:") {
        // The page server's certificate comes from a CA made for the run.
        command.arg("--ignore-certificate-errors");
    }
    command.arg(url);
    run_browser(PROGRAM, command, profile, timeout, done).await
}
