//! `bench load`: the load generator.
//!
//! Raw tokio TCP, no HTTP client library. Fast viewers are spread over a few
//! dozen tasks; each task drives its connections through a `FuturesUnordered`
//! and shares one read buffer between them (they never run at once), so a
//! viewer costs a socket and a few hundred bytes of parser state. Parts are
//! found by [`StreamParser`] without copying payloads.
//!
//! Slow viewers connect, send the request and never read.
//!
//! Protocol with the driver (`--control`): prints `warm {json}` once every
//! fast viewer has a first frame and every slow viewer is connected (or
//! `warm` with failures after `--warmup-timeout`); then reads `start <seq>`
//! (window opens; parts with `X-Seq >= seq` count), `stop <seq>` (window
//! closes; parts with `X-Seq < seq` still count while in flight), prints
//! `result {json}` and exits. Without `--control`, `--window <secs>` runs one
//! window on its own and takes the sequence range from what arrives.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::args::Args;
use crate::hist::Hist;
use crate::parse::{Part, StreamParser};
use crate::sys::{ensure_nofile, unix_nanos};

const READ_BUF: usize = 256 * 1024;
const CONNS_PER_TASK: usize = 16;
const MAX_TASKS: usize = 64;
const CONNECTS_IN_FLIGHT: usize = 256;
/// Reads in a row from one socket before letting the task's other sockets run.
const READS_PER_TURN: usize = 8;

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
    error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            println!("error {e}");
            2
        }
    }
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

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
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
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: mjpeg-bench\r\n\r\n");
    let _guard = rt.enter();
    start_viewers(&rt, &shared, addr, fast, slow, request.into_bytes());

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

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
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

/// Waits for the window's last frames in flight, then sums up.
fn finish(shared: &Shared, fast: usize, slow: usize, lo: u64, hi: u64, secs: f64) -> Value {
    let tasks: Vec<_> = lock(&shared.tasks).clone();
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        let all_in = tasks.iter().all(|t| {
            lock(t)
                .viewers
                .iter()
                .all(|v| v.error.is_some() || v.max_seq.is_some_and(|s| s + 1 >= hi))
        });
        if all_in {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut viewers = Vec::with_capacity(fast);
    let mut hist = Hist::new();
    for t in &tasks {
        let st = lock(t);
        viewers.extend(st.viewers.iter().cloned());
        hist.merge(&st.hist);
    }
    let published = hi.saturating_sub(lo);
    let mut shares: Vec<f64> = viewers
        .iter()
        .map(|v| {
            if published == 0 {
                0.0
            } else {
                v.frames_seq as f64 / published as f64
            }
        })
        .collect();
    shares.sort_by(f64::total_cmp);
    let mut fps: Vec<f64> = viewers.iter().map(|v| v.frames_win as f64 / secs).collect();
    fps.sort_by(f64::total_cmp);
    let mut errors: Vec<String> = viewers
        .iter()
        .filter_map(|v| v.error.clone())
        .chain(
            viewers
                .iter()
                .filter(|v| v.error.is_none() && !v.got_first)
                .map(|_| "no frame received".to_owned()),
        )
        .collect();
    errors.extend(lock(&shared.slow_errors).iter().cloned());
    let missing = fast.saturating_sub(viewers.len());
    let error_count = errors.len() + missing;
    errors.truncate(5);
    let median = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(0.0);
    json!({
        "fast": fast,
        "slow": slow,
        "window_s": secs,
        "seq_lo": lo,
        "seq_hi": hi,
        "published": published,
        "share_min": shares.first().copied().unwrap_or(0.0),
        "share_median": median(&shares),
        "share_max": shares.last().copied().unwrap_or(0.0),
        "fps_min": fps.first().copied().unwrap_or(0.0),
        "fps_median": median(&fps),
        "frames_total": viewers.iter().map(|v| v.frames_total).sum::<u64>(),
        "frames_win": viewers.iter().map(|v| v.frames_win).sum::<u64>(),
        "payload_bytes": viewers.iter().map(|v| v.payload_win).sum::<u64>(),
        "payload_bytes_seq": viewers.iter().map(|v| v.payload_seq).sum::<u64>(),
        "wire_bytes": viewers.iter().map(|v| v.wire_win).sum::<u64>(),
        "lat_count": hist.count(),
        "lat_p50_us": hist.quantile(0.50),
        "lat_p99_us": hist.quantile(0.99),
        "lat_p999_us": hist.quantile(0.999),
        "lat_max_us": hist.max(),
        "lat_mean_us": hist.mean(),
        "errors": error_count,
        "error_samples": errors,
        "slow_connected": shared.slow_connected.load(Relaxed),
    })
}

fn start_viewers(
    rt: &tokio::runtime::Runtime,
    shared: &Arc<Shared>,
    addr: SocketAddr,
    fast: usize,
    slow: usize,
    request: Vec<u8>,
) {
    let request: Arc<[u8]> = request.into();
    let ntasks = fast
        .div_ceil(CONNS_PER_TASK)
        .clamp(1, MAX_TASKS)
        .min(fast.max(1));
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); ntasks];
    for i in 0..fast {
        groups[i % ntasks].push(i);
    }
    for group in groups.into_iter().filter(|g| !g.is_empty()) {
        let state = Arc::new(Mutex::new(TaskState {
            buf: vec![0; READ_BUF],
            viewers: vec![ViewerStats::default(); group.len()],
            hist: Hist::new(),
        }));
        lock(&shared.tasks).push(Arc::clone(&state));
        let shared = Arc::clone(shared);
        let request = Arc::clone(&request);
        rt.spawn(async move {
            let mut conns: FuturesUnordered<_> = (0..group.len())
                .map(|idx| viewer(addr, &shared, &state, idx, &request))
                .collect();
            while conns.next().await.is_some() {}
        });
    }
    if slow > 0 {
        let shared = Arc::clone(shared);
        rt.spawn(async move {
            let mut conns: FuturesUnordered<_> = (0..slow)
                .map(|_| slow_viewer(addr, &shared, &request))
                .collect();
            let mut held = Vec::with_capacity(slow);
            while let Some(res) = conns.next().await {
                match res {
                    Ok(stream) => {
                        shared.slow_connected.fetch_add(1, Relaxed);
                        held.push(stream);
                    }
                    Err(e) => lock(&shared.slow_errors).push(format!("slow viewer: {e}")),
                }
            }
            // Never read; keep the sockets open until the process exits.
            std::future::pending::<()>().await;
            drop(held);
        });
    }
}

async fn slow_viewer(
    addr: SocketAddr,
    shared: &Shared,
    request: &[u8],
) -> std::io::Result<TcpStream> {
    let mut stream = {
        let _permit = shared.connects.acquire().await;
        TcpStream::connect(addr).await?
    };
    stream.write_all(request).await?;
    Ok(stream)
}

async fn viewer(
    addr: SocketAddr,
    shared: &Shared,
    state: &Mutex<TaskState>,
    idx: usize,
    request: &[u8],
) {
    if let Err(e) = drive(addr, shared, state, idx, request).await {
        lock(state).viewers[idx].error = Some(e);
        shared.failed.fetch_add(1, Relaxed);
    }
}

async fn drive(
    addr: SocketAddr,
    shared: &Shared,
    state: &Mutex<TaskState>,
    idx: usize,
    request: &[u8],
) -> Result<(), String> {
    let mut stream = {
        let _permit = shared.connects.acquire().await;
        TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?
    };
    let _ = stream.set_nodelay(true);
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("send request: {e}"))?;
    let mut parser = StreamParser::new();
    loop {
        stream.readable().await.map_err(|e| format!("read: {e}"))?;
        let reads = {
            let mut reads = 0;
            let mut guard = lock(state);
            let TaskState { buf, viewers, hist } = &mut *guard;
            let v = &mut viewers[idx];
            while reads < READS_PER_TURN {
                match stream.try_read(buf) {
                    Ok(0) => {
                        return Err(if parser.is_closed() {
                            "the server ended the stream".into()
                        } else {
                            "connection closed mid-stream".into()
                        });
                    }
                    Ok(n) => {
                        reads += 1;
                        on_read(shared, &mut parser, &buf[..n], v, hist)?;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(format!("read: {e}")),
                }
            }
            reads
        };
        if reads == READS_PER_TURN {
            tokio::task::yield_now().await;
        }
    }
}

fn on_read(
    shared: &Shared,
    parser: &mut StreamParser,
    data: &[u8],
    v: &mut ViewerStats,
    hist: &mut Hist,
) -> Result<(), String> {
    let now = unix_nanos();
    let measuring = shared.measuring.load(Relaxed);
    let lo = shared.seq_lo.load(Relaxed);
    let hi = shared.seq_hi.load(Relaxed);
    if measuring {
        v.wire_win += data.len() as u64;
    }
    let mut max_seq = None;
    parser
        .feed(data, &mut |p: Part| {
            v.frames_total += 1;
            if !v.got_first {
                v.got_first = true;
                shared.warm.fetch_add(1, Relaxed);
            }
            if measuring {
                v.frames_win += 1;
                v.payload_win += p.len as u64;
            }
            if let Some(seq) = p.seq {
                v.max_seq = Some(v.max_seq.map_or(seq, |m| m.max(seq)));
                max_seq = Some(seq);
                if seq >= lo && seq < hi {
                    v.frames_seq += 1;
                    v.payload_seq += p.len as u64;
                    if let Some(ts) = p.ts {
                        hist.record(now.saturating_sub(ts) / 1000);
                    }
                }
            }
        })
        .map_err(|e| format!("parse: {e}"))?;
    if let Some(seq) = max_seq {
        shared.max_seq.fetch_max(seq, Relaxed);
    }
    Ok(())
}
