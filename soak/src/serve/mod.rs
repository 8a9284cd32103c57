//! `soak serve`: a server built on the public API of `mjpeg-axum`, whose
//! producers misbehave on a seeded schedule.
//!
//! Routes: `/hub` (the current [`FrameHub`], replaced every so often),
//! `/stream` (a per-request stream that may stall, fail or panic),
//! `/capped` (the hub behind a small `max_clients`), `/nats` (a hub fed over
//! NATS, with `--nats`), `/hold` (answers after 5 s), `/snapshot` and
//! `/stats` (JSON, see [`ServerStats`]); over plain HTTP and, through our
//! `Server` with small limits, HTTPS.

pub(crate) mod capped;
mod counts;
mod nats;
mod producer;
mod stream;
pub(crate) mod tls;

use std::collections::VecDeque;
use std::fs::File;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::Listener as _;
use axum::{Json, Router};
use mjpeg_axum::{FrameHub, Mjpeg, MjpegLayer, Snapshot, Subscribe};

use self::capped::Capped;
use self::counts::{Counts, FaultCounts};
use self::nats::Nats;
use crate::Inject;
use crate::rng::Rng;
use crate::stats::ServerStats;

/// Command line of `soak serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Seed of the misbehaviour schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Mean seconds between hub replacements.
    #[arg(long, default_value_t = 20.0)]
    replace_every: f64,
    /// Run `/nats`, a hub fed over the NATS broker at this URL.
    #[arg(long)]
    nats: Option<String>,
    /// Plant a fault (for the soak's own tests).
    #[arg(long, value_enum, hide = true)]
    inject_leak: Option<Inject>,
}

/// Finished hubs remembered for `/stats`.
const RETIRED_KEPT: usize = 4096;

/// State shared by the routes and the producers.
#[derive(Debug)]
struct Shared {
    layer: MjpegLayer,
    counts: Arc<Counts>,
    faults: FaultCounts,
    /// The current hub and its generation.
    hub: RwLock<(u64, FrameHub)>,
    /// The last sequence number published, over all hubs.
    seq: AtomicU64,
    retired: Mutex<VecDeque<(u64, u64)>>,
    rng: Mutex<Rng>,
    seed: u64,
    replace_every: Duration,
    inject: Option<Inject>,
    snapshots: AtomicU64,
    capped: Capped,
    nats: Option<Arc<Nats>>,
}

impl Shared {
    fn current(&self) -> (u64, FrameHub) {
        self.hub
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the current hub and puts a new one in its place: its viewers
    /// get the close delimiter and reconnect to the new one.
    fn replace_hub(&self) {
        let mut slot = self.hub.write().unwrap_or_else(PoisonError::into_inner);
        let next = (slot.0 + 1, new_hub());
        let (generation, old) = std::mem::replace(&mut *slot, next);
        drop(slot);
        let mut retired = self.retired.lock().unwrap_or_else(PoisonError::into_inner);
        retired.push_back((generation, self.seq.load(Relaxed)));
        if retired.len() > RETIRED_KEPT {
            retired.pop_front();
        }
        drop(retired);
        old.stop();
        FaultCounts::bump(&self.faults.hubs_replaced);
    }
}

fn new_hub() -> FrameHub {
    FrameHub::builder()
        .snapshot_timeout(Duration::from_secs(2))
        .build()
}

/// Runs the server until it is killed.
pub(crate) fn run(args: Args) -> Result<std::process::ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> Result<std::process::ExitCode, String> {
    quiet_injected_panics();
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("metrics recorder: {e}"))?;
    let metrics_handle = metrics.clone();
    let counts = Arc::new(Counts {
        skip_tenth: args.inject_leak == Some(Inject::DisconnectCount),
        ..Counts::default()
    });
    let (on_connect, on_disconnect) = (Arc::clone(&counts), Arc::clone(&counts));
    let layer = MjpegLayer::new()
        .heartbeat(Some(Duration::from_secs(1)))
        .on_connect(move |_| on_connect.connected())
        .on_disconnect(move |e| on_disconnect.disconnected(e.reason));
    let nats = match &args.nats {
        Some(url) => Some(Nats::start(url, args.inject_leak).await?),
        None => None,
    };
    let capped = Capped::new(args.inject_leak);
    let capped_layer = capped.layer.clone();
    let shared = Arc::new(Shared {
        layer: layer.clone(),
        counts,
        faults: FaultCounts::default(),
        hub: RwLock::new((1, new_hub())),
        seq: AtomicU64::new(0),
        retired: Mutex::new(VecDeque::new()),
        rng: Mutex::new(Rng::new(args.seed, 3)),
        seed: args.seed,
        replace_every: Duration::from_secs_f64(args.replace_every.max(0.5)),
        inject: args.inject_leak,
        snapshots: AtomicU64::new(0),
        capped,
        nats,
    });
    let app = Router::new()
        .route("/", get(|| async { "mjpeg-tower soak server\n" }))
        .route("/hub", get(hub))
        .route("/stream", get(per_request))
        .route("/capped", get(hub).layer(capped_layer))
        .route("/nats", get(nats_hub))
        .route(
            "/hold",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                StatusCode::NO_CONTENT
            }),
        )
        .route("/snapshot", get(snapshot))
        .route("/stats", get(stats))
        .route(
            "/metrics",
            get(move || async move {
                metrics.run_upkeep();
                metrics.render()
            }),
        )
        .with_state(Arc::clone(&shared))
        .layer(layer);
    let listener = mjpeg_axum::listener(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| format!("address: {e}"))?;
    let tls = tls::start(app.clone(), args.inject_leak).await?;
    println!("{addr}\n{tls}");
    tokio::spawn(producer::run(shared));
    // `install_recorder` runs no upkeep: without it every latency sample
    // stays in the histograms' buckets until `/metrics` is read, which the
    // driver does once, at the end (heaptrack: 110 KB a minute).
    let upkeep = metrics_handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .map_err(|e| format!("serve: {e}"))?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn hub(State(shared): State<Arc<Shared>>) -> Subscribe {
    shared.current().1.subscribe()
}

async fn nats_hub(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.nats {
        Some(nats) => nats.hub.subscribe().into_response(),
        None => (StatusCode::NOT_FOUND, "no NATS here").into_response(),
    }
}

async fn per_request(State(shared): State<Arc<Shared>>) -> Mjpeg {
    Mjpeg::try_new(stream::frames(&shared))
}

async fn snapshot(State(shared): State<Arc<Shared>>) -> Snapshot {
    let n = shared.snapshots.fetch_add(1, Relaxed);
    match shared.inject {
        // The planted faults: a descriptor nobody closes, a task that never ends.
        Some(Inject::Fd) if n % 3 == 0 => {
            if let Ok(file) = File::open("/dev/null") {
                std::mem::forget(file);
            }
        }
        Some(Inject::Task) if n % 3 == 0 => {
            tokio::spawn(std::future::pending::<()>());
        }
        // `black_box`, or the optimizer drops an allocation nobody reads.
        Some(Inject::Memory) if n % 3 == 0 => {
            std::hint::black_box(Box::leak(vec![1u8; 64 * 1024].into_boxed_slice()));
        }
        _ => {}
    }
    shared.current().1.snapshot()
}

/// The counters, read until they hold still so that `open` and the
/// connect and disconnect counts describe the same moment.
async fn stats(State(shared): State<Arc<Shared>>) -> Json<ServerStats> {
    let mut out = ServerStats::default();
    for _ in 0..100 {
        let before = shared.counts.read();
        let layer = shared.layer.stats();
        let after = shared.counts.read();
        out.open = layer.active as u64;
        out.layer_total = layer.total_connections;
        out.frames_sent = layer.frames_sent;
        out.frames_dropped = layer.frames_dropped;
        (out.connects, out.disconnects, out.reasons) = after;
        out.settled = before == after;
        if out.settled {
            break;
        }
        tokio::task::yield_now().await;
    }
    let (generation, hub) = shared.current();
    let hub = hub.stats();
    out.generation = generation;
    out.hub_published = hub.published;
    out.hub_viewers = hub.viewers as u64;
    out.hub_max_queued_bytes = hub.max_queued_bytes as u64;
    out.seq = shared.seq.load(Relaxed);
    out.retired = shared
        .retired
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .copied()
        .collect();
    out.faults = shared.faults.read();
    out.capped = shared.capped.read();
    out.nats = shared.nats.as_ref().map(|n| n.read());
    out.tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks() as u64;
    Json(out)
}

/// Keeps the planted producer panics out of stderr; others print as usual.
fn quiet_injected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        if !message.is_some_and(|m| m.starts_with("soak: injected")) {
            default(info);
        }
    }));
}
