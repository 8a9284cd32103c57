//! Clients that oversubscribe `/capped` (a small `max_clients`): each holds
//! a stream for a while when let in, and checks the refusal when not.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

use super::http;
use crate::rng::Rng;
use crate::serve::capped::{MAX_CLIENTS, RETRY_AFTER_SECS};

/// Clients at once: twice the cap.
const CLIENTS: usize = 2 * MAX_CLIENTS;

/// What the `/capped` clients saw, over the whole run.
#[derive(Debug, Default)]
pub(super) struct CappedTally {
    pub(super) served: AtomicU64,
    /// `503` with the documented `Retry-After`.
    pub(super) refused: AtomicU64,
    /// Answers that were neither: `(status, Retry-After)`.
    pub(super) bad: Mutex<Vec<(u16, Option<String>)>>,
    pub(super) errors: AtomicU64,
}

impl CappedTally {
    /// `[served, refused]`.
    pub(super) fn read(&self) -> [u64; 2] {
        [&self.served, &self.refused].map(|c| c.load(Relaxed))
    }

    pub(super) fn bad(&self) -> Vec<(u16, Option<String>)> {
        self.bad
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Starts the `/capped` clients of one phase in `tasks`.
pub(super) fn start(
    tasks: &mut JoinSet<()>,
    addr: SocketAddr,
    rng: &mut Rng,
    tally: &Arc<CappedTally>,
    stopped: &watch::Receiver<bool>,
) {
    for i in 0..CLIENTS {
        let (tally, stopped) = (Arc::clone(tally), stopped.clone());
        let rng = Rng::new(rng.next_u64(), 20 + i as u64);
        tasks.spawn(client(addr, rng, tally, stopped));
    }
}

/// Requests `/capped` until stopped; a request is never cut short by the
/// stop, so every refusal the server counts is seen here.
async fn client(
    addr: SocketAddr,
    mut rng: Rng,
    tally: Arc<CappedTally>,
    stopped: watch::Receiver<bool>,
) {
    while !*stopped.borrow() {
        let Ok(Ok((mut socket, head, _))) =
            timeout(Duration::from_secs(10), http::open(addr, "/capped")).await
        else {
            tally.errors.fetch_add(1, Relaxed);
            sleep(Duration::from_millis(100)).await;
            continue;
        };
        let retry_ok = head.retry_after.as_deref() == Some(&RETRY_AFTER_SECS.to_string());
        match head.status {
            200 => {
                tally.served.fetch_add(1, Relaxed);
                let hold = Duration::from_millis(rng.range(300, 2500));
                super::clients::read_up_to(&mut socket, usize::MAX, hold).await;
            }
            503 if retry_ok => {
                tally.refused.fetch_add(1, Relaxed);
                sleep(Duration::from_millis(rng.range(50, 300))).await;
            }
            status => tally
                .bad
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((status, head.retry_after)),
        }
    }
}

/// A request to `/capped` once the load is gone: the slots must be back.
pub(super) async fn probe(addr: SocketAddr) -> Option<u16> {
    let (_, head, _) = timeout(Duration::from_secs(5), http::open(addr, "/capped"))
        .await
        .ok()?
        .ok()?;
    Some(head.status)
}
