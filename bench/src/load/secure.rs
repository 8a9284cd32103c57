//! The viewers over TLS: HTTP/1.1 (one stream per connection, ALPN
//! `http/1.1`) and HTTP/2 (many streams per connection, ALPN `h2`), with a
//! rustls client that trusts only the driver's test CA.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use http::header::CONTENT_TYPE;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::viewers::on_read;
use super::{Shared, TaskState, lock};
use crate::parse::StreamParser;

/// Plaintext read per call: a TLS record holds at most 16 KiB.
const READ_BUF: usize = 32 * 1024;
/// The h2 client's receive windows: a stream may have about 20 frames of
/// 50 KB in flight and a connection of 16 streams all of theirs, so the
/// client's windows never pace the server (its own windows are under test).
const H2_STREAM_WINDOW: u32 = 1 << 20;
const H2_CONN_WINDOW: u32 = 16 << 20;

async fn connect(
    addr: SocketAddr,
    shared: &Shared,
    config: Arc<ClientConfig>,
) -> Result<TlsStream<TcpStream>, String> {
    let _permit = shared.connects.acquire().await;
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    TlsConnector::from(config)
        .connect(ServerName::IpAddress(addr.ip().into()), tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))
}

/// One HTTP/1.1 viewer over TLS.
pub(super) async fn drive_tls(
    addr: SocketAddr,
    shared: &Shared,
    state: &Mutex<TaskState>,
    idx: usize,
    request: &[u8],
    config: Arc<ClientConfig>,
) -> Result<(), String> {
    let mut stream = connect(addr, shared, config).await?;
    // Flushed: a TLS stream that finds its socket not ready keeps what it
    // was given and reports it written. Unflushed, such a request stayed
    // in rustls, and the server closed the connection at its header read
    // timeout: one of 1,000 viewers now and then, when the cores were
    // saturated.
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("send request: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("send request: {e}"))?;
    let mut parser = StreamParser::new();
    let mut buf = vec![0; READ_BUF];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(ended(&parser));
        }
        let mut guard = lock(state);
        let TaskState { viewers, hist, .. } = &mut *guard;
        on_read(shared, &mut parser, &buf[..n], &mut viewers[idx], hist)?;
    }
}

fn ended(parser: &StreamParser) -> String {
    if parser.is_closed() {
        "the server ended the stream".into()
    } else {
        "connection closed mid-stream".into()
    }
}

/// One HTTP/2 connection carrying one stream per viewer of `state`.
pub(super) async fn h2_connection(
    addr: SocketAddr,
    shared: &Shared,
    state: &Mutex<TaskState>,
    path: &str,
    config: Arc<ClientConfig>,
) {
    let streams = lock(state).viewers.len();
    let fail_all = |why: String| {
        let mut guard = lock(state);
        for v in guard.viewers.iter_mut().filter(|v| v.error.is_none()) {
            v.error = Some(why.clone());
            shared.failed.fetch_add(1, Relaxed);
        }
    };
    let client = match h2_handshake(addr, shared, config).await {
        Ok(c) => c,
        Err(why) => return fail_all(why),
    };
    let uri = format!("https://{addr}{path}");
    let mut all: FuturesUnordered<_> = (0..streams)
        .map(|idx| {
            let client = client.clone();
            let uri = uri.as_str();
            async move { (idx, h2_stream(client, shared, state, idx, uri).await) }
        })
        .collect();
    while let Some((idx, res)) = all.next().await {
        if let Err(why) = res {
            lock(state).viewers[idx].error = Some(why);
            shared.failed.fetch_add(1, Relaxed);
        }
    }
}

async fn h2_handshake(
    addr: SocketAddr,
    shared: &Shared,
    config: Arc<ClientConfig>,
) -> Result<h2::client::SendRequest<Bytes>, String> {
    let tls = connect(addr, shared, config).await?;
    if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err("the server did not choose h2 by ALPN".into());
    }
    let (client, conn) = h2::client::Builder::new()
        .initial_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONN_WINDOW)
        .handshake::<_, Bytes>(tls)
        .await
        .map_err(|e| format!("h2 handshake: {e}"))?;
    // Its errors reach every stream as errors of their own.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

async fn h2_stream(
    client: h2::client::SendRequest<Bytes>,
    shared: &Shared,
    state: &Mutex<TaskState>,
    idx: usize,
    uri: &str,
) -> Result<(), String> {
    let mut client = client.ready().await.map_err(|e| format!("h2: {e}"))?;
    let req = http::Request::get(uri)
        .header(http::header::USER_AGENT, "mjpeg-bench")
        .body(())
        .map_err(|e| format!("request: {e}"))?;
    let (resp, _) = client
        .send_request(req, true)
        .map_err(|e| format!("h2 request: {e}"))?;
    let resp = resp.await.map_err(|e| format!("h2 response: {e}"))?;
    if resp.status() != http::StatusCode::OK {
        return Err(format!("unexpected status {}", resp.status()));
    }
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or("response without a content type")?
        .to_owned();
    let mut parser = StreamParser::for_body(&content_type).map_err(|e| format!("parse: {e}"))?;
    let mut body = resp.into_body();
    while let Some(data) = body.data().await {
        let data = data.map_err(|e| format!("h2 data: {e}"))?;
        let _ = body.flow_control().release_capacity(data.len());
        let mut guard = lock(state);
        let TaskState { viewers, hist, .. } = &mut *guard;
        on_read(shared, &mut parser, &data, &mut viewers[idx], hist)?;
    }
    Err(ended(&parser))
}
