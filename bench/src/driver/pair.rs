//! `bench pair`: this build's server and another build's, side by side, each
//! under its own load, so that both see the same host at the same time.
//!
//! On this shared 2-core machine a server's CPU time moves by a third from
//! run to run (see `misses`), so a change worth a few percent cannot be
//! timed one build after the other. Run together, the two servers share
//! whatever the host does meanwhile: `bench pair --server-exe OTHER` starts
//! this build's server and OTHER's (both `bench` executables), gives each
//! its own load generator (this build's) with the same viewers, and reads
//! both servers' user and system CPU over the same seconds (`--other-kind
//! raw` compares a server with the ceiling the same way). It does so
//! `--pairs` times, swapping which server starts first, and reports every
//! pair. Two servers and two loads share the two cores, so the absolute
//! figures are higher than alone: only the comparison counts.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::measure::{delivered, load_args, server_args};
use super::process::{Proc, Stop, fail, mark};
use crate::args::Args;
use crate::sys::cpu_times;

/// What a pair compares, with the load both servers get.
pub(super) struct Setup {
    /// This build's server, and the other's.
    pub(super) kinds: [String; 2],
    pub(super) viewers: usize,
    pub(super) fps: f64,
    pub(super) size: usize,
    pub(super) settle: Duration,
    pub(super) window: Duration,
    /// Unpaced (`--unpaced`): the servers publish as fast as the viewers
    /// read; otherwise paced at `fps`.
    pub(super) unpaced: bool,
}

/// What one server did in a pair's window.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Sample {
    /// CPU seconds in user space and in the kernel.
    pub(super) user: f64,
    pub(super) sys: f64,
    /// Payload delivered to its viewers, MB/s (as the bench's table counts it).
    pub(super) mbps: f64,
}

impl Sample {
    pub(super) fn cpu(&self) -> f64 {
        self.user + self.sys
    }
}

/// How long both loads settle before the window, and the window.
pub(super) const SETTLE_S: f64 = 3.0;
pub(super) const WINDOW_S: f64 = 12.0;

/// One server under its load.
struct Side {
    server: Proc,
    load: Proc,
}

pub(crate) fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(()) => 0,
        Err(Stop::Skip(why) | Stop::Fail(why)) => {
            eprintln!("bench pair: {why}");
            1
        }
    }
}

fn run(args: &[String]) -> Result<(), Stop> {
    let a = Args::parse(args, &["unpaced"]).map_err(fail)?;
    let this = std::env::current_exe().map_err(|e| fail(format!("own path: {e}")))?;
    let other = a
        .str("server-exe")
        .map_or_else(|| this.clone(), PathBuf::from);
    let kind = a.str("kind").unwrap_or("axum").to_owned();
    let other_kind = a.str("other-kind").unwrap_or(&kind).to_owned();
    if other == this && other_kind == kind {
        return Err(fail(
            "give --server-exe (another build) or --other-kind (another server)",
        ));
    }
    let viewers = a.get("viewers", 1000).map_err(fail)?;
    let setup = Setup {
        kinds: [kind, other_kind],
        viewers,
        fps: a.get("fps", 30.0).map_err(fail)?,
        size: a.get("size", 50_000).map_err(fail)?,
        settle: Duration::from_secs_f64(a.get("settle", SETTLE_S).map_err(fail)?),
        window: Duration::from_secs_f64(a.get("seconds", WINDOW_S).map_err(fail)?),
        unpaced: a.flag("unpaced"),
    };
    let pairs: usize = a.get("pairs", 4).map_err(fail)?;
    if pairs == 0 {
        return Err(fail("--pairs must be at least 1"));
    }
    let rate = if setup.unpaced {
        "unpaced".to_owned()
    } else {
        format!("{} fps", setup.fps)
    };
    println!(
        "this: {} of {}; other: {} of {}; {} viewers x {rate} x {} KB each; \
         CPU seconds over {:.0} s, {} pairs",
        setup.kinds[0],
        this.display(),
        setup.kinds[1],
        other.display(),
        setup.viewers,
        setup.size / 1000,
        setup.window.as_secs_f64(),
        pairs
    );
    println!("pair  first  this user / sys   MB/s  other user / sys   MB/s");
    let mut sums = [[0.0; 3]; 2];
    let mut this_lower = 0;
    for i in 0..pairs {
        let [this_cpu, other_cpu] = one_pair(&setup, [&this, &other], i % 2 == 1)?;
        println!(
            "{:>4}  {:<5}  {:>6.2} / {:>5.2}  {:>5.0}  {:>7.2} / {:>5.2}  {:>5.0}",
            i + 1,
            if i % 2 == 1 { "other" } else { "this" },
            this_cpu.user,
            this_cpu.sys,
            this_cpu.mbps,
            other_cpu.user,
            other_cpu.sys,
            other_cpu.mbps
        );
        for (sum, cpu) in sums.iter_mut().zip([this_cpu, other_cpu]) {
            sum[0] += cpu.user;
            sum[1] += cpu.sys;
            sum[2] += cpu.mbps;
        }
        if this_cpu.user < other_cpu.user {
            this_lower += 1;
        }
    }
    let n = pairs as f64;
    let [this_sum, other_sum] = sums;
    println!(
        "mean  this user {:.2} s, total {:.2} s; other user {:.2} s, total {:.2} s",
        this_sum[0] / n,
        (this_sum[0] + this_sum[1]) / n,
        other_sum[0] / n,
        (other_sum[0] + other_sum[1]) / n
    );
    println!(
        "this / other: user {:.3}, total {:.3}, MB/s {:.3}; this used less user CPU in {this_lower} of {pairs} pairs",
        this_sum[0] / other_sum[0].max(1e-9),
        (this_sum[0] + this_sum[1]) / (other_sum[0] + other_sum[1]).max(1e-9),
        this_sum[2] / other_sum[2].max(1e-9)
    );
    Ok(())
}

/// Runs both servers under load at once; what each did over the window,
/// in `exes` order. `swap` starts the second first.
pub(super) fn one_pair(setup: &Setup, exes: [&Path; 2], swap: bool) -> Result<[Sample; 2], Stop> {
    let order = if swap { [1, 0] } else { [0, 1] };
    let mut started: Vec<(usize, Side)> = Vec::new();
    for at in order {
        started.push((at, start(setup, exes[0], exes[at], &setup.kinds[at])?));
    }
    started.sort_by_key(|(at, _)| *at);
    let mut sides: Vec<Side> = started.into_iter().map(|(_, side)| side).collect();
    for side in &mut sides {
        side.load.json("warm ", Duration::from_secs(90))?;
    }
    std::thread::sleep(setup.settle);
    // Both loads start, and later stop, before either's result is read, so
    // that their windows cover the same seconds.
    let mut opened = Vec::new();
    for side in &mut sides {
        mark(&mut side.server, &mut side.load, "start")?;
        opened.push(Instant::now());
    }
    let before = times(&sides)?;
    std::thread::sleep(setup.window);
    let after = times(&sides)?;
    let mut windows = Vec::new();
    for (side, at) in sides.iter_mut().zip(&opened) {
        mark(&mut side.server, &mut side.load, "stop")?;
        windows.push(at.elapsed());
    }
    let mut mbps = [0.0; 2];
    for ((side, mbps), window) in sides.iter_mut().zip(&mut mbps).zip(windows) {
        let result = side.load.json("result ", Duration::from_secs(30))?;
        if result["errors"].as_u64().unwrap_or(0) > 0 {
            return Err(fail(format!(
                "the load saw errors: {}",
                result["error_samples"]
            )));
        }
        // As the table counts it (paced: between this side's start and stop).
        let secs = window.as_secs_f64();
        let (payload, secs) = delivered(&result, setup.unpaced, secs);
        *mbps = payload / secs / 1e6;
    }
    for side in sides {
        side.load.finish();
        side.server.finish();
    }
    let sample = |i: usize| Sample {
        user: after[i][0] - before[i][0],
        sys: after[i][1] - before[i][1],
        mbps: mbps[i],
    };
    Ok([sample(0), sample(1)])
}

/// `server_exe`'s `kind` server with its own load generator (`exe`'s), connecting.
fn start(setup: &Setup, exe: &Path, server_exe: &Path, kind: &str) -> Result<Side, Stop> {
    let server_args = server_args(kind, setup.viewers, setup.fps, setup.size, setup.unpaced);
    let mut server = Proc::spawn("server", server_exe, &server_args)?;
    let addr = server.expect("ready ", Duration::from_secs(20))?;
    let load = Proc::spawn("load", exe, &load_args(addr, setup.viewers))?;
    Ok(Side { server, load })
}

fn times(sides: &[Side]) -> Result<Vec<[f64; 2]>, Stop> {
    sides
        .iter()
        .map(|side| {
            cpu_times(side.server.pid())
                .map(|(user, sys)| [user, sys])
                .ok_or_else(|| fail("cannot read server CPU"))
        })
        .collect()
}
