//! On-demand sources: started when someone wants the stream, stopped when
//! nobody has for a linger period, retried with backoff when they fail.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::info::{SourceEvent, SourceStatus};
use super::name::StreamName;
use crate::fanout::hub::FrameHub;
use crate::lifecycle::outcome::BoxError;
use crate::lifecycle::telemetry;

/// How long an on-demand source keeps running after its last viewer left: 10 s.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(10);

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
type SourceFn = Arc<dyn Fn(FrameHub) -> BoxFuture + Send + Sync>;
pub(super) type EventFn = Arc<dyn Fn(&SourceEvent) + Send + Sync>;

/// A source that runs only while someone wants its stream, like MediaMTX's
/// `sourceOnDemand` with `closeAfter`; add it with
/// [`Streams::insert_on_demand`](super::Streams::insert_on_demand).
///
/// The source is an async function given the stream's hub: it publishes
/// into it until it fails (an `Err`, or `Ok` when its input ends) or is
/// stopped. Stopping drops its future: a child process spawned with
/// `tokio::process::Command::kill_on_drop` dies with it.
///
/// It starts when a viewer or snapshot request arrives through the
/// registry, and is stopped once nobody has watched for the
/// [linger](Self::linger) period. One that fails is retried after a delay
/// that doubles from `initial` to `max` ([`backoff`](Self::backoff); reset
/// once it has published), for as long as someone wants the stream.
///
/// ```
/// use std::time::Duration;
/// use mjpeg_tower::streams::OnDemand;
/// use mjpeg_tower::Frame;
///
/// let camera = OnDemand::new(|hub| async move {
///     loop {
///         hub.publish(Frame::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9]));
///         tokio::time::sleep(Duration::from_millis(100)).await;
///     }
/// })
/// .linger(Duration::from_secs(30));
/// ```
#[derive(Clone)]
#[must_use]
pub struct OnDemand {
    source: SourceFn,
    linger: Duration,
    initial: Duration,
    max: Duration,
}

impl fmt::Debug for OnDemand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnDemand")
            .field("linger", &self.linger)
            .field("backoff", &(self.initial, self.max))
            .finish_non_exhaustive()
    }
}

impl OnDemand {
    /// A source run by `source`, with a [`DEFAULT_LINGER`] linger and a
    /// backoff from 500 ms to 30 s.
    pub fn new<F, Fut>(source: F) -> Self
    where
        F: Fn(FrameHub) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        Self {
            source: Arc::new(move |hub| Box::pin(source(hub))),
            linger: DEFAULT_LINGER,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }

    /// How long the source keeps running after the last viewer left.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// The retry delays: `initial`, doubling up to `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial = initial;
        self.max = max.max(initial);
        self
    }
}

/// What the registry and the supervisor share about one on-demand source.
pub(super) struct Supervised {
    on_demand: OnDemand,
    state: Mutex<State>,
    /// Counts requests through the registry, to wake an idle supervisor.
    requests: watch::Sender<u64>,
}

struct State {
    status: SourceStatus,
    starts: u64,
    failures: u64,
    /// The hub's published count when the source last started.
    published_at_start: u64,
    last_request: Instant,
    supervisor: Option<JoinHandle<()>>,
}

impl Supervised {
    pub(super) fn new(on_demand: OnDemand) -> Self {
        Self {
            on_demand,
            state: Mutex::new(State {
                status: SourceStatus::Idle,
                starts: 0,
                failures: 0,
                published_at_start: 0,
                last_request: Instant::now(),
                supervisor: None,
            }),
            requests: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Someone wants the stream: start the supervisor (on the current Tokio
    /// runtime) if it is not running, and wake it.
    pub(super) fn request(self: &Arc<Self>, name: &StreamName, hub: &FrameHub, events: &EventFn) {
        let mut state = self.lock();
        state.last_request = Instant::now();
        if state.supervisor.is_none() {
            let run = supervise(name.clone(), hub.clone(), self.clone(), events.clone());
            state.supervisor = Some(tokio::spawn(run));
        }
        drop(state);
        self.requests.send_modify(|n| *n += 1);
    }

    /// Status, starts, failures; `Starting` turns `Running` once the hub has a new frame.
    pub(super) fn report(&self, published: u64) -> (SourceStatus, u64, u64) {
        let state = self.lock();
        let status = match &state.status {
            SourceStatus::Starting if published > state.published_at_start => SourceStatus::Running,
            status => status.clone(),
        };
        (status, state.starts, state.failures)
    }

    /// Stops the supervisor and with it the source.
    pub(super) fn shut_down(&self) {
        if let Some(task) = self.lock().supervisor.take() {
            task.abort();
        }
    }
}

/// Starts, stops and retries the source of one stream, until the hub stops.
async fn supervise(name: StreamName, hub: FrameHub, shared: Arc<Supervised>, events: EventFn) {
    let od = shared.on_demand.clone();
    let mut demand = hub.demand();
    // Requests seen so far; the one that spawned this supervisor is not.
    let mut requests = shared.requests.subscribe();
    requests.mark_changed();
    loop {
        // Idle: wait for a viewer, a snapshot waiting for a frame, or a
        // request since the source last stopped.
        tokio::select! {
            _ = demand.wait_for(|d| !d.is_idle() || hub.is_stopped()) => {}
            _ = requests.changed() => {}
        }
        let mut delay = od.initial;
        loop {
            if hub.is_stopped() {
                return;
            }
            let published = hub.stats().published;
            {
                let mut state = shared.lock();
                state.status = SourceStatus::Starting;
                state.starts += 1;
                state.published_at_start = published;
            }
            telemetry::source_started(name.as_str());
            events(&SourceEvent::Started { name: name.clone() });
            let mut task = tokio::spawn((od.source)(hub.clone()));
            let ended = tokio::select! {
                ended = &mut task => Some(ended),
                () = idle_for(&hub, &shared, od.linger) => None,
            };
            let Some(ended) = ended else {
                // Requests before this point are answered by the run that ends here.
                requests.borrow_and_update();
                task.abort();
                shared.lock().status = SourceStatus::Idle;
                telemetry::source_stopped(name.as_str());
                events(&SourceEvent::Stopped { name: name.clone() });
                break;
            };
            let error = match ended {
                Ok(Ok(())) => "ended".to_owned(),
                Ok(Err(err)) => err.to_string(),
                Err(err) if err.is_panic() => "panicked".to_owned(),
                Err(err) => err.to_string(),
            };
            if hub.stats().published > published {
                delay = od.initial; // it worked for a while: start over
            }
            {
                let mut state = shared.lock();
                state.failures += 1;
                let retry_in = delay;
                state.status = SourceStatus::Failed {
                    error: error.clone(),
                    retry_in,
                };
            }
            telemetry::source_failed(name.as_str(), &error, delay);
            events(&SourceEvent::Failed {
                name: name.clone(),
                error,
                retry_in: delay,
            });
            let retry = tokio::select! {
                () = tokio::time::sleep(delay) => true,
                () = idle_for(&hub, &shared, od.linger) => false,
            };
            delay = (delay * 2).min(od.max);
            if !retry {
                requests.borrow_and_update();
                shared.lock().status = SourceStatus::Idle;
                break;
            }
        }
    }
}

/// Resolves once nobody has wanted the stream for `linger`: no viewer, no
/// snapshot waiting, no request through the registry. At once when the hub stops.
async fn idle_for(hub: &FrameHub, shared: &Supervised, linger: Duration) {
    let mut demand = hub.demand();
    loop {
        let _ = demand.wait_for(|d| d.is_idle() || hub.is_stopped()).await;
        let idle_since = Instant::now();
        loop {
            if hub.is_stopped() {
                return;
            }
            let last = idle_since.max(shared.lock().last_request);
            let quiet = linger.saturating_sub(last.elapsed());
            if quiet.is_zero() {
                return;
            }
            // A request meanwhile moves the end; demand coming back starts over.
            let back = demand.wait_for(|d| !d.is_idle() || hub.is_stopped());
            if tokio::time::timeout(quiet, back).await.is_ok() && !hub.is_stopped() {
                break;
            }
        }
    }
}
