//! HTTP/1.1: viewers served by our own loop, everything else by hyper.
//!
//! A viewer sends a `GET` with no body and then only reads. For those
//! requests this loop parses the head (with `httparse`, as hyper does),
//! calls the service, and writes the response straight from the body's
//! chunks ([`write`]). While a stream runs, the connection holds no read
//! or write buffer: hyper keeps 8 KiB of each per connection, which was
//! most of a viewer's memory.
//!
//! The first request it does not serve (a body, an upgrade, `Expect`,
//! `HEAD`, HTTP/1.0, a head `httparse` rejects) hands the connection to
//! hyper for the rest of its life, with the bytes read so far replayed.

mod head;
mod write;

use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tower_service::Service;

use self::head::{MAX_HEAD, Parsed};
use self::write::Outgoing;
use super::body::RequestBody;
use super::io::ServerIo;
use super::rewind::Rewind;
use crate::lifecycle::info::{RemoteAddr, StallFlag};
use crate::lifecycle::outcome::BoxError;

/// The most bytes read ahead while a response is in flight: they stay
/// held until it ends, on every streaming connection that sends them.
const READ_AHEAD: usize = 2048;

/// How long a closing connection may take to send its last bytes.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// An HTTP/1.1 connection.
pub(super) struct Http1<S> {
    /// hyper, for the requests this loop does not serve.
    pub(super) builder: http1::Builder,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) service: WithConnection<S>,
    /// For each request head, counted from when the loop starts waiting for it.
    pub(super) head_timeout: Option<Duration>,
}

impl<S> Http1<S> {
    pub(super) async fn serve<B>(mut self, mut io: Rewind<ServerIo>)
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        // Bytes read and not yet parsed: empty (and unallocated) while a
        // viewer streams, unless the client sends ahead.
        let mut read = Vec::new();
        loop {
            let Some(parsed) = self.read_head(&mut io, &mut read).await else {
                return close(io).await; // over TLS, a `close_notify`
            };
            match parsed {
                Parsed::Ours {
                    request,
                    len,
                    keep_alive,
                } => {
                    consume(&mut read, len);
                    let request = self
                        .service
                        .prepare((*request).map(|()| RequestBody::empty()));
                    let keep_alive = self.respond(&mut io, &mut read, request, keep_alive).await;
                    if !keep_alive || *self.shutdown.borrow() {
                        return close(io).await;
                    }
                }
                Parsed::Hyper => {
                    io.replay(read);
                    return Box::pin(self.hyper(io)).await;
                }
                Parsed::Bad(status) => {
                    let refusal = head::refusal(status);
                    let _ = tokio::time::timeout(CLOSE_GRACE, async {
                        let mut out = Outgoing::new(refusal, head::Framing::None);
                        let mut body = RequestBody::empty();
                        poll_fn(|cx| out.poll_send(Pin::new(&mut body), Pin::new(&mut io), cx))
                            .await
                    })
                    .await;
                    return close(io).await;
                }
                Parsed::Partial => unreachable!("read_head reads until a whole head"),
            }
        }
    }

    /// Reads until `read` starts with a whole request head; `None` when the
    /// connection closes, times out, or the server stops while it is idle.
    async fn read_head(&mut self, io: &mut Rewind<ServerIo>, read: &mut Vec<u8>) -> Option<Parsed> {
        let deadline = self
            .head_timeout
            .map(|timeout| tokio::time::Instant::now() + timeout);
        let timer = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        let mut timer = pin!(timer);
        loop {
            if !read.is_empty() {
                match head::parse(read) {
                    Parsed::Partial => {}
                    parsed => return Some(parsed),
                }
            }
            let idle = read.is_empty();
            tokio::select! {
                more = poll_fn(|cx| poll_read_more(Pin::new(&mut *io), read, MAX_HEAD, cx)) => {
                    if !matches!(more, Ok(true)) {
                        return None; // closed, reset, or idle too long
                    }
                }
                () = timer.as_mut() => return None,
                _ = self.shutdown.wait_for(|stop| *stop), if idle => return None,
            }
        }
    }

    /// Calls the service and writes its response; whether the connection
    /// may serve another request.
    async fn respond<B>(
        &mut self,
        io: &mut Rewind<ServerIo>,
        read: &mut Vec<u8>,
        request: Request<RequestBody>,
        keep_alive: bool,
    ) -> bool
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        // A service per request, as hyper's `TowerToHyperService` does.
        let mut service = self.service.inner.clone();
        let response = async {
            poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(request).await
        };
        let mut response = pin!(response);
        // A client that leaves while the service works drops its future.
        let response = poll_fn(|cx| {
            if let Poll::Ready(()) = poll_closed(Pin::new(&mut *io), read, cx) {
                return Poll::Ready(None);
            }
            // A service error closes the connection, as hyper does.
            response.as_mut().poll(cx).map(Result::ok)
        })
        .await;
        let Some(response) = response else {
            return false;
        };
        let (mut parts, body) = response.into_parts();
        // A 1xx is interim: the client would wait for a final response that
        // never comes. hyper answers `500` without the body and closes.
        let interim = parts.status.is_informational();
        if interim {
            parts.status = http::StatusCode::INTERNAL_SERVER_ERROR;
            parts.headers.clear();
        }
        // A server stopping closes after this response: say so (as hyper).
        let last = interim || *self.shutdown.borrow() || head::asks_close(&parts.headers);
        let keep_alive = keep_alive && !last;
        let exact = if interim || body.is_end_stream() {
            Some(0)
        } else {
            body.size_hint().exact()
        };
        let (head, mut framing) =
            head::encode(parts.status, &mut parts.headers, exact, !keep_alive);
        drop(parts);
        if interim {
            framing = head::Framing::None; // the app's body is not sent
        }
        let mut out = Outgoing::new(head, framing);
        let mut body = pin!(body);
        // The body is dropped when this returns: a viewer gone is a viewer
        // reported, with the stall flag telling an overflow from a close.
        poll_fn(|cx| {
            if let Poll::Ready(()) = poll_closed(Pin::new(&mut *io), read, cx) {
                return Poll::Ready(false);
            }
            out.poll_send(body.as_mut(), Pin::new(&mut *io), cx)
                .map(|sent| sent.is_ok() && keep_alive)
        })
        .await
    }

    /// hyper serves the rest of the connection.
    async fn hyper<B>(mut self, io: Rewind<ServerIo>)
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let service = TowerToHyperService::new(self.service);
        let conn = self
            .builder
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        let mut conn = pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = self.shutdown.wait_for(|stop| *stop) => {}
        }
        // Finish the request in flight, then close (an upgraded connection
        // has left hyper and is not waited for).
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// Shuts the write side down (a TLS `close_notify`), briefly.
async fn close(mut io: Rewind<ServerIo>) {
    let _ = tokio::time::timeout(
        CLOSE_GRACE,
        poll_fn(|cx| Pin::new(&mut io).poll_shutdown(cx)),
    )
    .await;
}

/// Drops the request head just parsed from the front of `read`, and the
/// room a long head needed: what is left is held while the response runs.
fn consume(read: &mut Vec<u8>, len: usize) {
    read.drain(..len);
    if read.is_empty() {
        *read = Vec::new();
    } else {
        read.shrink_to(READ_AHEAD);
    }
}

/// Reads what has arrived into `read`, at most `max` bytes (and at most a
/// 2 KiB chunk): `Ok(true)` for some bytes, `Ok(false)` at the end of the
/// stream.
fn poll_read_more<T: AsyncRead>(
    io: Pin<&mut T>,
    read: &mut Vec<u8>,
    max: usize,
    cx: &mut Context<'_>,
) -> Poll<io::Result<bool>> {
    let mut chunk = [0; 2048];
    let max = max.clamp(1, chunk.len());
    let mut buf = ReadBuf::new(&mut chunk[..max]);
    match io.poll_read(cx, &mut buf) {
        Poll::Ready(Ok(())) => {
            if buf.filled().is_empty() {
                return Poll::Ready(Ok(false));
            }
            if read.capacity() == 0 {
                read.reserve(1024);
            }
            read.extend_from_slice(buf.filled());
            Poll::Ready(Ok(true))
        }
        Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
        Poll::Pending => Poll::Pending,
    }
}

/// Ready when the client has closed (or reset, or idled out) the connection
/// while a response is in flight. Bytes it sends ahead are kept for the next
/// request, up to [`READ_AHEAD`]; past that, reading waits (and a close is
/// seen when a write fails), as hyper stops at what its buffer holds.
fn poll_closed<T: AsyncRead>(
    mut io: Pin<&mut T>,
    read: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    while read.len() < READ_AHEAD {
        match poll_read_more(io.as_mut(), read, READ_AHEAD - read.len(), cx) {
            Poll::Ready(Ok(true)) => {}
            Poll::Ready(Ok(false) | Err(_)) => return Poll::Ready(()),
            Poll::Pending => return Poll::Pending,
        }
    }
    Poll::Pending
}

/// Adds the connection's [`StallFlag`] and [`RemoteAddr`] to each request,
/// and notes that a first request arrived.
#[derive(Clone, Debug)]
pub(super) struct WithConnection<S> {
    pub(super) inner: S,
    pub(super) flag: StallFlag,
    pub(super) addr: SocketAddr,
    pub(super) first_request: Arc<AtomicBool>,
}

impl<S> WithConnection<S> {
    fn prepare(&self, mut req: Request<RequestBody>) -> Request<RequestBody> {
        self.first_request.store(true, Ordering::Relaxed);
        req.extensions_mut().insert(self.flag.clone());
        req.extensions_mut().insert(RemoteAddr(self.addr));
        req
    }
}

/// hyper's requests, their bodies made [`RequestBody`].
impl<S> Service<Request<Incoming>> for WithConnection<S>
where
    S: Service<Request<RequestBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Incoming>) -> S::Future {
        let req = self.prepare(req.map(RequestBody::http1));
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    #[test]
    fn a_long_head_leaves_no_big_buffer_behind() {
        // A 60 KiB head with one byte of the next request behind it.
        let mut read = b"GET / HTTP/1.1\r\nx-long: ".to_vec();
        read.resize(60 * 1024, b'a');
        read.extend_from_slice(b"\r\n\r\nG");
        let len = read.len() - 1;
        consume(&mut read, len);
        assert_eq!(read, b"G");
        assert!(
            read.capacity() <= READ_AHEAD,
            "{} bytes held",
            read.capacity()
        );
    }

    #[tokio::test]
    async fn bytes_sent_ahead_during_a_response_are_held_to_a_little() {
        // A client may pipeline while a stream runs, or just send junk:
        // what is read ahead is held for the whole stream, per connection.
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let mut client = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (mut server, _) = listener.accept().await.unwrap_or_else(|e| panic!("{e}"));
        let ahead = 48 * 1024;
        client
            .write_all(&vec![b'a'; ahead])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut read = Vec::new();
        for _ in 0..50 {
            let closed =
                poll_fn(|cx| Poll::Ready(poll_closed(Pin::new(&mut server), &mut read, cx))).await;
            assert!(closed.is_pending(), "the client is still there");
            if read.len() >= ahead {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(read.capacity() <= 4096, "{} bytes held", read.capacity());
    }
}
