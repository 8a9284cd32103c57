//! The serve loop of [`Server`].

use std::future::{Future, pending};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower_service::Service;

use super::Server;
use super::accept::Acceptor;
use crate::lifecycle::info::{RemoteAddr, StallFlag};
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
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
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
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        F: Future<Output = ()> + Send,
    {
        let graceful = GracefulShutdown::new();
        let builder = self.builder();
        let grace = self.shutdown_grace;
        let head_timeout = self.header_read_timeout;
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
            let flag = io.flag().clone();
            let first_request = Arc::new(AtomicBool::new(false));
            let service = TowerToHyperService::new(WithConnection {
                inner: service.clone(),
                flag,
                addr,
                first_request: first_request.clone(),
            });
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(io), service)
                .into_owned();
            let conn = graceful.watch(conn);
            connections.spawn(async move {
                let mut conn = std::pin::pin!(conn);
                // hyper's HTTP/1 timer starts once the protocol is known,
                // and HTTP/2 has none: until a first request, ours applies.
                if let Some(timeout) = head_timeout {
                    tokio::select! {
                        _ = conn.as_mut() => return,
                        () = tokio::time::sleep(timeout) => {}
                    }
                    if !first_request.load(Ordering::Relaxed) {
                        return; // dropping it closes the connection
                    }
                }
                let _ = conn.await;
            });
        }
        drop(acceptor);
        let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
        // Whatever did not finish within the grace period is aborted with the set.
        Ok(())
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let h2 = self.h2;
        let mut http2 = builder.http2();
        http2
            .timer(TokioTimer::new())
            .max_pending_accept_reset_streams(h2.max_pending_accept_reset_streams)
            .max_local_error_reset_streams(h2.max_local_error_reset_streams)
            .initial_stream_window_size(h2.stream_window)
            .initial_connection_window_size(h2.connection_window);
        if let Some(max) = h2.max_concurrent_streams {
            http2.max_concurrent_streams(max);
        }
        builder
    }
}

/// Adds the connection's [`StallFlag`] and [`RemoteAddr`] to each request,
/// and notes that a first request arrived.
#[derive(Clone, Debug)]
struct WithConnection<S> {
    inner: S,
    flag: StallFlag,
    addr: SocketAddr,
    first_request: Arc<AtomicBool>,
}

impl<S, B> Service<Request<B>> for WithConnection<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        self.first_request.store(true, Ordering::Relaxed);
        req.extensions_mut().insert(self.flag.clone());
        req.extensions_mut().insert(RemoteAddr(self.addr));
        self.inner.call(req)
    }
}
