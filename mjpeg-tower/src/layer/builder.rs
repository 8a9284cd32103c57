//! [`MjpegLayer`]: the builder of a layer's configuration.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::header::{self, HeaderName};
use tower_layer::Layer;

use crate::fanout::policy::OverflowPolicy;
use crate::layer::service::MjpegService;
use crate::lifecycle::callbacks::{Callback, ConnectFn, DisconnectFn, IdleFn};
use crate::lifecycle::events::{ConnectEvent, DisconnectEvent};
use crate::lifecycle::stats::{Stats, StatsCell};
use crate::respond::config::Config;
use crate::wire::boundary::{Boundary, BoundaryError};
use crate::wire::framing::Framing;

/// Turns responses that carry frames ([`Mjpeg`](crate::Mjpeg),
/// [`FrameHub::subscribe`](crate::FrameHub::subscribe),
/// [`FrameHub::snapshot`](crate::FrameHub::snapshot)) into live
/// `multipart/x-mixed-replace` responses; every other response passes through
/// unchanged.
///
/// Clones share their statistics and connection count (and so their
/// `max_clients`), which is what a layer applied to many routes needs (axum's
/// `Router::layer` clones it per route). Every setter returns a layer with
/// counters of its own: `base.clone().max_clients(Some(5))` does not count the
/// viewers of `base`.
///
/// ```
/// use std::time::Duration;
/// use mjpeg_tower::{MjpegLayer, OverflowPolicy};
///
/// let layer = MjpegLayer::new()
///     .boundary("frame")?
///     .high_water_mark(256 * 1024)
///     .overflow_policy(OverflowPolicy::KeepLatest)
///     .max_clients(Some(100))
///     .heartbeat(Some(Duration::from_secs(2)))
///     .on_disconnect(|event| println!("viewer {} left: {:?}", event.info.id(), event.reason));
/// # Ok::<(), mjpeg_tower::BoundaryError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct MjpegLayer {
    pub(crate) config: Arc<Config>,
    pub(crate) stats: Arc<StatsCell>,
}

impl Default for MjpegLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl MjpegLayer {
    /// A layer with the defaults: see each setter.
    pub fn new() -> Self {
        Self {
            config: Arc::new(Config::new()),
            stats: Arc::new(StatsCell::new()),
        }
    }

    /// A layer configured like this one but for `change`, with counters of
    /// its own: a differently configured layer is a different layer, even
    /// when it started as a clone.
    fn with(mut self, change: impl FnOnce(&mut Config)) -> Self {
        let config = Arc::make_mut(&mut self.config);
        change(config);
        config.rebuild();
        self.stats = Arc::new(StatsCell::new());
        self
    }

    /// Sets the multipart boundary (default `mjpeg-tower-boundary-2f9c4e7a1d`).
    ///
    /// # Errors
    /// A [`BoundaryError`] if `boundary` is not a valid unquoted RFC 2046 boundary.
    pub fn boundary(self, boundary: impl AsRef<str>) -> Result<Self, BoundaryError> {
        let boundary = Boundary::new(boundary)?;
        Ok(self.with(|c| c.boundary = boundary))
    }

    /// Adds or replaces a response header.
    ///
    /// The defaults are `Cache-Control: no-cache, no-store, max-age=0,
    /// must-revalidate`, `Pragma: no-cache`, `Expires: 0` and
    /// `X-Accel-Buffering: no` (nginx would otherwise buffer the stream).
    ///
    /// # Note
    /// Hop-by-hop headers (`Connection`, `Keep-Alive`, `Transfer-Encoding`,
    /// `Upgrade`, `TE`, `Trailer`) and `Content-Length` are never sent: they are
    /// illegal on HTTP/2 or wrong for an endless body. `Content-Type` is always
    /// the multipart type with the boundary.
    pub fn header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.with(|c| {
            c.headers.insert(name, value);
        })
    }

    /// Removes a response header, default or not.
    pub fn remove_header(self, name: HeaderName) -> Self {
        self.with(|c| {
            c.headers.remove(name);
        })
    }

    /// Adds or replaces a header sent with every part (default: `Content-Type: image/jpeg`).
    ///
    /// A frame's own headers override these. `Content-Length` is ignored: the
    /// real length is sent.
    pub fn part_header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.with(|c| {
            if name != header::CONTENT_LENGTH {
                c.part_headers.insert(name, value);
            }
        })
    }

    /// Removes a part header.
    pub fn remove_part_header(self, name: HeaderName) -> Self {
        self.with(|c| {
            c.part_headers.remove(name);
        })
    }

    /// Sets the framing (default [`Framing::AdvanceHeaders`]; see [`Framing`] for why).
    pub fn framing(self, framing: Framing) -> Self {
        self.with(|c| c.framing = framing)
    }

    /// Re-sends the last frame when no new one came for `every` (default
    /// `None`: off; a zero duration is off too).
    ///
    /// Browsers then keep showing the last frame of an idle source, and a dead
    /// connection is found at the next write.
    pub fn heartbeat(self, every: Option<Duration>) -> Self {
        self.with(|c| c.heartbeat = every.filter(|d| !d.is_zero()))
    }

    /// Sends the last frame once more before the stream ends (default: off).
    ///
    /// Safari delays drawing the last frame of a series until more data comes;
    /// the repeat makes it draw. With [`Framing::AdvanceHeaders`] a finished
    /// stream already ends on a copy of its last frame (the part announced
    /// after it is filled with it, never left empty), which keeps the frame on
    /// screen in WebKit; the repeat matters most with [`Framing::Standard`].
    pub fn repeat_final_frame(self, enabled: bool) -> Self {
        self.with(|c| c.repeat_final_frame = enabled)
    }

    /// Sets the most bytes queued in the layer per viewer
    /// (default [`DEFAULT_HIGH_WATER_MARK`](crate::DEFAULT_HIGH_WATER_MARK)).
    ///
    /// Each queued frame counts as its payload plus a fixed overhead (under
    /// 1 KiB), so tiny or empty frames cannot pile up unbounded. Kernel and
    /// server buffers come on top; the adapters' `serve` helpers keep those
    /// small. A frame is always accepted into an empty queue, so a client
    /// that stops reading costs at most this plus one frame.
    pub fn high_water_mark(self, bytes: usize) -> Self {
        self.with(|c| c.queue.high_water_mark = bytes)
    }

    /// Sets the most bytes all of this layer's viewers may queue together
    /// (default [`DEFAULT_MEMORY_BUDGET`](crate::DEFAULT_MEMORY_BUDGET);
    /// `None`: no budget, only the per-viewer high-water marks).
    ///
    /// The high-water mark bounds one viewer; the budget bounds ten
    /// thousand. Bytes are counted as the high-water mark counts them (a
    /// frame queued for many viewers counts for each). Frames a connection
    /// has taken from its queue to write (with `server::Server`, up to
    /// 128 KiB and a frame) are not counted. When the budget is
    /// reached, the layer degrades in steps, each counted in
    /// [`stats`](Self::stats):
    /// 1. a frame that would exceed it is not queued behind frames of a viewer
    ///    holding more than the average: that viewer's queued frames are shed
    ///    and it gets the newest (`budget_shed`); viewers that keep up are
    ///    untouched;
    /// 2. while the budget is exceeded, new streaming requests are answered
    ///    `503` with `Retry-After` (`budget_refused`);
    /// 3. past one and a half times the budget, a viewer holding more than
    ///    the average is disconnected (`budget_disconnects`,
    ///    [`DisconnectReason::MemoryBudget`](crate::DisconnectReason::MemoryBudget)).
    ///
    /// A producer that waits ([`OverflowPolicy::Wait`]) is bounded by the
    /// high-water mark instead: its frames are never shed.
    pub fn memory_budget(self, bytes: Option<usize>) -> Self {
        self.with(|c| c.queue.budget = bytes)
    }

    /// Sets what happens at the high-water mark (default [`OverflowPolicy::KeepLatest`]).
    pub fn overflow_policy(self, policy: OverflowPolicy) -> Self {
        self.with(|c| c.queue.policy = policy)
    }

    /// Caps each viewer at `fps` frames per second: frames above the rate are
    /// skipped, never queued (default `None`: no cap; `Some(0)` is no cap too).
    ///
    /// The rate holds on a steady grid (2 fps from a 30 fps source is 2 fps),
    /// and the newest skipped frame is sent once the viewer's next frame is
    /// due unless a newer one comes first, so the last frame of a burst is
    /// never lost. A hub viewer can ask for less with
    /// [`Subscribe::max_fps`](crate::Subscribe::max_fps).
    pub fn max_fps(self, fps: Option<u32>) -> Self {
        self.with(|c| {
            c.queue.min_interval = fps
                .filter(|&fps| fps > 0)
                .map(|fps| Duration::from_secs(1) / fps);
        })
    }

    /// Answers `503 Service Unavailable` with `Retry-After` to a stream request
    /// when `n` streams are open (default `None`: no limit).
    pub fn max_clients(self, n: Option<usize>) -> Self {
        self.with(|c| c.max_clients = n)
    }

    /// The `Retry-After` sent with a `max_clients` rejection (default 5 s).
    pub fn retry_after(self, after: Duration) -> Self {
        self.with(|c| c.retry_after = after)
    }

    /// Called when a viewer's stream starts, with the count of open streams.
    pub fn on_connect<F>(self, f: F) -> Self
    where
        F: Fn(&ConnectEvent<'_>) + Send + Sync + 'static,
    {
        let cb = Callback::new(Arc::new(f) as Arc<ConnectFn>, std::any::type_name::<F>());
        self.with(|c| Arc::make_mut(&mut c.callbacks).on_connect = Some(cb))
    }

    /// Called exactly once when a viewer's stream ends, however it ends, with
    /// the reason, what it received, and the count of streams still open.
    ///
    /// It runs when the response body is dropped: within milliseconds of a
    /// client closing, also while the server is blocked writing to it.
    pub fn on_disconnect<F>(self, f: F) -> Self
    where
        F: Fn(&DisconnectEvent<'_>) + Send + Sync + 'static,
    {
        let cb = Callback::new(Arc::new(f) as Arc<DisconnectFn>, std::any::type_name::<F>());
        self.with(|c| Arc::make_mut(&mut c.callbacks).on_disconnect = Some(cb))
    }

    /// Called when the last viewer leaves (after its `on_disconnect`).
    pub fn on_idle<F>(self, f: F) -> Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        let cb = Callback::new(Arc::new(f) as Arc<IdleFn>, std::any::type_name::<F>());
        self.with(|c| Arc::make_mut(&mut c.callbacks).on_idle = Some(cb))
    }

    /// The layer's counters and status now.
    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }
}

impl<S> Layer<S> for MjpegLayer {
    type Service = MjpegService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MjpegService::new(inner, self.clone())
    }
}
