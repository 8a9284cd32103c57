//! The raw ceiling: a tokio `TcpListener`, a hand-written HTTP/1.1 head
//! (identity body, `Connection: close`) and the same part bytes as the hub
//! servers' default framing (`AdvanceHeaders`), written with `writev` and fanned out through a
//! `tokio::sync::watch` channel.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

use mjpeg_tower::Boundary;

use super::{Opts, StatsFn};
use crate::stamp::stamped;
use crate::sys::unix_nanos;

/// The send buffer the raw server gives its sockets: the same as `Server`'s default.
pub(super) const RAW_SEND_BUFFER: u32 = mjpeg_tower::server::DEFAULT_SEND_BUFFER;

/// The part header block `Framing::AdvanceHeaders` sends ahead of each frame.
pub(super) const BLOCK: &str = "Content-Type: image/jpeg\r\n\r\n";

/// One frame exactly as `Framing::AdvanceHeaders` puts it on the wire: the
/// payload, then the delimiter and the next part's header block.
pub(super) struct RawPart {
    pub(super) payload: Bytes,
    pub(super) tail: Bytes,
}

pub(super) fn raw_part(base: &[u8], seq: u64) -> RawPart {
    RawPart {
        payload: stamped(base, seq, unix_nanos()),
        // The hub servers' boundary: the layer's default, so the bytes match.
        tail: Bytes::from(format!("\r\n--{}\r\n{BLOCK}", Boundary::default())),
    }
}

#[derive(Default)]
struct RawCounters {
    active: AtomicUsize,
    total: AtomicU64,
    frames_sent: AtomicU64,
    bytes_sent: AtomicU64,
}
/// A listener on `addr` with the send buffer the library's `Server` uses
/// (accepted sockets inherit it), and its address.
pub(super) fn listen(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket.set_reuseaddr(true).map_err(|e| e.to_string())?;
    socket
        .set_send_buffer_size(RAW_SEND_BUFFER)
        .map_err(|e| e.to_string())?;
    socket.bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    let listener = socket.listen(1024).map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    Ok((listener, local))
}

/// Publishes a new pre-encoded part every `period` (counted in `published`),
/// starting with one at once; connections watch the receiver.
pub(super) fn produce(
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
    period: Duration,
) -> watch::Receiver<Arc<RawPart>> {
    let first = Arc::new(raw_part(&payloads[0], published.fetch_add(1, Relaxed)));
    let (tx, rx) = watch::channel(first);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            let seq = published.fetch_add(1, Relaxed);
            let base = &payloads[(seq % payloads.len() as u64) as usize];
            tx.send_replace(Arc::new(raw_part(base, seq)));
        }
    });
    rx
}

pub(super) async fn start_raw(
    opts: &Opts,
    addr: SocketAddr,
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
) -> Result<(StatsFn, SocketAddr), String> {
    let (listener, local) = listen(addr)?;
    let counters = Arc::new(RawCounters::default());
    let unpaced = opts.unpaced;
    // Paced: the configured rate. Unpaced: connections write the latest part
    // again and again; it is refreshed every millisecond.
    let period = if unpaced {
        Duration::from_millis(1)
    } else {
        Duration::from_secs_f64(1.0 / opts.fps)
    };
    let rx = produce(payloads, Arc::clone(&published), period);
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
    let boundary = Boundary::default();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary={boundary}\r\n\
         cache-control: no-cache, no-store, max-age=0, must-revalidate\r\nconnection: close\r\n\r\n\
         --{boundary}\r\n{BLOCK}"
    );
    stream.write_all(head.as_bytes()).await?;
    loop {
        let part = Arc::clone(&rx.borrow_and_update());
        write_part(&mut stream, &part).await?;
        counters.frames_sent.fetch_add(1, Relaxed);
        let len = part.payload.len() + part.tail.len();
        counters.bytes_sent.fetch_add(len as u64, Relaxed);
        if !unpaced && rx.changed().await.is_err() {
            return Ok(());
        }
    }
}

/// Writes payload and tail with `writev` until both are out.
async fn write_part(stream: &mut TcpStream, part: &RawPart) -> std::io::Result<()> {
    let bufs = [&part.payload[..], &part.tail[..]];
    let (mut i, mut off) = (0, 0);
    while i < bufs.len() {
        let slices = [
            std::io::IoSlice::new(&bufs[i][off..]),
            std::io::IoSlice::new(bufs.get(i + 1).copied().unwrap_or_default()),
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
