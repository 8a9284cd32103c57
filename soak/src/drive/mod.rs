//! `soak drive`: starts `soak serve`, runs the client mix in phases (load,
//! then quiet) for the whole run while watchers stay connected, checks the
//! invariants every second, prints a table, and fails naming each violation.

mod check;
mod clients;
mod http;
mod report;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::watch as signal;
use tokio::time::{Instant, sleep, timeout};

use self::check::Checker;
use self::clients::{Load, Tally};
use self::report::{PhaseRow, Report};
use crate::Inject;
use crate::stats::ServerStats;

/// Command line of `soak drive`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Length of the run.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Seed of the server's misbehaviour and the clients' choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Viewers that watch the hub for the whole run.
    #[arg(long, default_value_t = 3)]
    watchers: usize,
    /// The largest RSS growth allowed over the second half of the run.
    #[arg(long, default_value_t = 4.0)]
    max_rss_slope: f64,
    /// Plant a fault in the server (for the soak's own tests).
    #[arg(long, value_enum, hide = true)]
    inject_leak: Option<Inject>,
}

/// Descriptors above the baseline still counted as "back at the baseline".
const FD_SLACK: u64 = 4;

/// Tasks above the baseline still counted as "back at the baseline".
const TASK_SLACK: u64 = 4;

/// Frames a watcher must get of those published while it was connected.
const MIN_FRAME_RATIO: f64 = 0.99;

/// Runs the soak; exit code 1 when an invariant failed.
pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let report = runtime.block_on(drive(&args))?;
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How a run of `total` seconds is cut: warm-up, then phases of load and quiet.
#[derive(Debug)]
struct Timeline {
    warmup: Duration,
    phase: Duration,
    load: Duration,
    phases: u64,
}

impl Timeline {
    fn new(total: f64) -> Self {
        let warmup = (total * 0.1).clamp(3.0, 15.0);
        let phase = ((total - warmup) / 4.0).clamp(6.0, 60.0);
        let phases = ((total - warmup) / phase).floor().max(1.0);
        Self {
            warmup: Duration::from_secs_f64(warmup),
            phase: Duration::from_secs_f64(phase),
            load: Duration::from_secs_f64(phase * 0.7),
            phases: phases as u64,
        }
    }
}

/// One sample of the server from outside.
#[derive(Clone, Copy, Debug)]
struct Sample {
    secs: f64,
    fds: u64,
    /// Tasks alive in the server's runtime.
    tasks: u64,
    rss_kib: u64,
}

/// What the server holds with only the whole-run watchers connected.
#[derive(Clone, Copy, Debug)]
struct Baseline {
    fds: u64,
    tasks: u64,
}

struct Run {
    addr: SocketAddr,
    pid: u32,
    child: Child,
    _stdout: BufReader<ChildStdout>,
    start: Instant,
    checker: Checker,
    samples: Vec<Sample>,
    last: ServerStats,
    stats_failures: u32,
    dead: bool,
}

async fn drive(args: &Args) -> Result<Report, String> {
    let total = args.minutes * 60.0;
    let timeline = Timeline::new(total);
    let mut run = Run::start(args).await?;
    let tally = Arc::new(Tally::default());
    let (stop_watchers, watchers_stopped) = signal::channel(false);
    let mut watchers = Vec::new();
    let mut watcher_tasks = Vec::new();
    for _ in 0..args.watchers {
        let sessions = watch::Sessions::default();
        watcher_tasks.push(tokio::spawn(watch::run(
            run.addr,
            Arc::clone(&sessions),
            watchers_stopped.clone(),
        )));
        watchers.push(sessions);
    }
    println!(
        "soak: {:.0} s against {} (pid {}), seed {}: {:.0} s warm-up, {} phases of {:.0} s ({:.0} s load, then quiet)",
        total,
        run.addr,
        run.pid,
        args.seed,
        timeline.warmup.as_secs_f64(),
        timeline.phases,
        timeline.phase.as_secs_f64(),
        timeline.load.as_secs_f64()
    );
    run.run_for(timeline.warmup).await;
    let warm: Vec<_> = run.samples.iter().skip(1).collect();
    let baseline = Baseline {
        fds: warm.iter().map(|s| s.fds).max().unwrap_or(0),
        tasks: warm.iter().map(|s| s.tasks).max().unwrap_or(0),
    };
    let baseline_rss = run.samples.last().map_or(0, |s| s.rss_kib);
    let warmup_end = run.secs();
    report::print_header();
    let mut phases = Vec::new();
    for phase in 0..timeline.phases {
        if run.dead {
            break;
        }
        let (start_secs, before, clients_before) = (run.secs(), run.last.clone(), tally.read());
        let first_sample = run.samples.len();
        let load = Load::start(run.addr, args.seed, phase, &tally);
        run.run_for(timeline.load).await;
        load.stop().await;
        let (quiet_fds, quiet_tasks) = run.quiet(timeline.phase - timeline.load, baseline).await;
        let after = &run.last;
        let clients_after = tally.read();
        let row = PhaseRow {
            phase,
            start_secs,
            end_secs: run.secs(),
            connects: after.connects - before.connects,
            disconnects: after.disconnects - before.disconnects,
            reasons: std::array::from_fn(|i| after.reasons[i] - before.reasons[i]),
            clients: std::array::from_fn(|i| clients_after[i] - clients_before[i]),
            frames_published: after.seq - before.seq,
            max_fds: run.samples[first_sample..]
                .iter()
                .map(|s| s.fds)
                .max()
                .unwrap_or(0),
            quiet_fds,
            quiet_tasks,
            quiet_rss_mib: run
                .samples
                .last()
                .map_or(0.0, |s| s.rss_kib as f64 / 1024.0),
        };
        report::print_row(&row);
        phases.push(row);
    }
    let _ = stop_watchers.send(true);
    for task in watcher_tasks {
        let _ = task.await;
    }
    run.finish(baseline).await;
    let bad_snapshots = tally
        .bad_snapshots
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if !bad_snapshots.is_empty() {
        let at = run.secs();
        run.checker.fail(
            "snapshot_status",
            at,
            format!("snapshot statuses other than 200 and 503: {bad_snapshots:?}"),
        );
    }
    let watchers: Vec<_> = watchers
        .iter()
        .map(|s| {
            watch::score(
                &s.lock().unwrap_or_else(PoisonError::into_inner),
                &run.last.retired,
            )
        })
        .collect();
    for (i, w) in watchers.iter().enumerate() {
        if w.ratio < MIN_FRAME_RATIO {
            let at = run.secs();
            run.checker.fail(
                "watcher_frames",
                at,
                format!(
                    "watcher {i} got {} of {} frames published while it was connected ({:.2}%)",
                    w.received,
                    w.expected,
                    w.ratio * 100.0
                ),
            );
        }
    }
    let rss_slope = run.rss_slope(warmup_end);
    if let Some(slope) = rss_slope.filter(|s| *s > args.max_rss_slope) {
        let at = run.secs();
        run.checker.fail(
            "rss_slope",
            at,
            format!(
                "RSS grew {slope:.2} MiB/min over the second half (bound {:.1})",
                args.max_rss_slope
            ),
        );
    }
    let _ = run.child.kill().await;
    let report = Report {
        seed: args.seed,
        seconds: run.secs(),
        baseline_fds: baseline.fds,
        baseline_tasks: baseline.tasks,
        baseline_rss_mib: baseline_rss as f64 / 1024.0,
        peak_rss_mib: run.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0,
        rss_slope_mib_per_min: rss_slope,
        max_rss_slope_mib_per_min: args.max_rss_slope,
        phases,
        watchers,
        server: run.last.clone(),
        violations: run.checker.violations.clone(),
    };
    report::print_summary(&report);
    Ok(report)
}

impl Run {
    /// Starts `soak serve` (this same executable) and reads its address.
    async fn start(args: &Args) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let replace_every = (args.minutes * 60.0 / 8.0).clamp(4.0, 20.0);
        let mut cmd = Command::new(&exe);
        cmd.args([
            "serve",
            "--seed",
            &args.seed.to_string(),
            "--replace-every",
            &replace_every.to_string(),
        ]);
        if let Some(inject) = args.inject_leak {
            let name = clap::ValueEnum::to_possible_value(&inject)
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            cmd.args(["--inject-leak", &name]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{} serve: {e}", exe.display()))?;
        let pid = child.id().ok_or("the server exited at once")?;
        let stdout = child.stdout.take().ok_or("no stdout from the server")?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        timeout(Duration::from_secs(20), stdout.read_line(&mut line))
            .await
            .map_err(|_| "the server printed no address within 20 s")?
            .map_err(|e| format!("server stdout: {e}"))?;
        let addr = line
            .trim()
            .parse()
            .map_err(|_| format!("the server printed {line:?}, not an address"))?;
        Ok(Self {
            addr,
            pid,
            child,
            _stdout: stdout,
            start: Instant::now(),
            checker: Checker::default(),
            samples: Vec::new(),
            last: ServerStats::default(),
            stats_failures: 0,
            dead: false,
        })
    }

    fn secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Samples and checks once a second for `span`.
    async fn run_for(&mut self, span: Duration) {
        let end = Instant::now() + span;
        while Instant::now() < end && !self.dead {
            self.tick().await;
            sleep(Duration::from_secs(1).min(end.saturating_duration_since(Instant::now()))).await;
        }
    }

    /// One sample: the server alive, `/stats`, `/proc`.
    async fn tick(&mut self) {
        let at = self.secs();
        if let Ok(Some(status)) = self.child.try_wait() {
            self.checker
                .fail("server_exited", at, format!("the server exited: {status}"));
            self.dead = true;
            return;
        }
        match http::get(self.addr, "/stats", Duration::from_secs(5)).await {
            Ok((200, body)) => match serde_json::from_slice::<ServerStats>(&body) {
                Ok(stats) => {
                    self.stats_failures = 0;
                    self.checker.counts(&stats, at);
                    self.last = stats;
                }
                Err(e) => self.checker.fail(
                    "stats_unreachable",
                    at,
                    format!("/stats is not our JSON: {e}"),
                ),
            },
            other => {
                self.stats_failures += 1;
                if self.stats_failures >= 3 {
                    self.checker.fail(
                        "stats_unreachable",
                        at,
                        format!("/stats failed 3 times in a row, last: {other:?}"),
                    );
                }
            }
        }
        if let (Some(fds), Some(rss_kib)) = (check::fds(self.pid), check::rss_kib(self.pid)) {
            self.samples.push(Sample {
                secs: at,
                fds,
                tasks: self.last.tasks,
                rss_kib,
            });
        }
    }

    /// The quiet end of a phase: at least `span`, and until the descriptors
    /// and tasks are back at the baseline (10 s more at most). Returns the
    /// last counts.
    async fn quiet(&mut self, span: Duration, baseline: Baseline) -> (u64, u64) {
        let end = Instant::now() + span;
        // Once they failed to come back, later phases need not wait for them.
        let failed = self
            .checker
            .violations
            .iter()
            .any(|v| matches!(v.invariant, "fd_baseline" | "task_baseline"));
        let give_up = if failed {
            end
        } else {
            end + Duration::from_secs(10)
        };
        let (mut fds_back, mut tasks_back) = (false, false);
        loop {
            self.tick().await;
            let (fds, tasks) = self.samples.last().map_or((0, 0), |s| (s.fds, s.tasks));
            fds_back |= fds <= baseline.fds + FD_SLACK;
            tasks_back |= tasks <= baseline.tasks + TASK_SLACK;
            let now = Instant::now();
            if self.dead || (now >= end && fds_back && tasks_back) || now >= give_up {
                break;
            }
            sleep(Duration::from_millis(500)).await;
        }
        let (fds, tasks) = self.samples.last().map_or((0, 0), |s| (s.fds, s.tasks));
        let at = self.secs();
        if !fds_back {
            let detail = format!(
                "{fds} descriptors open after the load, baseline {} (+{FD_SLACK})",
                baseline.fds
            );
            self.checker.fail("fd_baseline", at, detail);
        }
        if !tasks_back {
            let detail = format!(
                "{tasks} tasks alive after the load, baseline {} (+{TASK_SLACK})",
                baseline.tasks
            );
            self.checker.fail("task_baseline", at, detail);
        }
        (fds, tasks)
    }

    /// After the last phase and the watchers: every stream ends and is
    /// counted, and the descriptors are back at the baseline.
    async fn finish(&mut self, baseline: Baseline) {
        let baseline_fds = baseline.fds;
        let give_up = Instant::now() + Duration::from_secs(15);
        while !self.dead {
            self.tick().await;
            let fds = self.samples.last().map_or(0, |s| s.fds);
            if check::settled(&self.last) && fds <= baseline_fds + FD_SLACK {
                return;
            }
            if Instant::now() >= give_up {
                let s = &self.last;
                let at = self.secs();
                let detail = format!(
                    "15 s after the load: {} streams open, {} connects, {} disconnects, {} by reason, {fds} descriptors (baseline {baseline_fds})",
                    s.open,
                    s.connects,
                    s.disconnects,
                    s.reasons.iter().sum::<u64>()
                );
                self.checker.fail("final_settle", at, detail);
                return;
            }
            sleep(Duration::from_millis(500)).await;
        }
    }

    /// RSS growth in MiB/min, fitted over the second half of the run after
    /// warm-up; `None` when that half is under 30 s.
    fn rss_slope(&self, warmup_end: f64) -> Option<f64> {
        let from = warmup_end + (self.secs() - warmup_end) / 2.0;
        let points: Vec<_> = self
            .samples
            .iter()
            .filter(|s| s.secs >= from)
            .map(|s| (s.secs / 60.0, s.rss_kib as f64 / 1024.0))
            .collect();
        let span = points.last()?.0 - points.first()?.0;
        if span * 60.0 < 30.0 {
            return None;
        }
        check::slope(&points)
    }
}
