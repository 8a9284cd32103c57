//! Who a viewer is: [`ConnectionInfo`], and the request extensions a server
//! may add ([`RemoteAddr`], [`StallFlag`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{Method, Uri};
use tokio::time::Instant;

/// The viewer behind one streaming response.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    id: u64,
    method: Method,
    uri: Uri,
    remote_addr: Option<SocketAddr>,
    connected_at: Instant,
}

impl ConnectionInfo {
    pub(crate) fn new(id: u64, req: &RequestInfo) -> Self {
        Self {
            id,
            method: req.method.clone(),
            uri: req.uri.clone(),
            remote_addr: req.remote_addr,
            connected_at: Instant::now(),
        }
    }

    /// A number unique among this layer's connections, counting from 1.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The client's address, when the server recorded a [`RemoteAddr`].
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// When the stream started.
    pub fn connected_at(&self) -> Instant {
        self.connected_at
    }
}

/// What the layer knows of a request before its response is a stream.
#[derive(Clone, Debug)]
pub(crate) struct RequestInfo {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) remote_addr: Option<SocketAddr>,
    pub(crate) stall: Option<StallFlag>,
}

impl RequestInfo {
    /// A responder opened without a layer: no request was seen.
    pub(crate) fn standalone() -> Self {
        Self {
            method: Method::GET,
            uri: Uri::from_static("/"),
            remote_addr: None,
            stall: None,
        }
    }

    pub(crate) fn from_request<B>(req: &http::Request<B>) -> Self {
        Self {
            method: req.method().clone(),
            uri: req.uri().clone(),
            remote_addr: req.extensions().get::<RemoteAddr>().map(|a| a.0),
            stall: req.extensions().get::<StallFlag>().cloned(),
        }
    }
}

/// A request extension with the client's address, for [`ConnectionInfo::remote_addr`].
///
/// The adapters' `serve` helpers insert it; a custom server can too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// A request extension shared with the connection's IO: set when a write
/// stalled past its timeout and the server closed the connection (or, over
/// HTTP/2, reset the stream: each stream gets a [`child`](Self::child)).
///
/// The layer then reports [`DisconnectReason::Overflow`](crate::DisconnectReason::Overflow) instead of
/// [`DisconnectReason::ClientClosed`](crate::DisconnectReason::ClientClosed). The adapters' `serve` helpers wire it up.
#[derive(Clone, Debug, Default)]
pub struct StallFlag {
    own: Arc<AtomicBool>,
    parent: Option<Arc<AtomicBool>>,
}

impl StallFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A flag of its own that also reads as set once `self` is set: one per
    /// HTTP/2 stream, under its connection's flag. Setting the child does
    /// not set `self`.
    pub fn child(&self) -> Self {
        Self {
            own: Arc::default(),
            parent: Some(self.own.clone()),
        }
    }

    /// Records that the connection (or stream) was closed because its writes stalled.
    pub fn set(&self) {
        self.own.store(true, Ordering::Release);
    }

    /// Whether [`set`](Self::set) was called, on this flag or on the one it
    /// is a [`child`](Self::child) of.
    pub fn is_set(&self) -> bool {
        self.own.load(Ordering::Acquire)
            || self
                .parent
                .as_ref()
                .is_some_and(|parent| parent.load(Ordering::Acquire))
    }
}
