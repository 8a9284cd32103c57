//! The NATS broker the server's `/nats` hub is fed through: started by the
//! driver on a free loopback port, killed and restarted once a phase, and
//! the time until the `/nats` watchers get live frames again.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mjpeg_nats::LocalBroker;
use serde::Serialize;
use tokio::time::{Instant, sleep};

use super::watch::Watcher;

/// How long after the broker is back the watchers may wait for a live frame.
pub(super) const RESUME_BOUND: Duration = Duration::from_secs(5);

/// One kill and restart of the broker.
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct Restart {
    pub(super) down_ms: u64,
    /// From the broker being back to every watcher's first live frame;
    /// `None` if that did not happen within twice [`RESUME_BOUND`].
    pub(super) resumed_ms: Option<u64>,
    /// Whether the restart failed (the broker did not come back).
    pub(super) failed: Option<String>,
}

/// The broker and the restarts so far.
#[derive(Clone, Debug)]
pub(super) struct Broker {
    broker: Arc<Mutex<LocalBroker>>,
    pub(super) url: String,
    pub(super) restarts: Arc<Mutex<Vec<Restart>>>,
}

impl Broker {
    /// Starts `nats-server`; `Err` says why not (not installed, most often).
    pub(super) fn start() -> Result<Self, String> {
        let broker = LocalBroker::start().map_err(|e| e.to_string())?;
        Ok(Self {
            url: broker.url(),
            broker: Arc::new(Mutex::new(broker)),
            restarts: Arc::default(),
        })
    }

    /// The restarts so far.
    pub(super) fn restarts(&self) -> Vec<Restart> {
        self.restarts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// After `after`, kills the broker for `down`, restarts it, and waits
    /// for every watcher to get a frame newer than any it had before.
    pub(super) async fn restart(&self, after: Duration, down: Duration, watchers: Vec<Watcher>) {
        sleep(after).await;
        let broker = Arc::clone(&self.broker);
        let _ = tokio::task::spawn_blocking(move || {
            broker.lock().unwrap_or_else(PoisonError::into_inner).kill();
        })
        .await;
        sleep(down).await;
        // Frames published before the restart: none arrive while it is down.
        let before: Vec<u64> = watchers.iter().map(|w| w.last_seq.load(Relaxed)).collect();
        let broker = Arc::clone(&self.broker);
        let started = tokio::task::spawn_blocking(move || {
            broker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .restart()
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let mut restart = Restart {
            down_ms: down.as_millis() as u64,
            ..Restart::default()
        };
        if let Err(e) = started {
            restart.failed = Some(e);
        } else {
            let back = Instant::now();
            while back.elapsed() < RESUME_BOUND * 2 {
                let live = watchers
                    .iter()
                    .zip(&before)
                    .all(|(w, before)| w.last_seq.load(Relaxed) > *before);
                if live {
                    restart.resumed_ms = Some(back.elapsed().as_millis() as u64);
                    break;
                }
                sleep(Duration::from_millis(20)).await;
            }
        }
        self.restarts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(restart);
    }
}
