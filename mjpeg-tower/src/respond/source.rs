//! [`Source`]: what a responder asks the layer to serve, and the take-once
//! [`Slot`] that carries it through a framework in the response extensions.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::{HeaderMap, Response, StatusCode};

use crate::fanout::hub::FrameHub;
use crate::fanout::pump::FrameStream;
use crate::respond::body::ResponderBody;

/// What a responder asks the layer to serve.
pub(crate) enum Source {
    /// A per-request stream of frames.
    Stream(FrameStream),
    /// A live view of a hub, with the viewer's own shortest frame interval.
    Hub(FrameHub, Option<Duration>),
    /// One frame of a hub, waiting up to the duration for a first one.
    Snapshot(FrameHub, Duration),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stream(_) => f.write_str("Stream(..)"),
            Self::Hub(hub, pace) => f.debug_tuple("Hub").field(hub).field(pace).finish(),
            Self::Snapshot(hub, wait) => f.debug_tuple("Snapshot").field(hub).field(wait).finish(),
        }
    }
}

/// What the layer takes from a responder's response.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) source: Source,
    /// The headers the responder's own answer carried. A responder answers
    /// even without a layer, so its response is complete, with the default
    /// headers, before the layer sees it; the layer answers from its own
    /// configuration instead and keeps only the headers a handler added on
    /// top (`(headers, hub.subscribe())` in axum, say): those not in here.
    pub(crate) placeholder: HeaderMap,
    /// The status the responder's own answer carried (a snapshot with no
    /// frame yet answers `503`); another one was set by the handler.
    pub(crate) status: StatusCode,
}

/// The response extension that carries a [`Source`] to the layer.
///
/// http 1 extensions must be `Clone + Send + Sync` while a stream is neither
/// `Clone` nor `Sync`: it travels in a take-once slot, shared with the
/// response's own body, which takes it instead when no layer did.
#[derive(Clone, Debug)]
pub(crate) struct Slot(Arc<Mutex<Option<Taken>>>);

impl Slot {
    /// The source and the placeholder headers, once.
    pub(crate) fn take(&self) -> Option<Taken> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Puts `source` in a slot shared by the response's extensions and, when
/// `lazy`, its body (which opens the source itself if no layer takes it).
pub(crate) fn slotted(
    source: Source,
    res: Response<ResponderBody>,
    lazy: bool,
) -> Response<ResponderBody> {
    let (mut parts, body) = res.into_parts();
    let slot = Slot(Arc::new(Mutex::new(Some(Taken {
        source,
        placeholder: parts.headers.clone(),
        status: parts.status,
    }))));
    parts.extensions.insert(slot.clone());
    let body = if lazy {
        ResponderBody::lazy(slot)
    } else {
        body
    };
    Response::from_parts(parts, body)
}
