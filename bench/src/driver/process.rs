//! The driver's side of the line protocol with its child processes (`bench
//! server`, `bench load`): spawning, sending and awaiting lines, shutting down.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub(super) enum Stop {
    Skip(String),
    Fail(String),
}

pub(super) fn fail(e: impl Into<String>) -> Stop {
    Stop::Fail(e.into())
}

/// A child process with line-oriented stdin/stdout; killed and reaped on drop.
pub(super) struct Proc {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    pub(super) fn spawn(name: &'static str, exe: &Path, args: &[String]) -> Result<Self, Stop> {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| fail(format!("spawn {name}: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or_else(|| fail("no stdout"))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            name,
            child,
            stdin,
            lines,
        })
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(super) fn send(&mut self, line: &str) -> Result<(), Stop> {
        let stdin = self.stdin.as_mut().ok_or_else(|| fail("stdin closed"))?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| fail(format!("{}: write {line:?}: {e}", self.name)))
    }

    /// The next line starting with `prefix`; an `error ...` line becomes a skip.
    pub(super) fn expect(&mut self, prefix: &str, timeout: Duration) -> Result<String, Stop> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(fail(format!(
                        "{}: no {prefix:?} line within {timeout:?}",
                        self.name
                    )));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.try_wait().ok().flatten();
                    return Err(fail(format!(
                        "{} exited ({status:?}) before {prefix:?}",
                        self.name
                    )));
                }
            };
            if let Some(rest) = line.strip_prefix("error ") {
                return Err(Stop::Skip(format!("{}: {rest}", self.name)));
            }
            if let Some(rest) = line.strip_prefix(prefix) {
                return Ok(rest.trim().to_owned());
            }
        }
    }

    pub(super) fn json(&mut self, prefix: &str, timeout: Duration) -> Result<Value, Stop> {
        let text = self.expect(prefix, timeout)?;
        serde_json::from_str(&text).map_err(|e| fail(format!("{}: bad JSON: {e}", self.name)))
    }

    /// Closes its stdin (which stops `bench server`) and waits up to
    /// `timeout` for it to exit; whether it did.
    pub(super) fn close_and_wait(mut self, timeout: Duration) -> bool {
        self.stdin = None;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Asks the process to quit, then makes sure it is gone.
    pub(super) fn finish(mut self) {
        let _ = self.send("quit");
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

pub(super) fn server_stats(server: &mut Proc) -> Result<Value, Stop> {
    server.send("stats")?;
    server.json("", Duration::from_secs(10))
}

/// Tells `load` to `start` or `stop` its window at the frame `server` has
/// just published; the server's stats at that moment.
pub(super) fn mark(server: &mut Proc, load: &mut Proc, verb: &str) -> Result<Value, Stop> {
    let stats = server_stats(server)?;
    let seq = stats["published"].as_u64().unwrap_or(0);
    load.send(&format!("{verb} {seq}"))?;
    Ok(stats)
}
