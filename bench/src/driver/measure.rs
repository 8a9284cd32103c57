//! One scenario's measurement: start the server and the load generator, let
//! them settle, open the window, read CPU, memory and the load's results.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::plan::{Mode, Scenario, Transport, unpaced_hwm};
use super::process::{Proc, Stop, fail, mark};
use crate::sys::{cpu_seconds, memory_kib};
use crate::tls::TestPki;

/// What one scenario measured.
#[derive(Clone, Debug, Default)]
pub(super) struct Measured {
    pub(super) window_s: f64,
    pub(super) published: u64,
    pub(super) share_min: f64,
    pub(super) share_median: f64,
    pub(super) fps_min: f64,
    pub(super) fps_median: f64,
    pub(super) mbps: f64,
    pub(super) lat_p50_ms: f64,
    pub(super) lat_p99_ms: f64,
    pub(super) lat_max_ms: f64,
    pub(super) cpu_s: f64,
    pub(super) cpu_pct: f64,
    pub(super) cpu_s_per_gb: f64,
    pub(super) client_cpu_pct: f64,
    pub(super) rss_start_kib: u64,
    pub(super) rss_end_kib: u64,
    pub(super) rss_peak_kib: u64,
    pub(super) rss_per_viewer_kib: f64,
    pub(super) errors: u64,
    pub(super) warm_s: f64,
    pub(super) load: Value,
    pub(super) server_before: Value,
    pub(super) server_after: Value,
}

impl Measured {
    /// The mean of several measurements of the same load (the ceiling run
    /// before and after the servers it is compared with); the load's and the
    /// server's own reports are the first one's.
    pub(super) fn mean(all: &[&Measured]) -> Measured {
        let n = all.len().max(1) as f64;
        let f = |g: fn(&Measured) -> f64| all.iter().map(|m| g(m)).sum::<f64>() / n;
        let u = |g: fn(&Measured) -> u64| (all.iter().map(|m| g(m) as f64).sum::<f64>() / n) as u64;
        let first = all.first().copied().cloned().unwrap_or_default();
        Measured {
            window_s: f(|m| m.window_s),
            published: u(|m| m.published),
            share_min: f(|m| m.share_min),
            share_median: f(|m| m.share_median),
            fps_min: f(|m| m.fps_min),
            fps_median: f(|m| m.fps_median),
            mbps: f(|m| m.mbps),
            lat_p50_ms: f(|m| m.lat_p50_ms),
            lat_p99_ms: f(|m| m.lat_p99_ms),
            lat_max_ms: f(|m| m.lat_max_ms),
            cpu_s: f(|m| m.cpu_s),
            cpu_pct: f(|m| m.cpu_pct),
            cpu_s_per_gb: f(|m| m.cpu_s_per_gb),
            client_cpu_pct: f(|m| m.client_cpu_pct),
            rss_start_kib: u(|m| m.rss_start_kib),
            rss_end_kib: u(|m| m.rss_end_kib),
            rss_peak_kib: u(|m| m.rss_peak_kib),
            rss_per_viewer_kib: f(|m| m.rss_per_viewer_kib),
            errors: u(|m| m.errors),
            warm_s: f(|m| m.warm_s),
            ..first
        }
    }
}

/// How one scenario ended.
pub(super) enum Outcome {
    Done(Box<Measured>),
    Skipped(String),
    Failed(String),
}

/// How long to let a scenario settle, and how long to measure it.
pub(super) struct Timing {
    pub(super) window: Duration,
    pub(super) settle_paced: Duration,
    pub(super) settle_unpaced: Duration,
}

/// How `bench server` starts: `kind` for `viewers` at `fps` with frames of
/// `size` bytes, or unpaced (with [`unpaced_hwm`] for `viewers`). The
/// table's scenarios add framing and TLS flags.
pub(super) fn server_args(
    kind: &str,
    viewers: usize,
    fps: f64,
    size: usize,
    unpaced: bool,
) -> Vec<String> {
    let mut args = vec![
        "server".to_owned(),
        "--kind".into(),
        kind.to_owned(),
        "--fps".into(),
        fps.to_string(),
        "--size".into(),
        size.to_string(),
        "--viewers".into(),
        viewers.to_string(),
    ];
    if unpaced {
        let hwm = unpaced_hwm(viewers).to_string();
        args.extend(["--unpaced".to_owned(), "--hwm".into(), hwm]);
    }
    args
}

/// How `bench load` starts: `viewers` fast viewers of `addr`, their window
/// opened and closed by the driver's `start` and `stop` lines.
pub(super) fn load_args(addr: String, viewers: usize) -> Vec<String> {
    vec![
        "load".to_owned(),
        "--addr".into(),
        addr,
        "--viewers".into(),
        viewers.to_string(),
        "--control".into(),
        "--warmup-timeout".into(),
        "60".into(),
    ]
}

/// The payload bytes a load's `result` counts as delivered, and over how
/// many seconds. Paced: the frames published between start and stop (exact,
/// even at 1 fps where a time window would catch 5 or 6 fan-outs), over the
/// driver's `secs` between them. Unpaced: what arrived in the load's own
/// window.
pub(super) fn delivered(result: &Value, unpaced: bool, secs: f64) -> (f64, f64) {
    let f = |k: &str| result[k].as_f64().unwrap_or(0.0);
    if unpaced {
        (f("payload_bytes"), f("window_s").max(1e-9))
    } else {
        (f("payload_bytes_seq"), secs.max(1e-9))
    }
}

/// Runs `sc`; `pki` is needed by the TLS and HTTP/2 scenarios. With
/// `profile`, `perf record` samples the server through the window and writes
/// there.
pub(super) fn run_scenario(
    exe: &Path,
    sc: &Scenario,
    timing: &Timing,
    pki: Option<&TestPki>,
    profile: Option<&Path>,
) -> Result<Measured, Stop> {
    let pki = match (sc.transport, pki) {
        (Transport::Plain, _) => None,
        (_, Some(pki)) => Some(pki),
        (_, None) => return Err(Stop::Skip("no test CA".into())),
    };
    let unpaced = sc.mode == Mode::Unpaced;
    let mut server_args = server_args(sc.kind.name(), sc.total(), sc.fps, sc.size, unpaced);
    if sc.standard {
        server_args.push("--standard".into());
    }
    if let Some(pki) = pki {
        server_args.push("--cert".into());
        server_args.push(pki.cert.display().to_string());
        server_args.push("--key".into());
        server_args.push(pki.key.display().to_string());
    }
    let mut server = Proc::spawn("server", exe, &server_args)?;
    let addr = server.expect("ready ", Duration::from_secs(20))?;
    std::thread::sleep(Duration::from_millis(300));
    let spid = server.pid();
    let (rss_start, _) = memory_kib(spid).ok_or_else(|| fail("cannot read server memory"))?;

    let mut load_args = load_args(addr, sc.viewers);
    load_args.extend(["--slow".to_owned(), sc.slow.to_string()]);
    if let Some(pki) = pki {
        load_args.push("--ca".into());
        load_args.push(pki.ca.display().to_string());
    }
    if let Transport::H2(streams) = sc.transport {
        load_args.push("--h2-streams".into());
        load_args.push(streams.to_string());
    }
    let mut load = Proc::spawn("load", exe, &load_args)?;
    let warm = load.json("warm ", Duration::from_secs(90))?;
    std::thread::sleep(if sc.mode == Mode::Unpaced {
        timing.settle_unpaced
    } else {
        timing.settle_paced
    });

    let lpid = load.pid();
    let before = mark(&mut server, &mut load, "start")?;
    let cpu0 = cpu_seconds(spid).ok_or_else(|| fail("cannot read server CPU"))?;
    let lcpu0 = cpu_seconds(lpid).unwrap_or(0.0);
    let t0 = Instant::now();
    match profile {
        None => std::thread::sleep(timing.window),
        Some(out) => perf_record(spid, out, timing.window)?,
    }
    let cpu1 = cpu_seconds(spid).ok_or_else(|| fail("cannot read server CPU"))?;
    let lcpu1 = cpu_seconds(lpid).unwrap_or(0.0);
    let secs = t0.elapsed().as_secs_f64();
    let after = mark(&mut server, &mut load, "stop")?;
    let (rss_end, rss_peak) = memory_kib(spid).ok_or_else(|| fail("cannot read server memory"))?;
    let result = load.json("result ", Duration::from_secs(30))?;
    load.finish();
    server.finish();

    let f = |k: &str| result[k].as_f64().unwrap_or(0.0);
    let (payload, load_secs) = delivered(&result, sc.mode == Mode::Unpaced, secs);
    let cpu_s = cpu1 - cpu0;
    Ok(Measured {
        window_s: secs,
        published: result["published"].as_u64().unwrap_or(0),
        share_min: f("share_min"),
        share_median: f("share_median"),
        fps_min: f("fps_min"),
        fps_median: f("fps_median"),
        mbps: payload / load_secs / 1e6,
        lat_p50_ms: f("lat_p50_us") / 1000.0,
        lat_p99_ms: f("lat_p99_us") / 1000.0,
        lat_max_ms: f("lat_max_us") / 1000.0,
        cpu_s,
        cpu_pct: cpu_s / secs * 100.0,
        cpu_s_per_gb: if payload > 0.0 {
            cpu_s / (payload / 1e9)
        } else {
            f64::NAN
        },
        client_cpu_pct: (lcpu1 - lcpu0) / secs * 100.0,
        rss_start_kib: rss_start,
        rss_end_kib: rss_end,
        rss_peak_kib: rss_peak,
        rss_per_viewer_kib: (rss_end as f64 - rss_start as f64) / sc.total() as f64,
        errors: result["errors"].as_u64().unwrap_or(0),
        warm_s: warm["secs"].as_f64().unwrap_or(0.0),
        load: result,
        server_before: before,
        server_after: after,
    })
}

/// `perf record` of process `pid` for `window`, with DWARF call graphs (Rust
/// release builds keep no frame pointers).
fn perf_record(pid: u32, out: &Path, window: Duration) -> Result<(), Stop> {
    let res = std::process::Command::new("perf")
        .args([
            "record",
            "-q",
            "-F",
            "499",
            "--call-graph",
            "dwarf,16384",
            "-p",
        ])
        .arg(pid.to_string())
        .arg("-o")
        .arg(out)
        .args(["--", "sleep"])
        .arg(format!("{:.1}", window.as_secs_f64()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .output()
        .map_err(|e| Stop::Skip(format!("cannot run perf: {e}")))?;
    if res.status.success() {
        Ok(())
    } else {
        Err(Stop::Skip(format!(
            "perf record failed ({}): {}",
            res.status,
            String::from_utf8_lossy(&res.stderr).trim()
        )))
    }
}
