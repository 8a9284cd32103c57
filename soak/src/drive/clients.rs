//! The load of one phase: viewers that churn (plain close, RST, half-close),
//! slow readers, readers that stop reading, junk / oversized / half-sent
//! request heads, and snapshot storms. Every client is bounded in time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};

use super::http;
use super::watch::stopped_signal;
use crate::rng::Rng;

/// What the clients did, over the whole run.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) churn: AtomicU64,
    pub(super) resets: AtomicU64,
    pub(super) half_closes: AtomicU64,
    pub(super) slow: AtomicU64,
    pub(super) stop_reading: AtomicU64,
    pub(super) junk: AtomicU64,
    pub(super) snapshots_ok: AtomicU64,
    pub(super) snapshots_503: AtomicU64,
    pub(super) client_errors: AtomicU64,
    /// Snapshot statuses other than 200 and 503.
    pub(super) bad_snapshots: Mutex<Vec<u16>>,
}

impl Tally {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// `[churn, resets, half-closes, slow, stop-reading, junk, snap 200, snap 503, errors]`.
    pub(super) fn read(&self) -> [u64; 9] {
        [
            &self.churn,
            &self.resets,
            &self.half_closes,
            &self.slow,
            &self.stop_reading,
            &self.junk,
            &self.snapshots_ok,
            &self.snapshots_503,
            &self.client_errors,
        ]
        .map(|c| c.load(Relaxed))
    }
}

/// The running clients of one phase.
pub(super) struct Load {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// Clients of each kind running at once.
const CHURNERS: u64 = 6;
const SLOW: u64 = 2;
const STOP_READING: u64 = 2;
const JUNK: u64 = 2;

impl Load {
    /// Starts the clients of phase `phase`.
    pub(super) fn start(addr: SocketAddr, seed: u64, phase: u64, tally: &Arc<Tally>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut id = phase * 100;
        let mut spawn = |kind: Kind, n: u64| {
            for _ in 0..n {
                id += 1;
                let client = Client {
                    addr,
                    rng: Rng::new(seed, 1000 + id),
                    tally: Arc::clone(tally),
                    stopped: stopped.clone(),
                };
                tasks.spawn(client.run(kind));
            }
        };
        spawn(Kind::Churn, CHURNERS);
        spawn(Kind::Slow, SLOW);
        spawn(Kind::StopReading, STOP_READING);
        spawn(Kind::Junk, JUNK);
        spawn(Kind::SnapshotStorm, 1);
        Self { stop, tasks }
    }

    /// Where more clients of this phase go, and the signal they stop on.
    pub(super) fn tasks(&mut self) -> (&mut JoinSet<()>, watch::Receiver<bool>) {
        (&mut self.tasks, self.stop.subscribe())
    }

    /// Tells the clients to stop, waits up to 5 s, then drops the rest
    /// (closing their sockets).
    pub(super) async fn stop(mut self) {
        let _ = self.stop.send(true);
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if timeout(Duration::from_secs(5), all).await.is_err() {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Churn,
    Slow,
    StopReading,
    Junk,
    SnapshotStorm,
}

struct Client {
    addr: SocketAddr,
    rng: Rng,
    tally: Arc<Tally>,
    stopped: watch::Receiver<bool>,
}

impl Client {
    async fn run(mut self, kind: Kind) {
        loop {
            if *self.stopped.borrow() {
                return;
            }
            let mut stopped = self.stopped.clone();
            // Each client is bounded: at most 20 s, and it ends when the phase does.
            let one = timeout(Duration::from_secs(20), self.once(kind));
            tokio::select! {
                result = one => {
                    if !matches!(result, Ok(Ok(()))) {
                        Tally::bump(&self.tally.client_errors);
                    }
                }
                _ = stopped_signal(&mut stopped) => return,
            }
        }
    }

    fn stream_path(&mut self) -> &'static str {
        if self.rng.chance(0.5) {
            "/hub"
        } else {
            "/stream"
        }
    }

    async fn once(&mut self, kind: Kind) -> std::io::Result<()> {
        match kind {
            Kind::Churn => self.churn().await,
            Kind::Slow => self.slow().await,
            Kind::StopReading => self.stop_reading().await,
            Kind::Junk => self.junk().await,
            Kind::SnapshotStorm => self.snapshot_storm().await,
        }
    }

    /// Connects, reads a little, vanishes: a plain close, an RST or a half-close.
    async fn churn(&mut self) -> std::io::Result<()> {
        let path = self.stream_path();
        let (mut socket, _head, _) = http::open(self.addr, path).await?;
        let want = self.rng.range(1, 256 * 1024) as usize;
        read_up_to(&mut socket, want, Duration::from_secs(3)).await;
        Tally::bump(&self.tally.churn);
        match self.rng.range(0, 3) {
            0 => {
                Tally::bump(&self.tally.resets);
                socket.set_zero_linger()?;
            }
            1 => {
                Tally::bump(&self.tally.half_closes);
                socket.shutdown().await?;
                read_up_to(&mut socket, 64 * 1024, Duration::from_millis(200)).await;
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads 2 KiB every 100 ms for 2-6 s.
    async fn slow(&mut self) -> std::io::Result<()> {
        let path = self.stream_path();
        let (mut socket, _head, _) = http::open(self.addr, path).await?;
        Tally::bump(&self.tally.slow);
        for _ in 0..self.rng.range(20, 60) {
            read_up_to(&mut socket, 2048, Duration::from_millis(100)).await;
            sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Reads the head, then nothing for 2-14 s (past the server's 10 s
    /// write-stall timeout sometimes).
    async fn stop_reading(&mut self) -> std::io::Result<()> {
        let path = self.stream_path();
        let (_socket, _head, _) = http::open(self.addr, path).await?;
        Tally::bump(&self.tally.stop_reading);
        sleep(Duration::from_millis(self.rng.range(2000, 14_000))).await;
        Ok(())
    }

    /// A junk, oversized or half-sent request head.
    async fn junk(&mut self) -> std::io::Result<()> {
        let mut socket = TcpStream::connect(self.addr).await?;
        Tally::bump(&self.tally.junk);
        match self.rng.range(0, 3) {
            0 => {
                let len = self.rng.range(1, 4096) as usize;
                let junk: Vec<u8> = (0..len).map(|_| self.rng.next_u64() as u8).collect();
                // The server may close before reading it all: not an error here.
                let _ = socket.write_all(&junk).await;
                let _ = socket.write_all(b"\r\n\r\n").await;
            }
            1 => {
                let mut head = b"GET /hub HTTP/1.1\r\nHost: soak\r\nX-Big: ".to_vec();
                head.resize(head.len() + 1024 * 1024, b'a');
                head.extend_from_slice(b"\r\n\r\n");
                let _ = socket.write_all(&head).await;
            }
            _ => {
                let _ = socket.write_all(b"GET /stream HTTP/1.1\r\nHost: so").await;
                sleep(Duration::from_millis(self.rng.range(500, 3000))).await;
                return Ok(());
            }
        }
        read_up_to(&mut socket, 64 * 1024, Duration::from_secs(2)).await;
        Ok(())
    }

    /// 30 snapshots at once, every 1-3 s; each must be `200` or `503`.
    async fn snapshot_storm(&mut self) -> std::io::Result<()> {
        let mut storm = JoinSet::new();
        for _ in 0..30 {
            let addr = self.addr;
            storm.spawn(async move { http::get(addr, "/snapshot", Duration::from_secs(10)).await });
        }
        while let Some(done) = storm.join_next().await {
            match done {
                Ok(Ok((200, _))) => Tally::bump(&self.tally.snapshots_ok),
                Ok(Ok((503, _))) => Tally::bump(&self.tally.snapshots_503),
                Ok(Ok((status, _))) => self
                    .tally
                    .bad_snapshots
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(status),
                _ => Tally::bump(&self.tally.client_errors),
            }
        }
        sleep(Duration::from_millis(self.rng.range(1000, 3000))).await;
        Ok(())
    }
}

/// Reads until `want` bytes, the end, an error or `limit`.
pub(super) async fn read_up_to(socket: &mut TcpStream, want: usize, limit: Duration) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut got = 0;
    let _ = timeout(limit, async {
        while got < want {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
    })
    .await;
}
