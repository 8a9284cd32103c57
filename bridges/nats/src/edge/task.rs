//! The edge's task: live frames and answers to "latest" requests into the hub.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::connection::State;
use async_nats::{Client, Message, Subscriber};
use bytes::Bytes;
use futures_util::StreamExt;
use mjpeg_tower::FrameHub;
use tokio::sync::OnceCell;

use super::EdgeStats;
use crate::link::Link;
use crate::subject;
use crate::wire::decode::{Broken, Reassembler, Received, Step};

/// State shared by an edge's handle and its task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) subject: String,
    link: Arc<Link>,
    client: OnceCell<Client>,
    frames_received: AtomicU64,
    frames_published: AtomicU64,
    latest_fetched: AtomicU64,
    incomplete: AtomicU64,
    rejected: AtomicU64,
    headers_skipped: AtomicU64,
    last_latency_micros: AtomicU64,
    last_id: Mutex<Option<String>>,
}

impl Shared {
    pub(crate) fn new(subject: String, link: Arc<Link>) -> Self {
        Self {
            subject,
            link,
            client: OnceCell::new(),
            frames_received: AtomicU64::new(0),
            frames_published: AtomicU64::new(0),
            latest_fetched: AtomicU64::new(0),
            incomplete: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            headers_skipped: AtomicU64::new(0),
            last_latency_micros: AtomicU64::new(u64::MAX),
            last_id: Mutex::new(None),
        }
    }

    pub(crate) fn stats(&self) -> EdgeStats {
        let latency = self.last_latency_micros.load(Relaxed);
        EdgeStats {
            frames_received: self.frames_received.load(Relaxed),
            frames_published: self.frames_published.load(Relaxed),
            latest_fetched: self.latest_fetched.load(Relaxed),
            incomplete: self.incomplete.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            headers_skipped: self.headers_skipped.load(Relaxed),
            slow_consumer: self.link.slow_consumer(),
            connected: self
                .client
                .get()
                .is_some_and(|c| c.connection_state() == State::Connected),
            disconnects: self.link.disconnects(),
            reconnects: self.link.reconnects(),
            last_latency: (latency != u64::MAX).then(|| Duration::from_micros(latency)),
            last_error: self.link.last_error(),
        }
    }

    fn broken(&self, broken: Broken) {
        match broken {
            Broken::Gap => self.incomplete.fetch_add(1, Relaxed),
            Broken::BadChunkHeader | Broken::TooLarge => self.rejected.fetch_add(1, Relaxed),
        };
    }

    /// Publishes `got` into `hub` unless the hub already has it; `false`
    /// once the hub is stopped.
    fn deliver(&self, hub: &FrameHub, got: Received) -> bool {
        self.headers_skipped
            .fetch_add(got.headers_skipped as u64, Relaxed);
        let mut last_id = self.last_id.lock().unwrap_or_else(PoisonError::into_inner);
        if got.id.is_some() && *last_id == got.id {
            return true;
        }
        *last_id = got.id;
        drop(last_id);
        if hub.publish(got.frame) {
            self.frames_published.fetch_add(1, Relaxed);
        }
        !hub.is_stopped()
    }
}

/// Runs until the hub is stopped or the client is closed.
pub(crate) async fn run(
    client: Client,
    shared: Arc<Shared>,
    hub: FrameHub,
    mut live: Subscriber,
    (inbox, mut replies): (String, Subscriber),
    max_frame: usize,
) {
    let latest_subject = subject::latest(&shared.subject);
    let _ = shared.client.set(client.clone());
    let mut live_pieces = Reassembler::new(max_frame);
    let mut reply_pieces = Reassembler::new(max_frame);
    // Live frames since the last "latest" request: an answer older than
    // them is not shown.
    let mut live_since_request = 0u64;
    loop {
        tokio::select! {
            biased;
            // The initial connect leaves a permit: the first request goes out at once.
            () = shared.link.connected.notified() => {
                live_since_request = 0;
                reply_pieces = Reassembler::new(max_frame);
                let asked = client
                    .publish_with_reply(latest_subject.clone(), inbox.clone(), Bytes::new())
                    .await;
                if let Err(err) = asked {
                    shared.link.set_error(format!("cannot ask for the latest frame: {err}"));
                }
            }
            message = live.next() => {
                let Some(Message { headers, payload, .. }) = message else { break };
                match live_pieces.push(headers.as_ref(), payload) {
                    Step::Frame(got) => {
                        shared.frames_received.fetch_add(1, Relaxed);
                        live_since_request += 1;
                        if let Some(sent) = got.sent_micros {
                            shared.last_latency_micros.store(unix_micros().saturating_sub(sent), Relaxed);
                        }
                        if !shared.deliver(&hub, *got) {
                            break;
                        }
                    }
                    Step::Pending => {}
                    Step::Broken(broken) => shared.broken(broken),
                }
            }
            message = replies.next() => {
                let Some(Message { headers, payload, .. }) = message else { break };
                if payload.is_empty() && headers.is_none() {
                    continue; // the origin has no frame yet
                }
                match reply_pieces.push(headers.as_ref(), payload) {
                    Step::Frame(got) => {
                        shared.latest_fetched.fetch_add(1, Relaxed);
                        if live_since_request == 0 && !shared.deliver(&hub, *got) {
                            break;
                        }
                    }
                    Step::Pending => {}
                    Step::Broken(broken) => shared.broken(broken),
                }
            }
        }
    }
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
