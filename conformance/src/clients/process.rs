//! What every client process needs: its own process group (killed whole at
//! the end), a scratch directory removed on drop, and stdout read line by
//! line with the time each line arrived.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{ClientError, unix_ms};

/// Kills `child`'s process group, reaps the child, and waits (up to 3 s)
/// until no process of the group is left.
pub(crate) async fn kill_group(child: &mut Child) {
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

/// A fresh scratch directory (a browser profile, a log), removed on drop.
#[derive(Debug)]
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// `$TMPDIR/clients-<what>-<pid>-<n>-<nanos>`.
    pub(crate) fn create(what: &str) -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "clients-{what}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir(&dir)?;
        Ok(Self(dir))
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.0
    }

    /// Where the process's stderr goes.
    pub(crate) fn log(&self) -> PathBuf {
        self.0.join("stderr.log")
    }

    /// The last lines of the log that are not in `noise`.
    pub(crate) fn log_tail(&self, noise: &[&str]) -> String {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !noise.iter().any(|n| l.contains(n)))
            .collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A browser started as a plain child: opens the page itself, and is done
/// when `done` resolves (the page's report reached the page server).
///
/// # Errors
/// [`ClientError::Spawn`], [`ClientError::TimedOut`], and
/// [`ClientError::BadOutput`] (with the end of its stderr) if it exited first.
pub(crate) async fn run_browser<F: std::future::Future>(
    name: &'static str,
    mut command: Command,
    scratch: Scratch,
    timeout: Duration,
    done: F,
) -> Result<F::Output, ClientError> {
    let log = std::fs::File::create(scratch.log()).map_err(|e| ClientError::Spawn(name, e))?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ClientError::Spawn(name, e))?;
    let outcome = tokio::select! {
        out = done => Ok(out),
        status = child.wait() => Err(ClientError::BadOutput(
            name,
            format!("exited ({}) before the page finished: {}", describe(status), scratch.log_tail(&["dbus"])),
        )),
        () = tokio::time::sleep(timeout) => Err(ClientError::TimedOut(name, timeout)),
    };
    kill_group(&mut child).await;
    drop(scratch);
    outcome
}

fn describe(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(s) => s.to_string(),
        Err(e) => format!("wait failed: {e}"),
    }
}

/// What a decoder process printed, each stdout record with the unix ms it arrived.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub(crate) records: Vec<(u64, Vec<u8>)>,
    pub(crate) stderr: String,
    /// `None`: killed at the timeout.
    pub(crate) status: Option<ExitStatus>,
}

/// How stdout splits into records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Records {
    /// Text lines.
    Lines,
    /// Fixed-size binary records (e.g. 3 bytes: one RGB pixel per frame).
    Fixed(usize),
}

/// Runs a decoder in its own process group until it exits or `timeout`
/// passes (then its group is killed and what it printed so far is kept).
///
/// # Errors
/// [`ClientError::Spawn`] if it cannot start.
pub(crate) async fn run_decoder(
    name: &'static str,
    mut command: Command,
    records: Records,
    timeout: Duration,
) -> Result<Output, ClientError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ClientError::Spawn(name, e))?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        kill_group(&mut child).await;
        return Err(ClientError::BadOutput(name, "no pipes".into()));
    };
    let collected = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = tokio::spawn(read_records(stdout, records, collected.clone()));
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let status = tokio::time::timeout(timeout, child.wait()).await;
    let status = match status {
        Ok(Ok(status)) => Some(status),
        Ok(Err(_)) | Err(_) => None,
    };
    kill_group(&mut child).await;
    // The pipes close once the group is gone; bounded anyway.
    let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    let stderr = tokio::time::timeout(Duration::from_secs(2), errors)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let records = collected.lock().map(|r| r.clone()).unwrap_or_default();
    Ok(Output {
        records,
        stderr,
        status,
    })
}

type Collected = std::sync::Arc<std::sync::Mutex<Vec<(u64, Vec<u8>)>>>;

async fn read_records(stdout: impl AsyncRead + Unpin, records: Records, out: Collected) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut record = Vec::new();
        let got = match records {
            Records::Lines => reader
                .read_until(b'\n', &mut record)
                .await
                .is_ok_and(|n| n > 0),
            Records::Fixed(len) => {
                record.resize(len, 0);
                reader.read_exact(&mut record).await.is_ok()
            }
        };
        if !got {
            return;
        }
        if let Ok(mut out) = out.lock() {
            out.push((unix_ms(), record));
        }
    }
}
