//! Headless Chromium as a plain child process.
//!
//! [`run_page`] opens a URL in a fresh profile and waits for a signal from
//! the test (typically the viewer page's report reaching the test server),
//! then kills the whole browser process group and removes the profile.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::process::{Child, Command};

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
    let profile = Profile::create().map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let log = std::fs::File::create(profile.log()).map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let mut child = Command::new(program)
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.dir().display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ClientError::Spawn(PROGRAM, e))?;

    let outcome = tokio::select! {
        out = done => Ok(out),
        status = child.wait() => Err(ClientError::BadOutput(
            PROGRAM,
            format!("exited ({}) before the page finished: {}", describe(status), profile.log_tail()),
        )),
        () = tokio::time::sleep(timeout) => Err(ClientError::TimedOut(PROGRAM, timeout)),
    };
    shutdown(&mut child).await;
    drop(profile);
    outcome
}

fn describe(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(s) => s.to_string(),
        Err(e) => format!("wait failed: {e}"),
    }
}

/// Kills the browser's process group, reaps the browser, and waits (up to
/// 3 s) until no process of the group is left.
async fn shutdown(child: &mut Child) {
    let group = child.id().map(|pid| format!("-{pid}"));
    if let Some(group) = &group {
        let _ = signal_group("-KILL", group).await;
    }
    let _ = child.kill().await;
    if let Some(group) = &group {
        for _ in 0..30 {
            if !signal_group("-0", group).await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `kill SIGNAL -- -PGID`; true if some process of the group got it.
async fn signal_group(signal: &str, group: &str) -> bool {
    Command::new("kill")
        .args([signal, "--", group])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// A fresh profile directory, removed on drop.
#[derive(Debug)]
struct Profile(PathBuf);

impl Profile {
    fn create() -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "clients-chromium-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir(&dir)?;
        Ok(Self(dir))
    }

    fn dir(&self) -> &Path {
        &self.0
    }

    fn log(&self) -> PathBuf {
        self.0.join("stderr.log")
    }

    /// The last lines of Chromium's stderr, without the usual D-Bus noise.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.contains("dbus")).collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
