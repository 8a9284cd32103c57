//! The origin's two tasks: send each frame in the slot, answer requests for
//! the latest frame.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::connection::State;
use async_nats::{Client, Subject};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::Notify;

use super::{OriginStats, Slot, Stamped};
use crate::link::Link;
use crate::subject;
use crate::wire::encode::{Piece, encode};

/// State shared by an origin's handle and its tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) subject: String,
    /// Tells this origin's frames apart from another's (or a restarted one's).
    pub(crate) origin_id: String,
    pub(crate) next_seq: AtomicU64,
    /// The latest frame published, for edges that ask.
    pub(crate) latest: Slot,
    /// The frame waiting to be sent.
    pub(crate) slot: Slot,
    /// Woken when the slot is filled.
    pub(crate) filled: Notify,
    max_message: Option<usize>,
    link: Arc<Link>,
    published: AtomicU64,
    pub(crate) dropped: AtomicU64,
    dropped_disconnected: AtomicU64,
    publish_errors: AtomicU64,
    chunked: AtomicU64,
    headers_skipped: AtomicU64,
    latest_requests: AtomicU64,
}

impl Shared {
    pub(crate) fn new(subject: String, max_message: Option<usize>, link: Arc<Link>) -> Self {
        Self {
            subject,
            origin_id: format!("{:016x}", RandomState::new().hash_one(std::process::id())),
            next_seq: AtomicU64::new(0),
            latest: Mutex::new(None),
            slot: Mutex::new(None),
            filled: Notify::new(),
            max_message,
            link,
            published: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            dropped_disconnected: AtomicU64::new(0),
            publish_errors: AtomicU64::new(0),
            chunked: AtomicU64::new(0),
            headers_skipped: AtomicU64::new(0),
            latest_requests: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> OriginStats {
        OriginStats {
            published: self.published.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            dropped_disconnected: self.dropped_disconnected.load(Relaxed),
            publish_errors: self.publish_errors.load(Relaxed),
            chunked: self.chunked.load(Relaxed),
            headers_skipped: self.headers_skipped.load(Relaxed),
            latest_requests: self.latest_requests.load(Relaxed),
            connected: self.link.is_connected(),
            disconnects: self.link.disconnects(),
            reconnects: self.link.reconnects(),
            last_error: self.link.last_error(),
        }
    }

    /// The pieces of `stamped` for a broker that takes `max_payload` bytes.
    fn pieces(&self, stamped: &Stamped, client: &Client) -> Option<Vec<Piece>> {
        let limit = client.server_info().max_payload;
        let limit = self.max_message.map_or(limit, |m| m.min(limit));
        let Some((pieces, report)) = encode(&stamped.frame, &stamped.id, unix_micros(), limit)
        else {
            self.publish_errors.fetch_add(1, Relaxed);
            self.link.set_error(format!(
                "a message may have {limit} bytes, too few for the frame's headers; \
                 allow larger messages"
            ));
            return None;
        };
        self.headers_skipped
            .fetch_add(report.headers_skipped as u64, Relaxed);
        Some(pieces)
    }
}

/// Sends whatever is in the slot, newest first, until the origin is dropped.
pub(crate) async fn send_frames(client: Client, shared: Arc<Shared>) {
    let subject = Subject::from(shared.subject.as_str());
    loop {
        shared.filled.notified().await;
        // Taken: a frame published from now on does not replace this one.
        let taken = shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(stamped) = taken else { continue };
        if client.connection_state() != State::Connected {
            shared.dropped_disconnected.fetch_add(1, Relaxed);
            continue;
        }
        let Some(pieces) = shared.pieces(&stamped, &client) else {
            continue;
        };
        if pieces.len() > 1 {
            shared.chunked.fetch_add(1, Relaxed);
        }
        match send(&client, &subject, pieces).await {
            Ok(()) => shared.published.fetch_add(1, Relaxed),
            Err(err) => {
                shared
                    .link
                    .set_error(format!("cannot publish a frame: {err}"));
                shared.publish_errors.fetch_add(1, Relaxed)
            }
        };
    }
}

async fn send(
    client: &Client,
    subject: &Subject,
    pieces: Vec<Piece>,
) -> Result<(), async_nats::PublishError> {
    for piece in pieces {
        client
            .publish_with_headers(subject.clone(), piece.headers, piece.payload)
            .await?;
    }
    Ok(())
}

/// Answers each request on `<subject>.latest` with the latest frame, sent to
/// the request's reply subject in as many messages as it takes.
pub(crate) async fn respond_latest(client: Client, shared: Arc<Shared>) {
    let mut requests = match client.subscribe(subject::latest(&shared.subject)).await {
        Ok(requests) => requests,
        Err(err) => {
            shared.link.set_error(format!(
                "cannot answer requests for the latest frame: {err}"
            ));
            return;
        }
    };
    while let Some(request) = requests.next().await {
        let Some(reply) = request.reply else { continue };
        shared.latest_requests.fetch_add(1, Relaxed);
        let latest = shared
            .latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let result = match latest.and_then(|l| shared.pieces(&l, &client)) {
            Some(pieces) => send(&client, &reply, pieces).await,
            // Nothing yet: say so with an empty message, so the edge stops waiting.
            None => client.publish(reply, Bytes::new()).await,
        };
        if let Err(err) = result {
            shared.link.set_error(format!(
                "cannot answer a request for the latest frame: {err}"
            ));
        }
    }
}

/// Now, in microseconds since the Unix epoch (0 if the clock is before it).
fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
