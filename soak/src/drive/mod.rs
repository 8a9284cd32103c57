//! `soak drive`: starts `soak serve`, runs the client mix in phases (load,
//! then quiet) for the whole run while watchers stay connected, checks the
//! invariants every second, prints a table, and fails naming each violation.

mod capped;
mod check;
mod clients;
mod conn;
mod extras;
mod http;
mod nats;
mod report;
mod rss;
mod run;
mod tls_load;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::watch as signal;

use self::capped::CappedTally;
use self::clients::{Load, Tally};
use self::conn::Target;
use self::extras::Extras;
use self::nats::Broker;
use self::report::{PhaseRow, Report};
use self::rss::{PLATEAU_MIN_PHASES, check_rss_plateau, rss_allowance_mib};
use self::run::{Baseline, Run};
use self::tls_load::TlsTally;
use self::watch::Watcher;
use crate::Inject;
use crate::rng::Rng;

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
    /// Viewers that watch the hub for the whole run over plain HTTP (two
    /// more watch it over HTTPS, HTTP/1.1 and h2).
    #[arg(long, default_value_t = 3)]
    watchers: usize,
    /// Leave out the NATS part (it is left out anyway without `nats-server`).
    #[arg(long)]
    no_nats: bool,
    /// Run the server with glibc malloc's own mmap threshold. By default the
    /// driver pins it at 1 MiB (`MALLOC_MMAP_THRESHOLD_`) so that the
    /// server's RSS follows its heap; see the README's "Soak" section.
    #[arg(long)]
    default_malloc: bool,
    /// The RSS growth allowed over the second half of the run, in MiB/min,
    /// but at least [`rss_allowance_mib`] over that half (default 1).
    #[arg(long, default_value_t = 1.0)]
    max_rss_slope: f64,
    /// Plant a fault in the server (for the soak's own tests).
    #[arg(long, value_enum, hide = true)]
    inject_leak: Option<Inject>,
}

/// Descriptors above the baseline still counted as "back at the baseline".
pub(super) const FD_SLACK: u64 = 4;

/// Tasks above the baseline still counted as "back at the baseline".
pub(super) const TASK_SLACK: u64 = 4;

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
        let target = ((total - warmup) / 4.0).clamp(6.0, 60.0);
        let phases = ((total - warmup) / target).round().max(1.0);
        let phase = (total - warmup) / phases;
        Self {
            warmup: Duration::from_secs_f64(warmup),
            phase: Duration::from_secs_f64(phase),
            load: Duration::from_secs_f64(phase * 0.7),
            phases: phases as u64,
        }
    }
}

/// The NATS broker, or why there is none (printed, and in the report).
fn start_broker(args: &Args) -> Result<(Option<Broker>, Option<String>), String> {
    if args.no_nats {
        return Ok((None, Some("--no-nats".into())));
    }
    if let Err(e) = mjpeg_nats::LocalBroker::find() {
        let why = format!("the NATS part is skipped: {e}");
        println!("soak: {why}");
        return Ok((None, Some(why)));
    }
    Ok((Some(Broker::start()?), None))
}

async fn drive(args: &Args) -> Result<Report, String> {
    let total = args.minutes * 60.0;
    let timeline = Timeline::new(total);
    let (broker, nats_skipped) = start_broker(args)?;
    let mut run = Run::start(args, broker.as_ref().map(|b| b.url.as_str())).await?;
    let tally = Arc::new(Tally::default());
    let (tls_tally, capped_tally) = (Arc::<TlsTally>::default(), Arc::<CappedTally>::default());
    let (stop_watchers, watchers_stopped) = signal::channel(false);
    let mut watchers: Vec<_> = (0..args.watchers)
        .map(|_| Watcher::new("plain /hub", Target::Plain(run.addr), "/hub"))
        .collect();
    watchers.push(Watcher::new(
        "https /hub",
        Target::TlsH1(run.tls.clone()),
        "/hub",
    ));
    watchers.push(Watcher::new(
        "h2 /hub",
        Target::TlsH2(run.tls.clone()),
        "/hub",
    ));
    let nats_watchers = match broker {
        Some(_) => vec![
            Watcher::new("plain /nats", Target::Plain(run.addr), "/nats"),
            Watcher::new("h2 /nats", Target::TlsH2(run.tls.clone()), "/nats"),
        ],
        None => Vec::new(),
    };
    let mut watcher_tasks = Vec::new();
    for w in watchers.iter().chain(&nats_watchers) {
        watcher_tasks.push(tokio::spawn(watch::run(
            w.clone(),
            watchers_stopped.clone(),
        )));
    }
    let mut rng = Rng::new(args.seed, 77);
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
        let (tls_before, capped_before) = (tls_tally.read(), capped_tally.read());
        let first_sample = run.samples.len();
        let mut load = Load::start(run.addr, args.seed, phase, &tally);
        let (tasks, stopped) = load.tasks();
        tls_load::start(tasks, &run.tls, &mut rng, &tls_tally, &stopped);
        capped::start(tasks, run.addr, &mut rng, &capped_tally, &stopped);
        let restart = broker.clone().map(|broker| {
            let after = rng.range(1000, (timeline.load.as_millis() as u64 / 3).max(1001));
            let down = rng.range(1000, 3000);
            let watchers = nats_watchers.clone();
            tokio::spawn(async move {
                broker
                    .restart(
                        Duration::from_millis(after),
                        Duration::from_millis(down),
                        watchers,
                    )
                    .await;
            })
        });
        run.run_for(timeline.load).await;
        load.stop().await;
        if let Some(restart) = restart {
            let _ = restart.await;
        }
        let (quiet_fds, quiet_tasks) = run.quiet(timeline.phase - timeline.load, baseline).await;
        run.capped_slots_back().await;
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
            tls: {
                let now = tls_tally.read();
                let max_ms = tls_tally
                    .half_max_ms
                    .swap(0, std::sync::atomic::Ordering::Relaxed);
                [
                    now[0] - tls_before[0],
                    now[1] - tls_before[1],
                    now[2] - tls_before[2],
                    now[3] - tls_before[3],
                    max_ms,
                ]
            },
            burst: tls_tally.bursts().get(phase as usize).cloned(),
            capped: {
                let now = capped_tally.read();
                [now[0] - capped_before[0], now[1] - capped_before[1]]
            },
            restart: broker
                .as_ref()
                .and_then(|b| b.restarts().get(phase as usize).cloned()),
        };
        let at = run.secs();
        if let Some(burst) = &row.burst {
            extras::check_burst(&mut run.checker, at, burst);
        }
        if let Some(restart) = &row.restart {
            extras::check_restart(&mut run.checker, at, restart);
        }
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
        .map(|w| watch::score(&w.what, &w.sessions(), &run.last.retired))
        .collect();
    let extras = Extras {
        tls: {
            // The longest wait is kept per phase (the tally's is reset after each).
            let mut tls = tls_tally.read();
            tls[4] = phases.iter().map(|p| p.tls[4]).max().unwrap_or(0);
            tls
        },
        bursts: tls_tally.bursts(),
        capped: capped_tally.read(),
        nats_skipped,
        restarts: broker.as_ref().map(Broker::restarts).unwrap_or_default(),
        nats_watchers: nats_watchers
            .iter()
            .map(|w| watch::score(&w.what, &w.sessions(), &[]))
            .collect(),
    };
    let at = run.secs();
    extras::check_end(
        &mut run.checker,
        at,
        &run.last,
        &tls_tally,
        &capped_tally,
        &extras,
    );
    for (i, w) in watchers.iter().enumerate() {
        if w.ratio < MIN_FRAME_RATIO {
            let at = run.secs();
            run.checker.fail(
                "watcher_frames",
                at,
                format!(
                    "watcher {i} ({}) got {} of {} frames published while it was connected ({:.2}%)",
                    w.what,
                    w.received,
                    w.expected,
                    w.ratio * 100.0
                ),
            );
        }
    }
    let fit = run.rss_slope(warmup_end);
    // A long run is held to the plateau; a short one, where the allocator
    // has not had time to level off, to a slope.
    let long = phases.len() >= PLATEAU_MIN_PHASES;
    check_rss_plateau(&mut run, &phases);
    let allowance = rss_allowance_mib(args.default_malloc);
    let rss_bound = fit
        .filter(|_| !long)
        .map(|(_, minutes)| args.max_rss_slope.max(allowance / minutes));
    if let (Some((slope, minutes)), Some(bound)) = (fit, rss_bound) {
        if slope > bound {
            let at = run.secs();
            let detail = format!(
                "RSS grew {slope:.2} MiB/min over the last {minutes:.1} min (bound {bound:.2})"
            );
            run.checker.fail("rss_slope", at, detail);
        }
    }
    let _ = run.child.kill().await;
    let report = Report {
        seed: args.seed,
        seconds: run.secs(),
        baseline_fds: baseline.fds,
        baseline_tasks: baseline.tasks,
        baseline_rss_mib: baseline_rss as f64 / 1024.0,
        peak_rss_mib: run.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0,
        rss_slope_mib_per_min: fit.map(|(slope, _)| slope),
        rss_slope_bound_mib_per_min: rss_bound,
        rss_plateau_checked: long,
        mmap_threshold: run.mmap_threshold,
        phases,
        watchers,
        extras,
        server: run.last.clone(),
        violations: run.checker.violations.clone(),
    };
    report::print_summary(&report);
    Ok(report)
}
