//! The HTTPS part of a phase's load: viewers that churn over HTTP/1.1 and
//! h2, connections that send half a TLS handshake (or nothing, or half a
//! request head) and sit, and a burst past the connection cap.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::pki_types::ServerName;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, timeout};

use super::conn::{self, Target, Tls};
use super::http;
use crate::rng::Rng;
use crate::serve::tls::limits::{HEAD_TIMEOUT, MAX_CONNECTIONS};

/// How long past the server's timeout a half-open connection may stay open.
pub(super) const CLOSE_SLACK: Duration = Duration::from_secs(5);

/// Connections a burst opens beyond the cap.
const BURST_EXTRA: usize = 40;

/// What the HTTPS clients did, over the whole run.
#[derive(Debug, Default)]
pub(super) struct TlsTally {
    pub(super) churn: AtomicU64,
    pub(super) churn_h2: AtomicU64,
    /// Half-open connections whose fate was seen: closed in time, or not.
    pub(super) half_closed: AtomicU64,
    pub(super) half_not_closed: AtomicU64,
    /// The longest a half-open connection waited to be closed, in ms.
    pub(super) half_max_ms: AtomicU64,
    pub(super) bursts: Mutex<Vec<Burst>>,
}

impl TlsTally {
    /// `[churn, churn over h2, half-open closed, half-open not closed, longest wait ms]`.
    pub(super) fn read(&self) -> [u64; 5] {
        [
            &self.churn,
            &self.churn_h2,
            &self.half_closed,
            &self.half_not_closed,
            &self.half_max_ms,
        ]
        .map(|c| c.load(Relaxed))
    }

    pub(super) fn bursts(&self) -> Vec<Burst> {
        self.bursts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One burst past the cap.
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct Burst {
    pub(super) size: u64,
    /// Handshakes done: these hold a connection (`GET /hold`).
    pub(super) accepted: u64,
    /// Connections closed before the handshake was done: the refusal.
    pub(super) refused: u64,
    /// Anything else (a handshake that timed out on the client's side).
    pub(super) errors: u64,
    /// Held requests answered `204`.
    pub(super) held_ok: u64,
    /// How long after the burst a new viewer was served, in ms; `None`
    /// while not (yet) measured or never served.
    pub(super) recovered_ms: Option<u64>,
    /// Whether the recovery check ran to its end.
    pub(super) recovery_done: bool,
}

/// Starts the HTTPS clients of one phase in `tasks`.
pub(super) fn start(
    tasks: &mut JoinSet<()>,
    tls: &Tls,
    rng: &mut Rng,
    tally: &Arc<TlsTally>,
    stopped: &watch::Receiver<bool>,
) {
    for i in 0..2 {
        let (tls, tally, stopped) = (tls.clone(), Arc::clone(tally), stopped.clone());
        let rng = Rng::new(rng.next_u64(), i);
        tasks.spawn(churn(tls, rng, tally, stopped));
    }
    for i in 0..3 {
        let (tls, tally, stopped) = (tls.clone(), Arc::clone(tally), stopped.clone());
        let rng = Rng::new(rng.next_u64(), 10 + i);
        tasks.spawn(half_open(tls, rng, tally, stopped));
    }
    let (tls, tally) = (tls.clone(), Arc::clone(tally));
    tasks.spawn(async move {
        sleep(Duration::from_secs(1)).await;
        burst(tls, tally).await;
    });
}

/// Viewers that connect over HTTPS (HTTP/1.1 or h2), read a little and go.
async fn churn(tls: Tls, mut rng: Rng, tally: Arc<TlsTally>, stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let h2 = rng.chance(0.5);
        let target = if h2 {
            Target::TlsH2(tls.clone())
        } else {
            Target::TlsH1(tls.clone())
        };
        let path = if rng.chance(0.5) { "/hub" } else { "/stream" };
        let want = rng.range(1, 256 * 1024) as usize;
        let once = async {
            let (_, mut got, mut body) = conn::open(&target, path).await?;
            while got.len() < want {
                let chunk = body.chunk().await?;
                if chunk.is_empty() {
                    break;
                }
                got.extend_from_slice(&chunk);
            }
            io::Result::Ok(())
        };
        if let Ok(Err(_)) = timeout(Duration::from_secs(3), once).await {
            // Refused during a burst past the cap, say: not a churn, and no spinning.
            sleep(Duration::from_millis(100)).await;
            continue;
        }
        tally.churn.fetch_add(1, Relaxed);
        if h2 {
            tally.churn_h2.fetch_add(1, Relaxed);
        }
    }
}

/// Connections that send nothing, half a `ClientHello`, or a handshake and
/// half a request head, then sit: the server must close each within its
/// timeout (plus [`CLOSE_SLACK`]).
async fn half_open(tls: Tls, mut rng: Rng, tally: Arc<TlsTally>, stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let start = Instant::now();
        let kind = rng.range(0, 3);
        let closed = if kind == 2 {
            match tls.connect(false).await {
                Ok(mut stream) => {
                    let _ = stream.write_all(b"GET /hub HTTP/1.1\r\nHost: lo").await;
                    let _ = stream.flush().await;
                    wait_closed(&mut stream).await
                }
                // Refused by the cap during a burst, say: not a half-open connection.
                Err(_) => None,
            }
        } else {
            match TcpStream::connect(tls.addr).await {
                Ok(mut tcp) => {
                    if kind == 1 {
                        let hello = client_hello(&tls);
                        let _ = tcp.write_all(&hello[..hello.len() / 2]).await;
                    }
                    wait_closed(&mut tcp).await
                }
                Err(_) => None,
            }
        };
        let Some(closed) = closed else {
            sleep(Duration::from_millis(100)).await;
            continue;
        };
        let waited = start.elapsed().as_millis() as u64;
        if closed {
            tally.half_closed.fetch_add(1, Relaxed);
            tally.half_max_ms.fetch_max(waited, Relaxed);
        } else {
            tally.half_not_closed.fetch_add(1, Relaxed);
        }
        sleep(Duration::from_millis(rng.range(50, 500))).await;
    }
}

/// The first flight of a TLS client: its `ClientHello` record.
fn client_hello(tls: &Tls) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(name) = ServerName::try_from("localhost") else {
        return out;
    };
    if let Ok(mut client) = rustls::ClientConnection::new(Arc::clone(&tls.config), name) {
        while client.wants_write() {
            if client.write_tls(&mut out).is_err() {
                break;
            }
        }
    }
    out
}

/// Reads (and discards) until the peer closes; `Some(false)` if it has not
/// within the server's timeout plus [`CLOSE_SLACK`].
async fn wait_closed<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<bool> {
    let mut buf = [0u8; 4096];
    let until_closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    Some(
        timeout(HEAD_TIMEOUT + CLOSE_SLACK, until_closed)
            .await
            .is_ok(),
    )
}

/// Opens the cap plus [`BURST_EXTRA`] connections at once; those whose
/// handshake is done hold their connection with `GET /hold` (answered after
/// 5 s). Then a new viewer must be served again.
async fn burst(tls: Tls, tally: Arc<TlsTally>) {
    let size = MAX_CONNECTIONS + BURST_EXTRA;
    let index = {
        let mut bursts = tally.bursts.lock().unwrap_or_else(PoisonError::into_inner);
        bursts.push(Burst {
            size: size as u64,
            ..Burst::default()
        });
        bursts.len() - 1
    };
    let update = |f: &dyn Fn(&mut Burst)| {
        if let Some(b) = tally
            .bursts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(index)
        {
            f(b);
        }
    };
    let mut held = JoinSet::new();
    for _ in 0..size {
        let tls = tls.clone();
        held.spawn(async move {
            // An accepted connection holds its slot for 5 s (`/hold`), longer
            // than the whole burst takes to connect.
            match tls.connect(false).await {
                Ok(stream) => {
                    let ok = timeout(Duration::from_secs(15), http::request(stream, "/hold"))
                        .await
                        .is_ok_and(|r| r.is_ok_and(|(_, head, _)| head.status == 204));
                    Outcome::Accepted(ok)
                }
                Err(e) if is_refusal(&e) => Outcome::Refused,
                Err(_) => Outcome::Error,
            }
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = held.join_next().await {
        outcomes.push(done.unwrap_or(Outcome::Error));
    }
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count() as u64;
    let (accepted, refused, errors, held_ok) = (
        count(|o| matches!(o, Outcome::Accepted(_))),
        count(|o| matches!(o, Outcome::Refused)),
        count(|o| matches!(o, Outcome::Error)),
        count(|o| matches!(o, Outcome::Accepted(true))),
    );
    update(&|b| {
        b.accepted = accepted;
        b.refused = refused;
        b.errors = errors;
        b.held_ok = held_ok;
    });
    let gone = Instant::now();
    let target = Target::TlsH1(tls);
    while gone.elapsed() < Duration::from_secs(10) {
        if let Ok((head, _, _)) = conn::open(&target, "/hub").await {
            if head.status == 200 {
                let ms = gone.elapsed().as_millis() as u64;
                update(&|b| b.recovered_ms = Some(ms));
                break;
            }
        }
        sleep(Duration::from_millis(200)).await;
    }
    update(&|b| b.recovery_done = true);
}

enum Outcome {
    /// The handshake was done; whether the held request was answered.
    Accepted(bool),
    Refused,
    Error,
}

/// How a client sees a connection closed before the handshake was done.
fn is_refusal(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
