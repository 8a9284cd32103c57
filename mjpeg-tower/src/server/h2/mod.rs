//! HTTP/2 connections, served with the `h2` crate so each stream gets its
//! own write-stall deadline (see [`pipe`]); HTTP/1.1 is `super::http1`'s.
//!
//! hyper's HTTP/2 server polls a response body only once the stream has
//! send capacity, so a body whose client stopped reading is never polled
//! again and cannot end itself. Here the loop that waits for capacity holds
//! the deadline.

mod pipe;
mod scan;
mod stream;
mod window;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;

use self::scan::Scan;
use self::stream::StreamContext;
use self::window::Windows;
use super::Http2Limits;
use super::body::RequestBody;
use crate::lifecycle::info::StallFlag;
use crate::lifecycle::outcome::BoxError;

/// hyper's defaults, kept: frames of 16 KiB, request heads up to 16 KiB,
/// 400 KiB buffered per stream.
const MAX_FRAME_SIZE: u32 = 16 * 1024;
const MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;
const MAX_SEND_BUFFER_SIZE: usize = 400 * 1024;
/// Used for a setting left at `None`: hyper's defaults.
const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 200;
const DEFAULT_WINDOW: u32 = 1024 * 1024;

/// One connection's settings and state, from the serve loop.
#[derive(Clone, Debug)]
pub(super) struct Connection {
    pub(super) limits: Http2Limits,
    pub(super) stall: Option<Duration>,
    pub(super) flag: StallFlag,
    pub(super) addr: SocketAddr,
    /// Set once a first request arrived (for the header read timeout).
    pub(super) first_request: Arc<AtomicBool>,
    /// Turns `true` on graceful shutdown: `GOAWAY`, then serve what is open.
    pub(super) shutdown: watch::Receiver<bool>,
}

impl Connection {
    fn builder(&self) -> h2::server::Builder {
        let limits = self.limits;
        let mut builder = h2::server::Builder::new();
        builder
            .initial_window_size(limits.stream_window.unwrap_or(DEFAULT_WINDOW))
            .initial_connection_window_size(limits.connection_window.unwrap_or(DEFAULT_WINDOW))
            .max_frame_size(MAX_FRAME_SIZE)
            .max_header_list_size(MAX_HEADER_LIST_SIZE)
            .max_send_buffer_size(MAX_SEND_BUFFER_SIZE)
            .max_local_error_reset_streams(limits.max_local_error_reset_streams)
            .max_concurrent_streams(
                limits
                    .max_concurrent_streams
                    .unwrap_or(DEFAULT_MAX_CONCURRENT_STREAMS),
            );
        if let Some(max) = limits.max_pending_accept_reset_streams {
            builder.max_pending_accept_reset_streams(max);
        }
        builder
    }

    /// Serves `io` (after the client preface, or with it replayed) until
    /// the connection closes.
    pub(super) async fn serve<T, S, B>(mut self, io: T, service: S)
    where
        T: AsyncRead + AsyncWrite + Unpin,
        S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let windows = Windows::default();
        let handshake = self
            .builder()
            .handshake::<_, Bytes>(Scan::new(io, windows.clone()));
        let mut conn = tokio::select! {
            conn = handshake => match conn {
                Ok(conn) => conn,
                Err(_) => return,
            },
            _ = self.shutdown.wait_for(|stop| *stop) => return,
        };
        let context = StreamContext {
            addr: self.addr,
            flag: self.flag.clone(),
            windows: windows.clone(),
            stall: self.stall,
        };
        // Streams live in this set: when the connection ends, they go with it.
        let mut streams = JoinSet::new();
        let mut closing = false;
        loop {
            tokio::select! {
                accepted = conn.accept() => match accepted {
                    Some(Ok((req, respond))) => {
                        self.first_request.store(true, Ordering::Relaxed);
                        windows.accepted(respond.stream_id().as_u32());
                        streams.spawn(stream::serve(service.clone(), req, respond, context.clone()));
                    }
                    Some(Err(_)) | None => break,
                },
                Some(_) = streams.join_next(), if !streams.is_empty() => {}
                _ = self.shutdown.wait_for(|stop| *stop), if !closing => {
                    closing = true;
                    conn.graceful_shutdown();
                }
            }
        }
    }
}
