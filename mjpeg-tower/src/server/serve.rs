//! The serve loop of [`Server`].

use std::future::{Future, pending};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;

use super::accept::Acceptor;
use super::body::RequestBody;
use super::http1::{Http1, WithConnection};
use super::rewind::{self, Rewind};
use super::{Server, h2};
use crate::lifecycle::outcome::BoxError;

impl Server {
    /// Serves `service` on `listener` until this future is dropped, which
    /// closes the listener and every connection it accepted.
    ///
    /// # Errors
    /// Never returns unless accepting fails for a reason other than running
    /// out of file descriptors or a connection aborted before it was accepted.
    pub async fn serve<S, B>(self, listener: TcpListener, service: S) -> io::Result<()>
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.serve_with_shutdown(listener, service, pending()).await
    }

    /// Serves `service` until `signal` resolves, then waits up to the
    /// [grace period](Self::shutdown_grace) for open connections.
    ///
    /// # Errors
    /// As [`serve`](Self::serve).
    pub async fn serve_with_shutdown<S, B, F>(
        self,
        listener: TcpListener,
        service: S,
        signal: F,
    ) -> io::Result<()>
    where
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        F: Future<Output = ()> + Send,
    {
        // Every connection watches this: `true` asks it to finish what it
        // serves and close (HTTP/2 sends `GOAWAY`).
        let (stop, stopped) = watch::channel(false);
        let builder = self.builder();
        let grace = self.shutdown_grace;
        let head_timeout = self.header_read_timeout;
        let stall = self.stall_timeout;
        let limits = self.h2;
        let mut acceptor = Acceptor::new(self, listener);
        // Connections live in this set: when the serve future ends or is
        // dropped (a task aborted), every connection still open goes with it.
        let mut connections = JoinSet::new();
        let mut signal = std::pin::pin!(signal);
        loop {
            let accepted = tokio::select! {
                accepted = acceptor.accept() => Some(accepted),
                _ = connections.join_next(), if !connections.is_empty() => None,
                () = signal.as_mut() => break,
            };
            let (io, addr) = match accepted {
                None => continue, // a finished connection was reaped
                Some(accepted) => accepted?,
            };
            let first_request = Arc::new(AtomicBool::new(false));
            let h2 = h2::Connection {
                limits,
                stall,
                flag: io.flag().clone(),
                addr,
                first_request: first_request.clone(),
                shutdown: stopped.clone(),
            };
            let http1 = Http1 {
                builder: builder.clone(),
                shutdown: stopped.clone(),
                head_timeout,
                service: WithConnection {
                    inner: service.clone(),
                    flag: io.flag().clone(),
                    addr,
                    first_request: first_request.clone(),
                },
            };
            let service = service.clone();
            connections.spawn(async move {
                let conn = async move {
                    let (is_h2, io) = match io.alpn_protocol() {
                        Some(b"h2") => (true, Rewind::new(io)),
                        Some(_) => (false, Rewind::new(io)),
                        None => match rewind::sniff(io).await {
                            Ok(sniffed) => sniffed,
                            Err(_) => return,
                        },
                    };
                    // Boxed, each in its own size: the task holds only
                    // what its protocol needs (an HTTP/1.1 viewer is not
                    // charged for HTTP/2's state, nor the other way round).
                    if is_h2 {
                        Box::pin(h2.serve(io, service)).await;
                    } else {
                        Box::pin(http1.serve(io)).await;
                    }
                };
                let mut conn = std::pin::pin!(conn);
                // The HTTP/1.1 loop times each request head, but only once
                // the protocol is known (after the h2c preface sniffing),
                // and HTTP/2 has no such timer: until a first request, this
                // one applies to both.
                if let Some(timeout) = head_timeout {
                    tokio::select! {
                        () = conn.as_mut() => return,
                        () = tokio::time::sleep(timeout) => {}
                    }
                    if !first_request.load(Ordering::Relaxed) {
                        return; // dropping it closes the connection
                    }
                }
                conn.await;
            });
        }
        drop(acceptor);
        drop(stopped); // `closed` waits for the connections' receivers only
        let _ = stop.send(true);
        let _ = tokio::time::timeout(grace, stop.closed()).await;
        // Whatever did not finish within the grace period is aborted with the set.
        Ok(())
    }

    /// hyper's HTTP/1 server, for the requests `super::http1` hands it:
    /// HTTP/2 is served by `super::h2`, chosen before hyper sees the
    /// connection, so hyper-util's `auto` builder (which would read the
    /// preface a second time) is not needed.
    fn builder(&self) -> http1::Builder {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        builder
    }
}
