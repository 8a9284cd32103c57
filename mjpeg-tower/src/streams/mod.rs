//! Named streams: a registry of hubs by name, some fed by on-demand sources,
//! with the requests a camera server answers.
//!
//! | request | [`Streams`] method | answer |
//! |---|---|---|
//! | `GET /streams` | [`list`](Streams::list) | a JSON array of [`StreamInfo`] |
//! | `GET /streams/{name}/stream` | [`subscribe`](Streams::subscribe) | the live stream |
//! | `GET /streams/{name}/snapshot` | [`snapshot`](Streams::snapshot) | the latest frame |
//!
//! A bad name answers `400` with the reason, an unknown one `404`, a failing
//! on-demand source `503` with its error and a `Retry-After`. `mjpeg-axum`
//! mounts these three routes in one call (`mjpeg_axum::streams_router`);
//! with another framework, call the methods from its handlers: each
//! returns a responder like [`FrameHub::subscribe`]'s.
//!
//! ```
//! use mjpeg_tower::streams::{OnDemand, Streams};
//! use mjpeg_tower::{Frame, FrameHub};
//!
//! let streams = Streams::new();
//! let door = FrameHub::new();
//! streams.insert("door", door.clone()).unwrap();
//! streams
//!     .insert_on_demand("yard", OnDemand::new(|hub: FrameHub| async move {
//!         hub.publish(Frame::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9]));
//!         Ok(())
//!     }))
//!     .unwrap();
//! assert_eq!(streams.list().len(), 2);
//! ```

mod info;
mod name;
mod on_demand;
mod reply;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use http::StatusCode;

pub use self::info::{SourceEvent, SourceStatus, StreamInfo};
pub use self::name::{MAX_NAME_LEN, NameError, StreamName};
pub use self::on_demand::{DEFAULT_LINGER, OnDemand};
use self::on_demand::{EventFn, Supervised};
pub use self::reply::StreamReply;
use crate::fanout::hub::FrameHub;

/// A registry of [`FrameHub`]s by name; see the [module docs](self).
///
/// Cheap to clone (an `Arc`); clones share the registry.
#[derive(Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

struct Inner {
    entries: RwLock<BTreeMap<StreamName, Entry>>,
    events: RwLock<EventFn>,
}

#[derive(Clone)]
struct Entry {
    hub: FrameHub,
    source: Option<Arc<Supervised>>,
}

impl fmt::Debug for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.read().keys().cloned().collect();
        f.debug_struct("Streams").field("names", &names).finish()
    }
}

impl Default for Streams {
    fn default() -> Self {
        Self::new()
    }
}

impl Streams {
    /// An empty registry.
    pub fn new() -> Self {
        let events: EventFn = Arc::new(|_| {});
        Self {
            inner: Arc::new(Inner {
                entries: RwLock::new(BTreeMap::new()),
                events: RwLock::new(events),
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<StreamName, Entry>> {
        self.inner
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn insert_entry(&self, name: &str, entry: Entry) -> Result<Option<FrameHub>, NameError> {
        let name = StreamName::new(name)?;
        let mut entries = self
            .inner
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let old = entries.insert(name, entry);
        drop(entries);
        Ok(old.map(|old| {
            if let Some(source) = &old.source {
                source.shut_down();
            }
            old.hub
        }))
    }

    /// Adds `hub` as `name`, fed by whoever publishes into it, and names the
    /// hub `name` unless it has a name ([`FrameHubBuilder::name`](crate::FrameHubBuilder::name)).
    /// Returns the
    /// hub that had that name, if any (its on-demand source is stopped;
    /// its viewers keep streaming until you stop it).
    ///
    /// # Errors
    /// When `name` is not a valid [`StreamName`].
    pub fn insert(&self, name: &str, hub: FrameHub) -> Result<Option<FrameHub>, NameError> {
        StreamName::new(name)?;
        hub.name_if_unnamed(name);
        self.insert_entry(name, Entry { hub, source: None })
    }

    /// Adds a stream `name` fed by an [`OnDemand`] source into a new hub;
    /// returns that hub. The source starts with the first request through
    /// this registry (which must run on a Tokio runtime, as handlers do).
    ///
    /// # Errors
    /// When `name` is not a valid [`StreamName`].
    pub fn insert_on_demand(&self, name: &str, source: OnDemand) -> Result<FrameHub, NameError> {
        StreamName::new(name)?;
        let hub = FrameHub::builder().name(name).build();
        let source = Some(Arc::new(Supervised::new(source)));
        self.insert_entry(
            name,
            Entry {
                hub: hub.clone(),
                source,
            },
        )?;
        Ok(hub)
    }

    /// Removes `name`: its source is stopped and its hub
    /// [stopped](FrameHub::stop), so its viewers get the close delimiter.
    /// Returns whether it was there.
    pub fn remove(&self, name: &str) -> bool {
        let Ok(name) = StreamName::new(name) else {
            return false;
        };
        let mut entries = self
            .inner
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = entries.remove(&name) else {
            return false;
        };
        drop(entries);
        if let Some(source) = &entry.source {
            source.shut_down();
        }
        entry.hub.stop();
        true
    }

    /// Removes every stream: their sources are stopped and their hubs
    /// [stopped](FrameHub::stop), so every viewer gets the close delimiter.
    /// Call it in a graceful shutdown's signal, before the server waits
    /// for open connections: a live stream never ends by itself.
    pub fn stop(&self) {
        let entries = std::mem::take(
            &mut *self
                .inner
                .entries
                .write()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for entry in entries.into_values() {
            if let Some(source) = &entry.source {
                source.shut_down();
            }
            entry.hub.stop();
        }
    }

    /// The hub named `name`, to publish into or subscribe to directly
    /// (directly does not start an on-demand source).
    pub fn get(&self, name: &str) -> Option<FrameHub> {
        let name = StreamName::new(name).ok()?;
        self.read().get(&name).map(|e| e.hub.clone())
    }

    /// Calls `f` for everything on-demand sources do: started, stopped, failed.
    /// Replaces the previous callback. It runs on the supervisor's task: keep it short.
    pub fn on_event(&self, f: impl Fn(&SourceEvent) + Send + Sync + 'static) {
        *self
            .inner
            .events
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(f);
    }

    /// Every stream, by name.
    pub fn list(&self) -> Vec<StreamInfo> {
        self.read()
            .iter()
            .map(|(name, entry)| {
                let stats = entry.hub.stats();
                let (status, starts, failures) = match &entry.source {
                    Some(source) => source.report(stats.published),
                    None => (SourceStatus::Static, 0, 0),
                };
                StreamInfo {
                    name: name.clone(),
                    viewers: stats.viewers,
                    published: stats.published,
                    status,
                    starts,
                    failures,
                }
            })
            .collect()
    }

    /// `GET /streams`: [`list`](Self::list) as a JSON array.
    pub fn list_reply(&self) -> StreamReply {
        StreamReply::json(info::to_json(&self.list()))
    }

    /// The hub named `name` for a request that feeds it (push ingest), or
    /// the refusal to answer: `400` for a bad name, `404` for an unknown
    /// one. Does not start an on-demand source.
    pub fn lookup(&self, name: &str) -> Result<FrameHub, StreamReply> {
        self.find(name).map(|(_, entry)| entry.hub)
    }

    /// The entry named `name`, or the refusal: `400` or `404`.
    fn find(&self, name: &str) -> Result<(StreamName, Entry), StreamReply> {
        let name = StreamName::new(name)
            .map_err(|e| StreamReply::refused(StatusCode::BAD_REQUEST, e.to_string(), None))?;
        let entry = self.read().get(&name).cloned().ok_or_else(|| {
            let message = format!("no stream named {name}");
            StreamReply::refused(StatusCode::NOT_FOUND, message, None)
        })?;
        Ok((name, entry))
    }

    /// Looks `name` up for a request: starts its on-demand source, or says
    /// why the request cannot be served.
    fn want(&self, name: &str) -> Result<FrameHub, StreamReply> {
        let (name, entry) = self.find(name)?;
        if let Some(source) = &entry.source {
            let events = self
                .inner
                .events
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            source.request(&name, &entry.hub, &events);
            let (status, ..) = source.report(entry.hub.stats().published);
            if let SourceStatus::Failed { error, retry_in } = status {
                let message = format!("stream {name} is unavailable: {error}; retrying");
                let status = StatusCode::SERVICE_UNAVAILABLE;
                return Err(StreamReply::refused(status, message, Some(retry_in)));
            }
        }
        Ok(entry.hub)
    }

    /// `GET /streams/{name}/stream`: `name`'s live stream.
    pub fn subscribe(&self, name: &str) -> StreamReply {
        match self.want(name) {
            Ok(hub) => StreamReply::subscribe(hub.subscribe()),
            Err(refused) => refused,
        }
    }

    /// `GET /streams/{name}/snapshot`: `name`'s latest frame.
    pub fn snapshot(&self, name: &str) -> StreamReply {
        match self.want(name) {
            Ok(hub) => StreamReply::snapshot(hub.snapshot()),
            Err(refused) => refused,
        }
    }
}
