//! `bench load`: the load generator.
//!
//! Raw tokio TCP, no HTTP client library. Fast viewers are spread over a few
//! dozen tasks; each task drives its connections through a `FuturesUnordered`
//! and shares one read buffer between them (they never run at once), so a
//! viewer costs a socket and a few hundred bytes of parser state. Parts are
//! found by `StreamParser` without copying payloads.
//!
//! Slow viewers connect, send the request and never read.
//!
//! Protocol with the driver (`--control`): prints `warm {json}` once every
//! fast viewer has a first frame and every slow viewer is connected (or
//! `warm` with failures after `--warmup-timeout`); then reads `start <seq>`
//! (window opens; parts with sequence number >= seq count), `stop <seq>` (window
//! closes; parts with sequence number < seq still count while in flight), prints
//! `result {json}` and exits. Without `--control`, `--window <secs>` runs one
//! window on its own and takes the sequence range from what arrives.
//!
//! - `viewers`: the connections and what each one counts;
//! - `summary`: the end of a window, summed up into the `result` line.

mod secure;
mod summary;
mod viewers;

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::args::Args;
use crate::child::{exit_code, runtime, say};
use crate::hist::Hist;
use crate::sys::ensure_nofile;
use crate::tls::client_config;
use summary::finish;
use viewers::start_viewers;

/// Connections (TCP, TLS handshake, request) in flight at once.
const CONNECTS_IN_FLIGHT: usize = 256;

/// How viewers reach the server.
#[derive(Clone)]
enum Transport {
    /// HTTP/1.1 over TCP.
    Plain,
    /// HTTP/1.1 over TLS (ALPN `http/1.1`).
    Tls(Arc<rustls::ClientConfig>),
    /// HTTP/2 over TLS (ALPN `h2`), `streams` viewers per connection.
    H2 {
        config: Arc<rustls::ClientConfig>,
        streams: usize,
    },
}

struct Shared {
    measuring: AtomicBool,
    seq_lo: AtomicU64,
    seq_hi: AtomicU64,
    max_seq: AtomicU64,
    warm: AtomicUsize,
    failed: AtomicUsize,
    slow_connected: AtomicUsize,
    connects: Semaphore,
    tasks: Mutex<Vec<Arc<Mutex<TaskState>>>>,
    slow_errors: Mutex<Vec<String>>,
}

struct TaskState {
    buf: Vec<u8>,
    viewers: Vec<ViewerStats>,
    hist: Hist,
}

#[derive(Clone, Debug, Default)]
struct ViewerStats {
    got_first: bool,
    frames_total: u64,
    /// Parts that completed while the window was open.
    frames_win: u64,
    payload_win: u64,
    wire_win: u64,
    /// Parts whose sequence number is in the window's range, and their payload bytes.
    frames_seq: u64,
    payload_seq: u64,
    max_seq: Option<u64>,
    /// Parts whose sequence number was not above every one before.
    repeated: u64,
    error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn main(args: &[String]) -> i32 {
    exit_code(run(args))
}

fn run(args: &[String]) -> Result<(), String> {
    let a = Args::parse(args, &["control"])?;
    let addr: SocketAddr = a
        .require("addr")?
        .parse()
        .map_err(|e| format!("--addr: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err("the load generator only talks to loopback addresses".into());
    }
    let fast: usize = a.get("viewers", 1)?;
    let slow: usize = a.get("slow", 0)?;
    let path = a.str("path").unwrap_or("/stream").to_owned();
    let warmup_timeout = Duration::from_secs_f64(a.get("warmup-timeout", 60.0)?);
    let control = a.flag("control");
    let window = Duration::from_secs_f64(a.get("window", 1.0)?);
    ensure_nofile((fast + slow) as u64 + 512)?;
    let h2_streams: usize = a.get("h2-streams", 0)?;
    let transport = match a.str("ca") {
        None if h2_streams > 0 => return Err("--h2-streams needs --ca (h2 over TLS)".into()),
        None => Transport::Plain,
        Some(ca) if h2_streams > 0 => Transport::H2 {
            config: client_config(ca.as_ref(), b"h2")?,
            streams: h2_streams,
        },
        Some(ca) => Transport::Tls(client_config(ca.as_ref(), b"http/1.1")?),
    };
    if slow > 0 && !matches!(transport, Transport::Plain) {
        return Err("slow viewers are plain HTTP/1.1 only".into());
    }

    let rt = runtime()?;
    let shared = Arc::new(Shared {
        measuring: AtomicBool::new(false),
        seq_lo: AtomicU64::new(u64::MAX),
        seq_hi: AtomicU64::new(u64::MAX),
        max_seq: AtomicU64::new(0),
        warm: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        slow_connected: AtomicUsize::new(0),
        connects: Semaphore::new(CONNECTS_IN_FLIGHT),
        tasks: Mutex::new(Vec::new()),
        slow_errors: Mutex::new(Vec::new()),
    });
    let _guard = rt.enter();
    start_viewers(&rt, &shared, addr, fast, slow, &transport, &path);

    // Warm-up: every fast viewer has a frame, every slow one is connected.
    let began = Instant::now();
    loop {
        let warm = shared.warm.load(Relaxed);
        let failed = shared.failed.load(Relaxed);
        let slow_done = shared.slow_connected.load(Relaxed) + lock(&shared.slow_errors).len();
        if (warm + failed >= fast && slow_done >= slow) || began.elapsed() > warmup_timeout {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let warm_info = json!({
        "secs": began.elapsed().as_secs_f64(),
        "warm": shared.warm.load(Relaxed),
        "failed": shared.failed.load(Relaxed),
        "slow_connected": shared.slow_connected.load(Relaxed),
    });
    say(&format!("warm {warm_info}"));

    let result = if control {
        controlled(&shared, fast, slow)
    } else {
        // Standalone: let the first frames pass, then one window.
        std::thread::sleep(Duration::from_millis(100));
        let lo = shared.max_seq.load(Relaxed) + 1;
        shared.seq_lo.store(lo, Relaxed);
        shared.measuring.store(true, Relaxed);
        let t0 = Instant::now();
        std::thread::sleep(window);
        let hi = shared.max_seq.load(Relaxed) + 1;
        shared.measuring.store(false, Relaxed);
        shared.seq_hi.store(hi, Relaxed);
        let secs = t0.elapsed().as_secs_f64();
        finish(&shared, fast, slow, lo, hi, secs)
    };
    say(&format!("result {result}"));
    // Exiting closes every socket at once.
    std::process::exit(0);
}

/// Driven by `start <seq>` / `stop <seq>` lines on stdin.
fn controlled(shared: &Shared, fast: usize, slow: usize) -> Value {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut lo = 0;
    let mut t0 = Instant::now();
    while let Some(Ok(line)) = lines.next() {
        let mut words = line.split_whitespace();
        let cmd = words.next().unwrap_or_default();
        let seq = words.next().and_then(|w| w.parse::<u64>().ok());
        match (cmd, seq) {
            ("start", Some(seq)) => {
                lo = seq;
                shared.seq_lo.store(seq, Relaxed);
                t0 = Instant::now();
                shared.measuring.store(true, Relaxed);
            }
            ("stop", Some(hi)) => {
                shared.measuring.store(false, Relaxed);
                shared.seq_hi.store(hi, Relaxed);
                let secs = t0.elapsed().as_secs_f64();
                return finish(shared, fast, slow, lo, hi, secs);
            }
            ("quit", _) => break,
            _ => {}
        }
    }
    std::process::exit(0);
}
