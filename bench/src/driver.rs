//! `bench [--quick] [--json PATH]`: runs every scenario as a server process
//! plus a load-generator process (both this binary), measures the server
//! from the outside (`/proc/<pid>/stat`, `/proc/<pid>/status`), prints the
//! table and the targets, and writes the JSON report.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::args::Args;
use crate::server::Kind;
use crate::sys::{cpu_seconds, memory_kib};

const FRAME: usize = 50_000;
const SMALL_FRAME: usize = 10_000;
/// The layer's default high-water mark (the benchmark does not change it).
const HWM: usize = mjpeg_tower::DEFAULT_HIGH_WATER_MARK;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Paced,
    Unpaced,
    Slow,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Paced => "paced",
            Self::Unpaced => "unpaced",
            Self::Slow => "slow",
        }
    }
}

#[derive(Clone, Debug)]
struct Scenario {
    kind: Kind,
    mode: Mode,
    viewers: usize,
    slow: usize,
    fps: f64,
    size: usize,
}

impl Scenario {
    fn name(&self) -> String {
        let who = if self.slow > 0 {
            format!("{}+{}slow", self.viewers, self.slow)
        } else {
            self.viewers.to_string()
        };
        let rate = if self.mode == Mode::Unpaced {
            "max".to_owned()
        } else {
            format!("{}fps", self.fps)
        };
        format!(
            "{:<4} {:<7} {:>11} {:>5} {:>2}KB",
            self.kind.name(),
            self.mode.name(),
            who,
            rate,
            self.size / 1000
        )
    }

    /// Scenarios with the same key are compared with each other (raw = ceiling).
    fn same_load(&self, other: &Scenario) -> bool {
        self.mode == other.mode
            && self.viewers == other.viewers
            && self.slow == other.slow
            && self.fps == other.fps
            && self.size == other.size
    }

    fn total(&self) -> usize {
        self.viewers + self.slow
    }
}

fn plan(quick: bool) -> Vec<Scenario> {
    let sc = |kind, mode, viewers, slow, fps, size| Scenario {
        kind,
        mode,
        viewers,
        slow,
        fps,
        size,
    };
    let kinds: &[Kind] = if quick {
        &[Kind::Raw, Kind::Axum]
    } else {
        &[Kind::Raw, Kind::Axum, Kind::Warp]
    };
    let mut out = Vec::new();
    for n in [1, 100, 1000] {
        for &k in kinds {
            out.push(sc(k, Mode::Paced, n, 0, 30.0, FRAME));
        }
    }
    if !quick {
        for &k in kinds {
            out.push(sc(k, Mode::Paced, 10_000, 0, 1.0, SMALL_FRAME));
        }
    }
    let unpaced: &[usize] = if quick { &[100, 1000] } else { &[1, 100, 1000] };
    for &n in unpaced {
        for &k in kinds {
            out.push(sc(k, Mode::Unpaced, n, 0, 0.0, FRAME));
        }
    }
    for &k in kinds {
        out.push(sc(k, Mode::Slow, 100, 100, 30.0, FRAME));
    }
    out
}

/// The unpaced producer refills queues once per millisecond (tokio's timer
/// resolution), so a viewer can take at most one high-water mark per
/// millisecond: 512 KiB/ms = 0.5 GB/s. Loopback with few viewers is faster
/// than that, so their queues get room for a millisecond of ~8 GB/s in total.
fn unpaced_hwm(viewers: usize) -> usize {
    HWM.max((8 << 20) / viewers.max(1))
}

/// What one scenario measured.
#[derive(Clone, Debug, Default)]
struct Measured {
    window_s: f64,
    published: u64,
    share_min: f64,
    share_median: f64,
    fps_min: f64,
    fps_median: f64,
    mbps: f64,
    lat_p50_ms: f64,
    lat_p99_ms: f64,
    lat_max_ms: f64,
    cpu_s: f64,
    cpu_pct: f64,
    cpu_s_per_gb: f64,
    client_cpu_pct: f64,
    rss_start_kib: u64,
    rss_end_kib: u64,
    rss_peak_kib: u64,
    rss_per_viewer_kib: f64,
    errors: u64,
    warm_s: f64,
    load: Value,
    server_before: Value,
    server_after: Value,
}

enum Outcome {
    Done(Box<Measured>),
    Skipped(String),
    Failed(String),
}

struct Timing {
    window: Duration,
    settle_paced: Duration,
    settle_unpaced: Duration,
}

pub(crate) fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bench: {e}");
            2
        }
    }
}

fn run(args: &[String]) -> Result<i32, String> {
    let a = Args::parse(args, &["quick", "help"])?;
    if a.flag("help") {
        println!(
            "usage: bench [--quick] [--json PATH] [--only SUBSTRING] [--window SECS]\n       \
             bench server --kind raw|axum|warp [--unpaced] [--fps F] [--size BYTES] [--viewers N]\n       \
             bench load --addr 127.0.0.1:PORT [--viewers N] [--slow N] [--control | --window SECS]"
        );
        return Ok(0);
    }
    let quick = a.flag("quick");
    let default_window = if quick { 2.0 } else { 5.0 };
    let timing = Timing {
        window: Duration::from_secs_f64(a.get("window", default_window)?),
        settle_paced: Duration::from_millis(if quick { 300 } else { 500 }),
        settle_unpaced: Duration::from_millis(if quick { 500 } else { 1000 }),
    };
    let json_path = a.str("json").map(PathBuf::from);
    let only = a.str("only").map(str::to_owned);
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;

    let scenarios: Vec<Scenario> = plan(quick)
        .into_iter()
        .filter(|s| only.as_ref().is_none_or(|o| s.name().contains(o.as_str())))
        .collect();
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        eprint!("[{:>2}/{}] {} ... ", i + 1, scenarios.len(), sc.name());
        let _ = std::io::stderr().flush();
        let t = Instant::now();
        let outcome = match run_scenario(&exe, sc, &timing) {
            Ok(m) => Outcome::Done(Box::new(m)),
            Err(Stop::Skip(why)) => Outcome::Skipped(why),
            Err(Stop::Fail(why)) => Outcome::Failed(why),
        };
        match &outcome {
            Outcome::Done(m) => eprintln!(
                "{:.1}s: {:.1} MB/s, min share {}, p99 {:.2} ms, CPU {:.0}%, errors {}",
                t.elapsed().as_secs_f64(),
                m.mbps,
                if sc.mode == Mode::Unpaced && sc.kind == Kind::Raw {
                    "n/a".to_owned()
                } else {
                    format!("{:.1}%", m.share_min * 100.0)
                },
                m.lat_p99_ms,
                m.cpu_pct,
                m.errors
            ),
            Outcome::Skipped(w) => eprintln!("skipped: {w}"),
            Outcome::Failed(w) => eprintln!("FAILED: {w}"),
        }
        outcomes.push((sc.clone(), outcome));
    }
    let total = started.elapsed();

    let report = Report {
        outcomes,
        quick,
        timing,
    };
    let table = report.table();
    let targets = report.targets();
    println!();
    println!("{table}");
    println!("{}", targets_text(&targets));
    println!(
        "total {:.0} s. Notes: hub servers use Framing::Standard (a per-part X-Seq/X-Ts header \
         would make AdvanceHeaders send an extra empty part per frame), KeepLatest, the default \
         high-water mark ({} KiB) when paced and max(512 KiB, 8 MiB / viewers) unpaced (the \
         unpaced producer refills queues once per ms); raw = tokio TcpListener + hand-written \
         head + writev of the same part bytes; all sockets have a {} KiB send buffer; server, \
         load generator (and anything else running) share {} cores.",
        total.as_secs_f64(),
        HWM / 1024,
        mjpeg_tower::server::DEFAULT_SEND_BUFFER / 1024,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    if let Some(path) = json_path {
        write_json(&path, &report, &targets, total)?;
        println!("JSON report: {}", path.display());
    }
    // Targets are only reported; a failed scenario or any error is a failure.
    let failed = report.outcomes.iter().any(|(_, o)| match o {
        Outcome::Failed(_) => true,
        Outcome::Done(m) => m.errors > 0,
        Outcome::Skipped(_) => false,
    });
    if failed {
        eprintln!("bench: a scenario failed or had errors (see the table)");
    }
    Ok(if failed { 1 } else { 0 })
}

enum Stop {
    Skip(String),
    Fail(String),
}

fn fail(e: impl Into<String>) -> Stop {
    Stop::Fail(e.into())
}

/// A child process with line-oriented stdin/stdout; killed and reaped on drop.
struct Proc {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn spawn(name: &'static str, exe: &Path, args: &[String]) -> Result<Self, Stop> {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| fail(format!("spawn {name}: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or_else(|| fail("no stdout"))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            name,
            child,
            stdin,
            lines,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send(&mut self, line: &str) -> Result<(), Stop> {
        let stdin = self.stdin.as_mut().ok_or_else(|| fail("stdin closed"))?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| fail(format!("{}: write {line:?}: {e}", self.name)))
    }

    /// The next line starting with `prefix`; an `error ...` line becomes a skip.
    fn expect(&mut self, prefix: &str, timeout: Duration) -> Result<String, Stop> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(fail(format!(
                        "{}: no {prefix:?} line within {timeout:?}",
                        self.name
                    )));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.try_wait().ok().flatten();
                    return Err(fail(format!(
                        "{} exited ({status:?}) before {prefix:?}",
                        self.name
                    )));
                }
            };
            if let Some(rest) = line.strip_prefix("error ") {
                return Err(Stop::Skip(format!("{}: {rest}", self.name)));
            }
            if let Some(rest) = line.strip_prefix(prefix) {
                return Ok(rest.trim().to_owned());
            }
        }
    }

    fn json(&mut self, prefix: &str, timeout: Duration) -> Result<Value, Stop> {
        let text = self.expect(prefix, timeout)?;
        serde_json::from_str(&text).map_err(|e| fail(format!("{}: bad JSON: {e}", self.name)))
    }

    /// Asks the process to quit, then makes sure it is gone.
    fn finish(mut self) {
        let _ = self.send("quit");
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn server_stats(server: &mut Proc) -> Result<Value, Stop> {
    server.send("stats")?;
    server.json("", Duration::from_secs(10))
}

fn run_scenario(exe: &Path, sc: &Scenario, timing: &Timing) -> Result<Measured, Stop> {
    let mut server_args = vec![
        "server".to_owned(),
        "--kind".into(),
        sc.kind.name().into(),
        "--fps".into(),
        sc.fps.to_string(),
        "--size".into(),
        sc.size.to_string(),
        "--viewers".into(),
        sc.total().to_string(),
    ];
    if sc.mode == Mode::Unpaced {
        server_args.push("--unpaced".into());
        server_args.push("--hwm".into());
        server_args.push(unpaced_hwm(sc.viewers).to_string());
    }
    let mut server = Proc::spawn("server", exe, &server_args)?;
    let addr = server.expect("ready ", Duration::from_secs(20))?;
    std::thread::sleep(Duration::from_millis(300));
    let spid = server.pid();
    let (rss_start, _) = memory_kib(spid).ok_or_else(|| fail("cannot read server memory"))?;

    let load_args = vec![
        "load".to_owned(),
        "--addr".into(),
        addr,
        "--viewers".into(),
        sc.viewers.to_string(),
        "--slow".into(),
        sc.slow.to_string(),
        "--control".into(),
        "--warmup-timeout".into(),
        "60".into(),
    ];
    let mut load = Proc::spawn("load", exe, &load_args)?;
    let warm = load.json("warm ", Duration::from_secs(90))?;
    std::thread::sleep(if sc.mode == Mode::Unpaced {
        timing.settle_unpaced
    } else {
        timing.settle_paced
    });

    let lpid = load.pid();
    let before = server_stats(&mut server)?;
    let cpu0 = cpu_seconds(spid).ok_or_else(|| fail("cannot read server CPU"))?;
    let lcpu0 = cpu_seconds(lpid).unwrap_or(0.0);
    let t0 = Instant::now();
    load.send(&format!(
        "start {}",
        before["published"].as_u64().unwrap_or(0)
    ))?;
    std::thread::sleep(timing.window);
    let cpu1 = cpu_seconds(spid).ok_or_else(|| fail("cannot read server CPU"))?;
    let lcpu1 = cpu_seconds(lpid).unwrap_or(0.0);
    let secs = t0.elapsed().as_secs_f64();
    let after = server_stats(&mut server)?;
    load.send(&format!(
        "stop {}",
        after["published"].as_u64().unwrap_or(0)
    ))?;
    let (rss_end, rss_peak) = memory_kib(spid).ok_or_else(|| fail("cannot read server memory"))?;
    let result = load.json("result ", Duration::from_secs(30))?;
    load.finish();
    server.finish();

    let f = |k: &str| result[k].as_f64().unwrap_or(0.0);
    // Paced: the bytes of the frames published in the window (exact, even at
    // 1 fps where a time window would catch 5 or 6 fan-outs). Unpaced: what
    // arrived between start and stop.
    let (payload, load_secs) = if sc.mode == Mode::Unpaced {
        (f("payload_bytes"), f("window_s").max(1e-9))
    } else {
        (f("payload_bytes_seq"), secs)
    };
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

// ---------------------------------------------------------------- reporting

struct Report {
    outcomes: Vec<(Scenario, Outcome)>,
    quick: bool,
    timing: Timing,
}

/// `a / b` when both are measured and `b` is not zero.
fn ratio(a: f64, b: f64) -> Option<f64> {
    (a.is_finite() && b.is_finite() && b.abs() > 1e-12).then(|| a / b)
}

/// CPU times under ten `/proc` ticks (0.1 s) are too coarse to compare.
const MIN_CPU_S: f64 = 0.1;

/// A CPU ratio, when both sides used enough CPU to be measured.
fn cpu_ratio(m: &Measured, c: &Measured, f: fn(&Measured) -> f64) -> Option<f64> {
    (m.cpu_s >= MIN_CPU_S && c.cpu_s >= MIN_CPU_S)
        .then(|| ratio(f(m), f(c)))
        .flatten()
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or(String::new(), |r| format!(" ({r:.2}x)"))
}

impl Report {
    fn ceiling(&self, sc: &Scenario) -> Option<&Measured> {
        if sc.kind == Kind::Raw {
            return None;
        }
        self.outcomes.iter().find_map(|(s, o)| match o {
            Outcome::Done(m) if s.kind == Kind::Raw && s.same_load(sc) => Some(&**m),
            _ => None,
        })
    }

    fn measured(&self, kind: Kind, mode: Mode, viewers: usize) -> Option<(&Scenario, &Measured)> {
        self.outcomes.iter().find_map(|(s, o)| match o {
            Outcome::Done(m) if s.kind == kind && s.mode == mode && s.viewers == viewers => {
                Some((s, &**m))
            }
            _ => None,
        })
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let head = format!(
            "{:<36} | {:>13} | {:>17} | {:>28} | {:>15} | {:>17} | {:>7} | {:>16} | {:>3} | {:>6}",
            "scenario (x = ratio to raw ceiling)",
            "frames min/med",
            "MB/s",
            "latency p50/p99/max ms",
            "server CPU%",
            "CPU s/GB",
            "peak MiB",
            "RSS KiB/viewer",
            "err",
            "load%"
        );
        out.push_str(&head);
        out.push('\n');
        out.push_str(&"-".repeat(head.len()));
        out.push('\n');
        for (sc, o) in &self.outcomes {
            let name = sc.name();
            let m = match o {
                Outcome::Done(m) => m,
                Outcome::Skipped(w) => {
                    out.push_str(&format!("{name:<36} | skipped: {w}\n"));
                    continue;
                }
                Outcome::Failed(w) => {
                    out.push_str(&format!("{name:<36} | FAILED: {w}\n"));
                    continue;
                }
            };
            let c = self.ceiling(sc);
            let r = |f: fn(&Measured) -> f64| c.and_then(|c| ratio(f(m), f(c)));
            let rc = |f: fn(&Measured) -> f64| c.and_then(|c| cpu_ratio(m, c, f));
            // Unpaced raw writes the latest part again and again: no share.
            let share = if sc.mode == Mode::Unpaced && sc.kind == Kind::Raw {
                "n/a".to_owned()
            } else {
                format!("{:.1}/{:.1}%", m.share_min * 100.0, m.share_median * 100.0)
            };
            out.push_str(&format!(
                "{:<36} | {:>13} | {:>17} | {:>28} | {:>15} | {:>17} | {:>7.1} | {:>16} | {:>3} | {:>5.0}%\n",
                name,
                share,
                format!("{:.1}{}", m.mbps, fmt_ratio(r(|m| m.mbps))),
                format!(
                    "{:.2}/{:.2}/{:.1}{}",
                    m.lat_p50_ms,
                    m.lat_p99_ms,
                    m.lat_max_ms,
                    fmt_ratio(r(|m| m.lat_p99_ms))
                ),
                format!("{:.1}{}", m.cpu_pct, fmt_ratio(rc(|m| m.cpu_pct))),
                format!("{:.2}{}", m.cpu_s_per_gb, fmt_ratio(rc(|m| m.cpu_s_per_gb))),
                m.rss_peak_kib as f64 / 1024.0,
                format!(
                    "{:.1}{}",
                    m.rss_per_viewer_kib,
                    fmt_ratio(r(|m| m.rss_per_viewer_kib))
                ),
                m.errors,
                m.client_cpu_pct,
            ));
        }
        out
    }

    fn targets(&self) -> Vec<Target> {
        let mut t = Vec::new();
        let kinds = [Kind::Axum, Kind::Warp];
        for kind in kinds {
            let k = kind.name();
            if let Some((sc, m)) = self.measured(kind, Mode::Paced, 1000) {
                t.push(Target::at_least(
                    format!("{k}: paced 1000x30fps, every viewer >= 99% of frames"),
                    m.share_min * 100.0,
                    99.0,
                    "%",
                ));
                let c = self
                    .ceiling(sc)
                    .and_then(|c| cpu_ratio(m, c, |m| m.cpu_pct));
                t.push(Target::at_most_opt(
                    format!("{k}: paced 1000x30fps, server CPU <= 1.3x ceiling"),
                    c,
                    1.3,
                    "x",
                ));
            }
            for n in [100, 1000] {
                if let Some((sc, m)) = self.measured(kind, Mode::Unpaced, n) {
                    let r = self.ceiling(sc).and_then(|c| ratio(m.mbps, c.mbps));
                    t.push(Target::at_least_opt(
                        format!("{k}: unpaced {n} viewers, MB/s >= 0.8x ceiling"),
                        r,
                        0.8,
                        "x",
                    ));
                }
            }
            if let Some((_, m)) = self.measured(kind, Mode::Paced, 100) {
                t.push(Target::at_most(
                    format!("{k}: paced 100 viewers, p99 latency <= 5 ms"),
                    m.lat_p99_ms,
                    5.0,
                    "ms",
                ));
            }
            let idle = self
                .measured(kind, Mode::Paced, 10_000)
                .or_else(|| self.measured(kind, Mode::Paced, 1000));
            if let Some((sc, m)) = idle {
                t.push(Target::at_most(
                    format!(
                        "{k}: memory per idle viewer <= 64 KiB (RSS growth / viewers, {} paced)",
                        sc.viewers
                    ),
                    m.rss_per_viewer_kib,
                    64.0,
                    "KiB",
                ));
            }
            match self
                .outcomes
                .iter()
                .find(|(s, _)| s.kind == kind && s.mode == Mode::Paced && s.viewers == 10_000)
            {
                Some((_, Outcome::Done(m))) => t.push(Target::at_most(
                    format!("{k}: 10,000 viewers held without errors"),
                    m.errors as f64,
                    0.0,
                    "errors",
                )),
                Some((_, Outcome::Skipped(w) | Outcome::Failed(w))) => t.push(Target {
                    what: format!("{k}: 10,000 viewers held without errors"),
                    value: format!("not measured: {w}"),
                    met: None,
                }),
                None if self.outcomes.iter().any(|(s, _)| s.kind == kind) => t.push(Target {
                    what: format!("{k}: 10,000 viewers held without errors"),
                    value: "not run (--quick skips it)".into(),
                    met: None,
                }),
                None => {}
            }
            if let Some((sc, m)) = self.measured(kind, Mode::Slow, 100) {
                t.push(Target::at_least(
                    format!(
                        "{k}: {} fast + {} never-reading viewers, fast ones >= 99% of frames",
                        sc.viewers, sc.slow
                    ),
                    m.share_min * 100.0,
                    99.0,
                    "%",
                ));
                // Bounded: at most HWM + one frame per never-reading viewer, 64 KiB per other.
                let bound_mb =
                    (sc.slow * (HWM + sc.size) + sc.viewers * 64 * 1024) as f64 / 1048576.0;
                let grew = (m.rss_peak_kib as f64 - m.rss_start_kib as f64) / 1024.0;
                t.push(Target::at_most(
                    format!(
                        "{k}: slow viewers, server memory bounded (peak RSS growth <= {bound_mb:.0} MiB)"
                    ),
                    grew,
                    bound_mb.round(),
                    "MiB",
                ));
                let queued = m.server_after["max_queued_bytes"].as_f64().unwrap_or(0.0);
                t.push(Target::at_most(
                    format!("{k}: slow viewers, queued in the layer <= high-water mark + 1 frame"),
                    queued / 1024.0,
                    (HWM + sc.size) as f64 / 1024.0,
                    "KiB",
                ));
            }
        }
        t
    }
}

struct Target {
    what: String,
    value: String,
    met: Option<bool>,
}

impl Target {
    fn at_least(what: String, v: f64, min: f64, unit: &str) -> Self {
        Self::at_least_opt(what, Some(v), min, unit)
    }

    fn at_most(what: String, v: f64, max: f64, unit: &str) -> Self {
        Self::at_most_opt(what, Some(v), max, unit)
    }

    fn at_least_opt(what: String, v: Option<f64>, min: f64, unit: &str) -> Self {
        Self::check(what, v, unit, |v| v >= min, min)
    }

    fn at_most_opt(what: String, v: Option<f64>, max: f64, unit: &str) -> Self {
        Self::check(what, v, unit, |v| v <= max, max)
    }

    fn check(
        what: String,
        v: Option<f64>,
        unit: &str,
        ok: impl Fn(f64) -> bool,
        bound: f64,
    ) -> Self {
        match v {
            Some(v) => Self {
                what,
                value: format!("{v:.2} {unit} (target {} {unit})", fmt_bound(bound)),
                met: Some(ok(v)),
            },
            None => Self {
                what,
                value: "not measured (no ceiling to compare with)".into(),
                met: None,
            },
        }
    }
}

fn fmt_bound(b: f64) -> String {
    if b.fract() == 0.0 {
        format!("{b:.0}")
    } else {
        format!("{b:.1}")
    }
}

fn targets_text(targets: &[Target]) -> String {
    let mut out = String::from("\nTargets (reported, never asserted):\n");
    for t in targets {
        let mark = match t.met {
            Some(true) => "met   ",
            Some(false) => "MISSED",
            None => "  -   ",
        };
        out.push_str(&format!("  [{mark}] {:<78} {}\n", t.what, t.value));
    }
    out
}

fn write_json(path: &Path, r: &Report, targets: &[Target], total: Duration) -> Result<(), String> {
    let scenarios: Vec<Value> = r
        .outcomes
        .iter()
        .map(|(sc, o)| {
            let mut v = json!({
                "name": sc.name().split_whitespace().collect::<Vec<_>>().join(" "),
                "server": sc.kind.name(),
                "mode": sc.mode.name(),
                "viewers": sc.viewers,
                "slow_viewers": sc.slow,
                "fps": if sc.mode == Mode::Unpaced { Value::Null } else { json!(sc.fps) },
                "frame_bytes": sc.size,
            });
            match o {
                Outcome::Skipped(w) => v["skipped"] = json!(w),
                Outcome::Failed(w) => v["failed"] = json!(w),
                Outcome::Done(m) => {
                    let c = r.ceiling(sc);
                    let rt = |f: fn(&Measured) -> f64| {
                        c.and_then(|c| ratio(f(m), f(c)))
                            .map_or(Value::Null, |x| json!(x))
                    };
                    let rc = |f: fn(&Measured) -> f64| {
                        c.and_then(|c| cpu_ratio(m, c, f))
                            .map_or(Value::Null, |x| json!(x))
                    };
                    v["result"] = json!({
                        "window_s": m.window_s,
                        "warmup_s": m.warm_s,
                        "published_in_window": m.published,
                        "delivered_share_min": m.share_min,
                        "delivered_share_median": m.share_median,
                        "fps_per_viewer_min": m.fps_min,
                        "fps_per_viewer_median": m.fps_median,
                        "delivered_mb_per_s": m.mbps,
                        "latency_ms": {"p50": m.lat_p50_ms, "p99": m.lat_p99_ms, "max": m.lat_max_ms},
                        "server_cpu_s": m.cpu_s,
                        "server_cpu_pct_of_one_core": m.cpu_pct,
                        "server_cpu_s_per_gb": if m.cpu_s_per_gb.is_finite() { json!(m.cpu_s_per_gb) } else { Value::Null },
                        "load_generator_cpu_pct": m.client_cpu_pct,
                        "server_rss_start_kib": m.rss_start_kib,
                        "server_rss_end_kib": m.rss_end_kib,
                        "server_rss_peak_kib": m.rss_peak_kib,
                        "server_rss_per_viewer_kib": m.rss_per_viewer_kib,
                        "errors": m.errors,
                        "ratio_to_ceiling": {
                            "mb_per_s": rt(|m| m.mbps),
                            "latency_p99": rt(|m| m.lat_p99_ms),
                            "cpu_pct": rc(|m| m.cpu_pct),
                            "cpu_s_per_gb": rc(|m| m.cpu_s_per_gb),
                            "rss_per_viewer": rt(|m| m.rss_per_viewer_kib),
                        },
                        "load_generator": m.load,
                        "server_stats_before": m.server_before,
                        "server_stats_after": m.server_after,
                    });
                }
            }
            v
        })
        .collect();
    let doc = json!({
        "quick": r.quick,
        "window_s": r.timing.window.as_secs_f64(),
        "total_s": total.as_secs_f64(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "notes": [
            "hub servers: FrameHub + MjpegLayer with Framing::Standard (X-Seq/X-Ts part headers), KeepLatest, default high-water mark (paced), max(512 KiB, 8 MiB / viewers) unpaced, served by the adapters' serve helpers",
            "unpaced hub producer: every 1 ms publishes 1.3x the frames the average viewer took in the last tick (MjpegLayer::stats().frames_sent), plus 20 fps",
            "paced MB/s counts the frames published in the window (by X-Seq); unpaced MB/s counts what arrived between start and stop",
            "raw: tokio TcpListener, hand-written HTTP/1.1 head, identity body, same part bytes via writev, fan-out through tokio::sync::watch",
            "all listeners use a 64 KiB send buffer",
            "CPU from /proc/<pid>/stat (10 ms ticks; CPU ratios only when both sides used >= 0.1 s); RSS from /proc/<pid>/status",
            "unpaced raw writes the latest part repeatedly; its share is not meaningful",
        ],
        "scenarios": scenarios,
        "targets": targets.iter().map(|t| json!({
            "target": t.what,
            "value": t.value,
            "met": t.met,
        })).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))
}
