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
mod read;
mod streaming;
mod write;

use std::future::{Future, poll_fn};

use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWrite;
use tokio::sync::watch;
use tower_service::Service;

use self::head::{MAX_HEAD, Parsed};
use self::read::Reader;
use self::streaming::{AbortOnDrop, Streaming};
use self::write::Outgoing;
use super::body::RequestBody;
use super::io::ServerIo;
use super::rewind::Rewind;
use crate::lifecycle::info::{RemoteAddr, StallFlag};
use crate::lifecycle::outcome::BoxError;

/// How long a closing connection may take to send its last bytes.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The socket and what reads it, in one allocation of their own rather
/// than spread over the connection's future: each line a frame touches is
/// a cache miss at 1,000 viewers. What a write reads of the socket comes
/// first and fits one line (`StallIo`); the [`Reader`] is read only when
/// the read side wakes.
#[repr(C, align(64))]
struct Conn {
    io: Rewind<ServerIo>,
    read: Reader,
}

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
    pub(super) async fn serve<B>(mut self, io: Rewind<ServerIo>)
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut conn = Box::new(Conn {
            read: Reader::new(),
            io,
        });
        loop {
            let Conn { read, io } = &mut *conn;
            let Some(parsed) = self.read_head(io, read).await else {
                return close(conn.io).await; // over TLS, a `close_notify`
            };
            match parsed {
                Parsed::Ours {
                    request,
                    len,
                    keep_alive,
                } => {
                    read.consume(len);
                    let request = self
                        .service
                        .prepare((*request).map(|()| RequestBody::empty()));
                    let Some((back, keep_alive)) = self.respond(conn, request, keep_alive).await
                    else {
                        return; // the stream's task was aborted or panicked
                    };
                    conn = back;
                    if !keep_alive || *self.shutdown.borrow() {
                        return close(conn.io).await;
                    }
                }
                Parsed::Hyper => {
                    let Conn { read, mut io } = *conn;
                    io.replay(read.buf);
                    return Box::pin(self.hyper(io)).await;
                }
                Parsed::Bad(status) => {
                    refuse(io, status).await;
                    return close(conn.io).await;
                }
            }
        }
    }

    /// Reads until `read` starts with a whole request head; `None` when the
    /// connection closes, times out, or the server stops while it is idle.
    async fn read_head(&mut self, io: &mut Rewind<ServerIo>, read: &mut Reader) -> Option<Parsed> {
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
            if !read.buf.is_empty() {
                if let Some(parsed) = head::parse(&read.buf) {
                    return Some(parsed);
                }
            }
            let idle = read.buf.is_empty();
            tokio::select! {
                more = poll_fn(|cx| read.poll_read_more(Pin::new(&mut *io), MAX_HEAD, cx)) => {
                    if !matches!(more, Ok(true)) {
                        return None; // closed, reset, or idle too long
                    }
                }
                () = timer.as_mut() => return None,
                _ = self.shutdown.wait_for(|stop| *stop), if idle => return None,
            }
        }
    }

    /// Calls the service and writes its response; the connection back,
    /// with whether it may serve another request.
    async fn respond<B>(
        &mut self,
        mut conn: Box<Conn>,
        request: Request<RequestBody>,
        keep_alive: bool,
    ) -> Option<(Box<Conn>, bool)>
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let Conn { read, io } = &mut *conn;
        // A service per request, as hyper's `TowerToHyperService` does.
        let mut service = self.service.inner.clone();
        let response = async {
            poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(request).await
        };
        let mut response = pin!(response);
        // A client that leaves while the service works drops its future.
        let response = poll_fn(|cx| {
            if let Poll::Ready(()) = read.poll_closed(Pin::new(&mut *io), cx) {
                return Poll::Ready(None);
            }
            // A service error closes the connection, as hyper does.
            response.as_mut().poll(cx).map(Result::ok)
        })
        .await;
        let Some(response) = response else {
            return Some((conn, false));
        };
        let (mut parts, body) = response.into_parts();
        // A 1xx is interim: the client would wait for a final response that
        // never comes. hyper answers `500` without the body and closes.
        if parts.status.is_informational() {
            refuse(io, StatusCode::INTERNAL_SERVER_ERROR).await;
            return Some((conn, false));
        }
        // A server stopping closes after this response: say so (as hyper).
        let last = *self.shutdown.borrow() || head::asks_close(&parts.headers);
        let keep_alive = keep_alive && !last;
        let exact = if body.is_end_stream() {
            Some(0)
        } else {
            body.size_hint().exact()
        };
        let (head, framing) = head::encode(parts.status, &mut parts.headers, exact, !keep_alive);
        drop(parts);
        let out = Outgoing::new(head, framing);
        // The body is dropped when the stream ends: a viewer gone is a
        // viewer reported, with the stall flag telling an overflow from a close.
        let streaming = Streaming::new(conn, out, body, keep_alive);
        let (mut conn, keep_alive) = if exact.is_some() {
            // A body of known length (a snapshot, an error page) is
            // written here: a task of its own pays for a stream only.
            streaming.await?
        } else {
            let mut task = AbortOnDrop(tokio::spawn(streaming));
            let (mut conn, keep_alive) = (&mut task.0).await.ok().flatten()?;
            // The stall timer holds the ended task's waker until it
            // fires. (After a body written here it holds this task's,
            // and stays for the next response.)
            conn.io.get_mut().forget_stall();
            (conn, keep_alive)
        };
        // The task's waker would keep its memory while the connection idles.
        conn.read.forget_task();
        Some((conn, keep_alive))
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

/// Writes a short response after which the connection closes (`400`,
/// `431`, `500`), briefly.
async fn refuse(io: &mut Rewind<ServerIo>, status: StatusCode) {
    let mut out = Outgoing::new(head::refusal(status), head::Framing::None);
    let mut body = RequestBody::empty();
    let send = poll_fn(|cx| out.poll_send(Pin::new(&mut body), Pin::new(&mut *io), cx));
    let _ = tokio::time::timeout(CLOSE_GRACE, send).await;
}

/// Shuts the write side down (a TLS `close_notify`), briefly.
async fn close(mut io: Rewind<ServerIo>) {
    let _ = tokio::time::timeout(
        CLOSE_GRACE,
        poll_fn(|cx| Pin::new(&mut io).poll_shutdown(cx)),
    )
    .await;
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
