//! The NATS fan-out scenarios (#15): E edges x V viewers fed through a real
//! `nats-server`, against one process serving E x V viewers itself, and the
//! same fan-out with the broker killed and restarted mid-window.
//!
//! Processes: the broker (`LocalBroker`), one origin node and E edge nodes
//! (`bench nats-node`), and one load generator per edge (`bench load`). The
//! window opens and closes on the origin's sequence numbers, so "delivered"
//! is the share of the frames the origin published in the window that each
//! viewer got; latency is origin publish (`X-Ts`) to the viewer's last byte.

use std::path::Path;
use std::time::{Duration, Instant};

use mjpeg_nats::LocalBroker;
use serde_json::Value;

use super::measure::{Timing, run_scenario};
use super::plan::{Mode, Scenario, Transport};
use super::process::{Proc, Stop, fail, server_stats};
use crate::server::Kind;
use crate::sys::cpu_seconds;

const FPS: f64 = 30.0;
const FRAME: usize = 50_000;
/// How long the broker stays away in the restart scenario.
const OUTAGE: Duration = Duration::from_millis(500);

/// One NATS scenario's figures.
#[derive(Debug, Default)]
pub(super) struct NatsMeasured {
    pub(super) name: String,
    /// CPU % of each edge (or of the single process).
    pub(super) cpu_pct: Vec<f64>,
    pub(super) broker_cpu_pct: f64,
    pub(super) origin_cpu_pct: f64,
    /// Worst viewer's share of the window's frames.
    pub(super) share_min: f64,
    pub(super) lat_p50_ms: f64,
    pub(super) lat_p99_ms: f64,
    pub(super) lat_max_ms: f64,
    pub(super) errors: u64,
    /// With a restart: from the broker's return to the edges' next frame.
    pub(super) restart: Option<String>,
}

/// Runs the baseline and both NATS scenarios; each failure is reported in its row.
pub(super) fn run_all(
    exe: &Path,
    edges: usize,
    per_edge: usize,
    timing: &Timing,
) -> Vec<Result<NatsMeasured, String>> {
    let total = edges * per_edge;
    let mut out = Vec::new();
    eprint!("[nats] 1 process x {total} viewers ... ");
    let single = Scenario {
        kind: Kind::Axum,
        mode: Mode::Paced,
        viewers: total,
        slow: 0,
        fps: FPS,
        size: FRAME,
        standard: false,
        transport: Transport::Plain,
        run: 0,
        closing: false,
    };
    out.push(
        run_scenario(exe, &single, timing, None, None)
            .map(|m| NatsMeasured {
                name: format!("1 process x {total}"),
                cpu_pct: vec![m.cpu_pct],
                share_min: m.share_min,
                lat_p50_ms: m.lat_p50_ms,
                lat_p99_ms: m.lat_p99_ms,
                lat_max_ms: m.lat_max_ms,
                errors: m.errors,
                ..NatsMeasured::default()
            })
            .map_err(reason),
    );
    eprintln!("done");
    for restart in [false, true] {
        let what = if restart { " + broker restart" } else { "" };
        eprint!("[nats] {edges} edges x {per_edge} viewers{what} ... ");
        out.push(run_fanout(exe, edges, per_edge, timing, restart).map_err(reason));
        eprintln!("done");
    }
    out
}

fn reason(stop: Stop) -> String {
    match stop {
        Stop::Skip(why) => format!("skipped: {why}"),
        Stop::Fail(why) => format!("FAILED: {why}"),
    }
}

fn run_fanout(
    exe: &Path,
    edges: usize,
    per_edge: usize,
    timing: &Timing,
    restart: bool,
) -> Result<NatsMeasured, Stop> {
    let mut broker = LocalBroker::start().map_err(|e| Stop::Skip(e.to_string()))?;
    let url = broker.url();
    let node = |role: &str| {
        vec![
            "nats-node".to_owned(),
            "--role".into(),
            role.into(),
            "--nats".into(),
            url.clone(),
            "--fps".into(),
            FPS.to_string(),
            "--size".into(),
            FRAME.to_string(),
            "--viewers".into(),
            per_edge.to_string(),
        ]
    };
    let mut nodes = Vec::new();
    let mut addrs = Vec::new();
    for _ in 0..edges {
        let mut edge = Proc::spawn("edge", exe, &node("edge"))?;
        addrs.push(edge.expect("ready ", Duration::from_secs(20))?);
        nodes.push(edge);
    }
    let mut origin = Proc::spawn("origin", exe, &node("origin"))?;
    origin.expect("ready ", Duration::from_secs(20))?;
    let mut loads = Vec::new();
    for addr in &addrs {
        let args: Vec<String> = [
            "load",
            "--addr",
            addr,
            "--control",
            "--warmup-timeout",
            "60",
            "--viewers",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([per_edge.to_string()])
        .collect();
        loads.push(Proc::spawn("load", exe, &args)?);
    }
    for load in &mut loads {
        load.json("warm ", Duration::from_secs(90))?;
    }
    std::thread::sleep(timing.settle_paced);

    let pids: Vec<u32> = nodes.iter().map(Proc::pid).collect();
    let cpu = |pid: u32| cpu_seconds(pid).ok_or_else(|| fail("cannot read CPU"));
    let edge0: Vec<f64> = pids.iter().map(|&p| cpu(p)).collect::<Result<_, _>>()?;
    let origin0 = cpu(origin.pid())?;
    let mut broker_cpu = 0.0;
    let mut broker0 = cpu(broker.pid().ok_or_else(|| fail("broker not running"))?)?;
    let before = server_stats(&mut origin)?;
    let t0 = Instant::now();
    for load in &mut loads {
        load.send(&format!("start {}", seq(&before)))?;
    }
    let mut restart_note = None;
    if restart {
        std::thread::sleep(timing.window / 3);
        let pid = broker.pid().ok_or_else(|| fail("broker not running"))?;
        broker_cpu += cpu(pid)? - broker0;
        let down = Instant::now();
        broker.kill();
        std::thread::sleep(OUTAGE);
        broker.restart().map_err(|e| fail(e.to_string()))?;
        broker0 = 0.0;
        restart_note = Some(format!(
            "broker down {:.0} ms (kill, {} ms away, start, ready)",
            down.elapsed().as_secs_f64() * 1000.0,
            OUTAGE.as_millis()
        ));
        std::thread::sleep(timing.window * 2 / 3);
    } else {
        std::thread::sleep(timing.window);
    }
    let secs = t0.elapsed().as_secs_f64();
    let edge1: Vec<f64> = pids.iter().map(|&p| cpu(p)).collect::<Result<_, _>>()?;
    let origin1 = cpu(origin.pid())?;
    broker_cpu += cpu(broker.pid().ok_or_else(|| fail("broker not running"))?)? - broker0;
    let after = server_stats(&mut origin)?;
    let mut results = Vec::new();
    for load in &mut loads {
        load.send(&format!("stop {}", seq(&after)))?;
    }
    for load in &mut loads {
        results.push(load.json("result ", Duration::from_secs(30))?);
    }
    let mut edge_stats = Vec::new();
    for edge in &mut nodes {
        edge_stats.push(server_stats(edge)?);
    }
    for p in loads.into_iter().chain(nodes).chain([origin]) {
        p.finish();
    }
    let f = |r: &Value, k: &str| r[k].as_f64().unwrap_or(0.0);
    let worst = |k: &str| results.iter().map(|r| f(r, k)).fold(0.0, f64::max);
    let what = if restart { " + broker restart" } else { "" };
    let reconnects: Vec<String> = edge_stats
        .iter()
        .map(|s| s["reconnects"].to_string())
        .collect();
    Ok(NatsMeasured {
        name: format!("{edges} edges x {per_edge}{what}"),
        cpu_pct: edge0
            .iter()
            .zip(&edge1)
            .map(|(a, b)| (b - a) / secs * 100.0)
            .collect(),
        broker_cpu_pct: broker_cpu / secs * 100.0,
        origin_cpu_pct: (origin1 - origin0) / secs * 100.0,
        share_min: results
            .iter()
            .map(|r| f(r, "share_min"))
            .fold(f64::INFINITY, f64::min),
        lat_p50_ms: worst("lat_p50_us") / 1000.0,
        lat_p99_ms: worst("lat_p99_us") / 1000.0,
        lat_max_ms: worst("lat_max_us") / 1000.0,
        errors: results.iter().map(|r| f(r, "errors") as u64).sum(),
        restart: restart_note.map(|n| {
            format!(
                "{n}; edge reconnects {}; origin dropped {} frames while disconnected",
                reconnects.join("/"),
                after["dropped_disconnected"]
            )
        }),
    })
}

fn seq(stats: &Value) -> u64 {
    stats["published"].as_u64().unwrap_or(0)
}

/// The rows as a table, with the targets of #15.
pub(super) fn table(rows: &[Result<NatsMeasured, String>]) -> String {
    let mut out = String::from(
        "NATS fan-out (30 fps, 50 KB frames; latency origin publish -> viewer; \
         CPU % of one core)\n\
         scenario                        | CPU per process     | broker | origin | delivered min | p50 ms | p99 ms | max ms | errors\n",
    );
    for row in rows {
        match row {
            Ok(m) => {
                let cpu: Vec<String> = m.cpu_pct.iter().map(|c| format!("{c:.0}")).collect();
                out.push_str(&format!(
                    "{:<31} | {:<19} | {:>6.1} | {:>6.1} | {:>12.2}% | {:>6.2} | {:>6.2} | {:>6.1} | {}\n",
                    m.name,
                    cpu.join(" / "),
                    m.broker_cpu_pct,
                    m.origin_cpu_pct,
                    m.share_min * 100.0,
                    m.lat_p50_ms,
                    m.lat_p99_ms,
                    m.lat_max_ms,
                    m.errors
                ));
                if let Some(note) = &m.restart {
                    out.push_str(&format!("    {note}\n"));
                }
            }
            Err(why) => out.push_str(&format!("{why}\n")),
        }
    }
    let single = rows.first().and_then(|r| r.as_ref().ok());
    let fanout = rows.get(1).and_then(|r| r.as_ref().ok());
    if let (Some(s), Some(n)) = (single, fanout) {
        let added = n.lat_p99_ms - s.lat_p99_ms;
        out.push_str(&format!(
            "target p99 added through NATS <= 5 ms: {added:+.2} ms ({}); \
             target delivered >= 99% at every viewer: {:.2}% ({})\n",
            if added <= 5.0 { "met" } else { "MISSED" },
            n.share_min * 100.0,
            if n.share_min >= 0.99 { "met" } else { "MISSED" },
        ));
    }
    out
}
