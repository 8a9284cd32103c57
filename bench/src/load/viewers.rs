//! The viewers: fast ones read and parse every part, a few dozen connections
//! per task sharing one read buffer; slow ones connect and never read. Over
//! TLS and HTTP/2 (`secure`) they read with their own buffers.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::secure::{drive_tls, h2_connection};
use super::{Shared, TaskState, Transport, ViewerStats, lock};
use crate::hist::Hist;
use crate::parse::{Part, StreamParser};
use crate::sys::unix_nanos;

const READ_BUF: usize = 256 * 1024;
const CONNS_PER_TASK: usize = 16;
const MAX_TASKS: usize = 64;
/// Reads in a row from one socket before letting the task's other sockets run.
const READS_PER_TURN: usize = 8;

pub(super) fn start_viewers(
    rt: &tokio::runtime::Runtime,
    shared: &Arc<Shared>,
    addr: SocketAddr,
    fast: usize,
    slow: usize,
    transport: &Transport,
    path: &str,
) {
    if let Transport::H2 { config, streams } = transport {
        // One task per connection, one viewer per stream.
        for first in (0..fast).step_by((*streams).max(1)) {
            let n = (*streams).min(fast - first);
            let state = Arc::new(Mutex::new(TaskState {
                buf: Vec::new(),
                viewers: vec![ViewerStats::default(); n],
                hist: Hist::new(),
            }));
            lock(&shared.tasks).push(Arc::clone(&state));
            let (shared, config, path) = (Arc::clone(shared), Arc::clone(config), path.to_owned());
            rt.spawn(async move { h2_connection(addr, &shared, &state, &path, config).await });
        }
        return;
    }
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: mjpeg-bench\r\n\r\n");
    let request: Arc<[u8]> = request.into_bytes().into();
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
        let transport = transport.clone();
        rt.spawn(async move {
            let mut conns: FuturesUnordered<_> = (0..group.len())
                .map(|idx| viewer(addr, &shared, &state, idx, &request, &transport))
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
    transport: &Transport,
) {
    let res = match transport {
        Transport::Tls(config) => {
            drive_tls(addr, shared, state, idx, request, Arc::clone(config)).await
        }
        _ => drive(addr, shared, state, idx, request).await,
    };
    if let Err(e) = res {
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

/// Counts what `data`, the next bytes of one viewer's response, completes.
pub(super) fn on_read(
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
                if v.max_seq.is_some_and(|m| seq <= m) {
                    // A frame sent again, or one older than a frame already had.
                    v.repeated += 1;
                }
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
