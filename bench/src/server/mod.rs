//! `bench server`: one server process under test.
//!
//! Kinds: `axum` and `warp` (a `FrameHub` behind `MjpegLayer` with the
//! default framing, or `Framing::Standard` with `--standard`, served by the adapters' `serve` helpers), and `raw`,
//! the ceiling: a tokio `TcpListener`, a hand-written HTTP/1.1 head (identity
//! body, `Connection: close`) and the same pre-encoded multipart bytes written
//! with `writev`, fanned out through a `tokio::sync::watch` channel.
//!
//! Prints `ready <addr>` (or `error <why>`) on stdout, then answers control
//! lines on stdin: `stats` prints one JSON line of counters, `quit` (or end of
//! input) exits.
//!
//! - `hub`: the axum and warp servers and their producers;
//! - `raw`: the ceiling.

mod bare;
mod hub;
mod raw;

use std::io::BufRead;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use serde_json::Value;

use crate::args::Args;
use crate::child::{exit_code, runtime, say};
use crate::sys::ensure_nofile;
use bare::start_hyper;
use hub::start_hub;
use raw::start_raw;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Raw,
    /// Diagnostics: hyper alone (see `bare`); not in the driver's plan.
    Hyper,
    Axum,
    Warp,
}

impl Kind {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "raw" => Ok(Self::Raw),
            "hyper" => Ok(Self::Hyper),
            "axum" => Ok(Self::Axum),
            "warp" => Ok(Self::Warp),
            _ => Err(format!("unknown server kind {s:?} (raw, axum, warp)")),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Hyper => "hyper",
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
    /// `Framing::Standard` instead of the default.
    standard: bool,
    /// Diagnostics only: `Server` without its write-stall and idle
    /// timeouts, to measure what their timers cost per frame.
    bare: bool,
    /// HTTPS with this certificate chain and key (PEM files).
    tls: Option<(String, String)>,
    /// Viewers the driver will connect (the connection cap is raised to fit).
    viewers: usize,
    fps: f64,
    size: usize,
    hwm: Option<usize>,
}

pub(crate) type StatsFn = Arc<dyn Fn() -> Value + Send + Sync>;

pub(crate) fn main(args: &[String]) -> i32 {
    exit_code(run(args))
}

fn run(args: &[String]) -> Result<(), String> {
    let a = Args::parse(args, &["unpaced", "standard", "bare"])?;
    let opts = Opts {
        kind: Kind::parse(a.require("kind")?)?,
        unpaced: a.flag("unpaced"),
        standard: a.flag("standard"),
        bare: a.flag("bare"),
        viewers: 0,
        tls: match (a.str("cert"), a.str("key")) {
            (Some(c), Some(k)) => Some((c.to_owned(), k.to_owned())),
            (None, None) => None,
            _ => return Err("--cert and --key go together".into()),
        },
        fps: a.get("fps", 30.0)?,
        size: a.get("size", 50_000)?,
        hwm: a
            .str("hwm")
            .map(str::parse)
            .transpose()
            .map_err(|_| "--hwm")?,
    };
    let viewers: u64 = a.get("viewers", 1000)?;
    let opts = Opts {
        viewers: usize::try_from(viewers).map_err(|_| "--viewers")?,
        ..opts
    };
    let port: u16 = a.get("port", 0)?;
    ensure_nofile(viewers + 512)?;
    let rt = runtime()?;
    rt.block_on(serve(opts, SocketAddr::from(([127, 0, 0, 1], port))))
}

async fn serve(opts: Opts, addr: SocketAddr) -> Result<(), String> {
    if opts.tls.is_some() && matches!(opts.kind, Kind::Raw | Kind::Hyper) {
        return Err("the raw ceiling serves plain HTTP only".into());
    }
    let payloads = payloads(opts.size);
    let published = Arc::new(AtomicU64::new(0));
    let (stats, listener_addr): (StatsFn, SocketAddr) = match opts.kind {
        Kind::Raw => start_raw(&opts, addr, payloads, Arc::clone(&published)).await?,
        Kind::Hyper => start_hyper(&opts, addr, payloads, Arc::clone(&published)).await?,
        Kind::Axum | Kind::Warp => start_hub(&opts, addr, payloads, Arc::clone(&published)).await?,
    };
    say(&format!("ready {listener_addr}"));
    // Control on a plain thread: it never touches the runtime's workers.
    let control = std::thread::spawn(move || control(&stats));
    let _ = tokio::task::spawn_blocking(move || control.join()).await;
    Ok(())
}

pub(crate) fn control(stats: &StatsFn) {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        match line.trim() {
            "stats" => say(&stats().to_string()),
            "quit" => break,
            _ => {}
        }
    }
    // End of input (the driver is gone) or quit: leave nothing behind.
    std::process::exit(0);
}

/// Eight distinct JPEG-looking payloads of `size` bytes (SOI ... EOI), cycled by the producers.
pub(crate) fn payloads(size: usize) -> Vec<Bytes> {
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
