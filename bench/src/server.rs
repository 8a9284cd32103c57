//! `bench server`: one server process under test.
//!
//! Kinds: `axum` and `warp` (a [`FrameHub`] behind [`MjpegLayer`] with
//! `Framing::Standard`, served by the adapters' `serve` helpers), and `raw`,
//! the ceiling: a tokio `TcpListener`, a hand-written HTTP/1.1 head (identity
//! body, `Connection: close`) and the same pre-encoded multipart bytes written
//! with `writev`, fanned out through a `tokio::sync::watch` channel.
//!
//! Prints `ready <addr>` (or `error <why>`) on stdout, then answers control
//! lines on stdin: `stats` prints one JSON line of counters, `quit` (or end of
//! input) exits.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use mjpeg_tower::{Frame, FrameHub, Framing, MjpegLayer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::args::Args;
use crate::sys::{ensure_nofile, unix_nanos};

/// The library's default boundary; the raw server uses the same bytes.
pub(crate) const BOUNDARY: &str = "mjpeg-tower-boundary-2f9c4e7a1d";
/// The send buffer the raw server gives its sockets: the same as `Server`'s default.
const RAW_SEND_BUFFER: u32 = mjpeg_tower::server::DEFAULT_SEND_BUFFER;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Raw,
    Axum,
    Warp,
}

impl Kind {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "raw" => Ok(Self::Raw),
            "axum" => Ok(Self::Axum),
            "warp" => Ok(Self::Warp),
            _ => Err(format!("unknown server kind {s:?} (raw, axum, warp)")),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Axum => "axum",
            Self::Warp => "warp",
        }
    }
}

/// Options of one server process.
#[derive(Clone, Debug)]
struct Opts {
    kind: Kind,
    unpaced: bool,
    fps: f64,
    size: usize,
    hwm: Option<usize>,
}

type StatsFn = Arc<dyn Fn() -> Value + Send + Sync>;

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
    let a = Args::parse(args, &["unpaced"])?;
    let opts = Opts {
        kind: Kind::parse(a.require("kind")?)?,
        unpaced: a.flag("unpaced"),
        fps: a.get("fps", 30.0)?,
        size: a.get("size", 50_000)?,
        hwm: a
            .str("hwm")
            .map(str::parse)
            .transpose()
            .map_err(|_| "--hwm")?,
    };
    let viewers: u64 = a.get("viewers", 1000)?;
    let port: u16 = a.get("port", 0)?;
    ensure_nofile(viewers + 512)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(serve(opts, SocketAddr::from(([127, 0, 0, 1], port))))
}

async fn serve(opts: Opts, addr: SocketAddr) -> Result<(), String> {
    let payloads = payloads(opts.size);
    let published = Arc::new(AtomicU64::new(0));
    let (stats, listener_addr): (StatsFn, SocketAddr) = match opts.kind {
        Kind::Raw => start_raw(&opts, addr, payloads, Arc::clone(&published)).await?,
        Kind::Axum | Kind::Warp => start_hub(&opts, addr, payloads, Arc::clone(&published)).await?,
    };
    println!("ready {listener_addr}");
    let _ = std::io::stdout().flush();
    // Control on a plain thread: it never touches the runtime's workers.
    let control = std::thread::spawn(move || control(&stats));
    let _ = tokio::task::spawn_blocking(move || control.join()).await;
    Ok(())
}

fn control(stats: &StatsFn) {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        match line.trim() {
            "stats" => {
                println!("{}", stats());
                let _ = std::io::stdout().flush();
            }
            "quit" => break,
            _ => {}
        }
    }
    // End of input (the driver is gone) or quit: leave nothing behind.
    std::process::exit(0);
}

/// Eight distinct JPEG-looking payloads of `size` bytes (SOI ... EOI), cycled by the producers.
fn payloads(size: usize) -> Vec<Bytes> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..8)
        .map(|_| {
            let mut v: Vec<u8> = (0..size)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            if size >= 4 {
                v[..2].copy_from_slice(&[0xFF, 0xD8]);
                v[size - 2..].copy_from_slice(&[0xFF, 0xD9]);
            }
            Bytes::from(v)
        })
        .collect()
}

const X_SEQ: HeaderName = HeaderName::from_static("x-seq");
const X_TS: HeaderName = HeaderName::from_static("x-ts");

// ---------------------------------------------------------------- hub servers

async fn start_hub(
    opts: &Opts,
    addr: SocketAddr,
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
) -> Result<(StatsFn, SocketAddr), String> {
    let hub = FrameHub::new();
    // Standard framing: per-frame headers (X-Seq, X-Ts) then ride in the one
    // complete part head; with AdvanceHeaders each frame would become an empty
    // part plus a complete one.
    let mut layer = MjpegLayer::new().framing(Framing::Standard);
    if let Some(hwm) = opts.hwm {
        layer = layer.high_water_mark(hwm);
    }
    let listener = mjpeg_axum::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    match opts.kind {
        Kind::Axum => {
            use axum::extract::State;
            let app = axum::Router::new()
                .route(
                    "/stream",
                    axum::routing::get(
                        |State(hub): State<FrameHub>| async move { hub.subscribe() },
                    ),
                )
                .with_state(hub.clone())
                .layer(layer.clone());
            tokio::spawn(mjpeg_axum::serve(listener, app));
        }
        Kind::Warp => {
            use warp::Filter;
            let h = hub.clone();
            let routes = warp::path("stream")
                .and(warp::path::end())
                .map(move || h.subscribe());
            tokio::spawn(mjpeg_warp::serve(
                listener,
                warp::service(routes),
                layer.clone(),
            ));
        }
        Kind::Raw => unreachable!(),
    }
    let producer = HubProducer {
        hub: hub.clone(),
        payloads,
        published: Arc::clone(&published),
    };
    if opts.unpaced {
        // A tick may refill at most what a queue holds.
        let hwm = opts.hwm.unwrap_or(mjpeg_tower::DEFAULT_HIGH_WATER_MARK);
        let per_tick = (hwm / opts.size.max(1) + 1).max(2) as f64;
        tokio::spawn(producer.unpaced(layer.clone(), per_tick));
    } else {
        tokio::spawn(producer.paced(opts.fps));
    }
    let stats: StatsFn = Arc::new(move || {
        let h = hub.stats();
        let l = layer.stats();
        json!({
            "published": published.load(Relaxed),
            "viewers": h.viewers,
            "hub_delivered": h.delivered,
            "hub_dropped": h.dropped,
            "min_delivered": h.min_delivered,
            "max_dropped": h.max_dropped,
            "max_queued_bytes": h.max_queued_bytes,
            "frames_sent": l.frames_sent,
            "frames_dropped": l.frames_dropped,
            "bytes_sent": l.bytes_sent,
            "overflow_events": l.overflow_events,
            "active": l.active,
            "total_connections": l.total_connections,
            "status": format!("{:?}", l.status),
        })
    });
    Ok((stats, local))
}

struct HubProducer {
    hub: FrameHub,
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
}

impl HubProducer {
    fn publish(&self) {
        let seq = self.published.fetch_add(1, Relaxed);
        let payload = self.payloads[(seq % self.payloads.len() as u64) as usize].clone();
        let frame = Frame::new(payload)
            .with_header(X_SEQ, HeaderValue::from(seq))
            .with_header(X_TS, HeaderValue::from(unix_nanos()));
        self.hub.publish(frame);
    }

    async fn paced(self, fps: f64) {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / fps));
        loop {
            tick.tick().await;
            self.publish();
        }
    }

    /// Publishes as fast as viewers take frames, without spinning: every
    /// millisecond it measures how many frames the average viewer took
    /// (`MjpegLayer::stats().frames_sent`, O(1)) and publishes 1.3x that rate
    /// plus a little, so queues stay non-empty and keep-latest drops the excess.
    /// A viewer can get at most one queue (high-water mark) per tick.
    async fn unpaced(self, layer: MjpegLayer, max_per_tick: f64) {
        const FLOOR_FPS: f64 = 20.0;
        const OVERSHOOT: f64 = 1.3;
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last = Instant::now();
        let mut last_sent = layer.stats().frames_sent;
        let mut credit = 1.0;
        loop {
            tick.tick().await;
            let now = Instant::now();
            let dt = now.duration_since(last).as_secs_f64().max(1e-4);
            last = now;
            let sent = layer.stats().frames_sent;
            let taken = sent.saturating_sub(last_sent) as f64;
            last_sent = sent;
            let viewers = self.hub.viewers().max(1) as f64;
            let rate = taken / viewers / dt * OVERSHOOT + FLOOR_FPS;
            credit = (credit + rate * dt).min(max_per_tick);
            while credit >= 1.0 {
                credit -= 1.0;
                self.publish();
            }
        }
    }
}

// ---------------------------------------------------------------- raw ceiling

/// One part exactly as `Framing::Standard` puts it on the wire (header order aside).
struct RawPart {
    head: Bytes,
    payload: Bytes,
    tail: Bytes,
}

fn raw_part(payload: Bytes, seq: u64) -> RawPart {
    let head = format!(
        "Content-Type: image/jpeg\r\nContent-Length: {}\r\nx-seq: {seq}\r\nx-ts: {}\r\n\r\n",
        payload.len(),
        unix_nanos()
    );
    RawPart {
        head: Bytes::from(head),
        payload,
        tail: Bytes::from(format!("\r\n--{BOUNDARY}\r\n")),
    }
}

#[derive(Default)]
struct RawCounters {
    active: AtomicUsize,
    total: AtomicU64,
    frames_sent: AtomicU64,
    bytes_sent: AtomicU64,
}

async fn start_raw(
    opts: &Opts,
    addr: SocketAddr,
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
) -> Result<(StatsFn, SocketAddr), String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket.set_reuseaddr(true).map_err(|e| e.to_string())?;
    // Accepted sockets inherit it: the same kernel buffering as the library's `Server`.
    socket
        .set_send_buffer_size(RAW_SEND_BUFFER)
        .map_err(|e| e.to_string())?;
    socket.bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    let listener = socket.listen(1024).map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;

    let first = Arc::new(raw_part(
        payloads[0].clone(),
        published.fetch_add(1, Relaxed),
    ));
    let (tx, rx) = watch::channel(first);
    let counters = Arc::new(RawCounters::default());
    let unpaced = opts.unpaced;
    // Paced: the configured rate. Unpaced: connections write the latest part
    // again and again; it is refreshed every millisecond.
    let period = if unpaced {
        Duration::from_millis(1)
    } else {
        Duration::from_secs_f64(1.0 / opts.fps)
    };
    let p = Arc::clone(&published);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            let seq = p.fetch_add(1, Relaxed);
            let payload = payloads[(seq % payloads.len() as u64) as usize].clone();
            tx.send_replace(Arc::new(raw_part(payload, seq)));
        }
    });
    tokio::spawn(accept_raw(listener, rx, Arc::clone(&counters), unpaced));
    let stats: StatsFn = Arc::new(move || {
        json!({
            "published": published.load(Relaxed),
            "viewers": counters.active.load(Relaxed),
            "frames_sent": counters.frames_sent.load(Relaxed),
            "bytes_sent": counters.bytes_sent.load(Relaxed),
            "total_connections": counters.total.load(Relaxed),
        })
    });
    Ok((stats, local))
}

async fn accept_raw(
    listener: TcpListener,
    rx: watch::Receiver<Arc<RawPart>>,
    counters: Arc<RawCounters>,
    unpaced: bool,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let rx = rx.clone();
        let counters = Arc::clone(&counters);
        tokio::spawn(async move {
            counters.active.fetch_add(1, Relaxed);
            counters.total.fetch_add(1, Relaxed);
            let _ = raw_conn(stream, rx, &counters, unpaced).await;
            counters.active.fetch_sub(1, Relaxed);
        });
    }
}

async fn raw_conn(
    mut stream: TcpStream,
    mut rx: watch::Receiver<Arc<RawPart>>,
    counters: &RawCounters,
    unpaced: bool,
) -> std::io::Result<()> {
    // Read the request head; its content does not matter.
    let mut req = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while memchr::memmem::find(&req, b"\r\n\r\n").is_none() {
        let n = stream.read(&mut buf).await?;
        if n == 0 || req.len() > 16 * 1024 {
            return Ok(());
        }
        req.extend_from_slice(&buf[..n]);
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n\
         cache-control: no-cache, no-store, max-age=0, must-revalidate\r\nconnection: close\r\n\r\n\
         --{BOUNDARY}\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    loop {
        let part = Arc::clone(&rx.borrow_and_update());
        write_part(&mut stream, &part).await?;
        counters.frames_sent.fetch_add(1, Relaxed);
        let len = part.head.len() + part.payload.len() + part.tail.len();
        counters.bytes_sent.fetch_add(len as u64, Relaxed);
        if !unpaced && rx.changed().await.is_err() {
            return Ok(());
        }
    }
}

/// Writes head, payload and tail with `writev` until all are out.
async fn write_part(stream: &mut TcpStream, part: &RawPart) -> std::io::Result<()> {
    let bufs = [&part.head[..], &part.payload[..], &part.tail[..]];
    let (mut i, mut off) = (0, 0);
    while i < bufs.len() {
        let slices = [
            std::io::IoSlice::new(&bufs[i][off..]),
            std::io::IoSlice::new(bufs.get(i + 1).copied().unwrap_or_default()),
            std::io::IoSlice::new(bufs.get(i + 2).copied().unwrap_or_default()),
        ];
        let mut n = stream.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while n > 0 && i < bufs.len() {
            let left = bufs[i].len() - off;
            if n >= left {
                n -= left;
                i += 1;
                off = 0;
            } else {
                off += n;
                n = 0;
            }
        }
    }
    Ok(())
}
