//! Viewers that watch a hub for the whole run and count their frames;
//! when the hub is replaced they get the close delimiter and reconnect.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mjpeg_axum::decode::Decoder;
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

use super::conn::{self, Target};
use crate::payload;

/// One connection of a watcher: frames of one hub generation.
#[derive(Clone, Debug, Default)]
pub(super) struct Session {
    pub(super) generation: u64,
    pub(super) first: u64,
    pub(super) last: u64,
    /// Distinct frames received (heartbeat re-sends not counted).
    pub(super) received: u64,
    /// Ended by the close delimiter (the hub was stopped).
    pub(super) closed: bool,
}

/// A watcher's result: frames received against frames published while it was connected.
#[derive(Clone, Debug, Serialize)]
pub(super) struct WatcherResult {
    /// What it watched: `plain /hub`, `https h2 /hub`, ...
    pub(super) what: String,
    pub(super) sessions: usize,
    pub(super) received: u64,
    pub(super) expected: u64,
    pub(super) ratio: f64,
}

/// The sessions of one watcher, shared with the driver.
pub(super) type Sessions = Arc<Mutex<Vec<Session>>>;

/// One whole-run watcher: where it watches, its sessions, and the last
/// frame number it received (for the driver's resume checks).
#[derive(Clone, Debug)]
pub(super) struct Watcher {
    pub(super) what: String,
    pub(super) target: Target,
    pub(super) path: &'static str,
    pub(super) sessions: Sessions,
    pub(super) last_seq: Arc<AtomicU64>,
}

impl Watcher {
    pub(super) fn new(what: &str, target: Target, path: &'static str) -> Self {
        Self {
            what: what.to_owned(),
            target,
            path,
            sessions: Sessions::default(),
            last_seq: Arc::default(),
        }
    }

    /// Its sessions so far, the one in progress not included.
    pub(super) fn sessions(&self) -> Vec<Session> {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Watches until `stopped`.
pub(super) async fn run(watcher: Watcher, mut stopped: watch::Receiver<bool>) {
    let sessions = &watcher.sessions;
    loop {
        if *stopped.borrow() {
            return;
        }
        let mut session = Session::default();
        tokio::select! {
            result = watch_once(&watcher, &mut session) => {
                let retry = if result.is_err() { 100 } else { 10 };
                push(sessions, session);
                sleep(Duration::from_millis(retry)).await;
            }
            _ = stopped_signal(&mut stopped) => {
                push(sessions, session);
                return;
            }
        }
    }
}

fn push(sessions: &Sessions, session: Session) {
    if session.received > 0 {
        sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
    }
}

async fn watch_once(watcher: &Watcher, session: &mut Session) -> std::io::Result<()> {
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let (head, rest, mut body) = conn::open(&watcher.target, watcher.path).await?;
    if head.status != 200 {
        return Err(bad(format!("status {}", head.status)));
    }
    let content_type = head.content_type.unwrap_or_default();
    let mut decoder = Decoder::from_content_type(&content_type).map_err(|e| bad(e.to_string()))?;
    decoder.push(&rest);
    loop {
        while let Some(part) = decoder.next_part().map_err(|e| bad(e.to_string()))? {
            let Some((generation, seq)) = payload::parse(&part.body) else {
                return Err(bad("a frame without its number".into()));
            };
            if session.received == 0 {
                *session = Session {
                    generation,
                    first: seq,
                    last: seq,
                    received: 1,
                    closed: false,
                };
            } else if seq > session.last {
                session.last = seq;
                session.received += 1;
            }
            watcher.last_seq.fetch_max(seq, Relaxed);
        }
        if decoder.is_closed() {
            session.closed = true;
            return Ok(());
        }
        // Stalls last at most 4 s and heartbeats come every second.
        let chunk = timeout(Duration::from_secs(15), body.chunk())
            .await
            .map_err(|_| bad("no bytes for 15 s".into()))??;
        if chunk.is_empty() {
            return Err(bad("closed without the close delimiter".into()));
        }
        decoder.push(&chunk);
    }
}

/// Frames received against frames published while connected: for a session
/// that the hub's stop ended, up to that hub's last frame (`retired`);
/// otherwise up to the last frame received.
pub(super) fn score(what: &str, sessions: &[Session], retired: &[(u64, u64)]) -> WatcherResult {
    let (mut received, mut expected) = (0, 0);
    for s in sessions {
        let end = if s.closed {
            retired
                .iter()
                .find(|(g, _)| *g == s.generation)
                .map_or(s.last, |(_, last)| *last)
        } else {
            s.last
        };
        received += s.received;
        expected += end.saturating_sub(s.first) + 1;
    }
    let ratio = if expected == 0 {
        0.0
    } else {
        received as f64 / expected as f64
    };
    WatcherResult {
        what: what.to_owned(),
        sessions: sessions.len(),
        received,
        expected,
        ratio,
    }
}

/// Resolves once the driver says stop (or is gone).
pub(super) async fn stopped_signal(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::{Session, score};

    #[test]
    fn a_closed_session_is_owed_its_hubs_last_frames() {
        let sessions = [
            Session {
                generation: 1,
                first: 5,
                last: 14,
                received: 10,
                closed: true,
            },
            Session {
                generation: 2,
                first: 30,
                last: 39,
                received: 10,
                closed: false,
            },
        ];
        let r = score("test", &sessions, &[(1, 19)]);
        assert_eq!((r.received, r.expected), (20, 25));
        assert!((r.ratio - 0.8).abs() < 1e-9);
    }
}
