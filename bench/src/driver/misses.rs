//! `bench misses`: cache misses and instructions per delivered frame,
//! counted by cachegrind rather than timed.
//!
//! On this 2-core machine a server's CPU time moves by a third from run to
//! run, so a change worth a few percent cannot be timed. Where the time goes
//! can be counted: the server runs under `valgrind --tool=cachegrind` twice,
//! at 1 and at 3 fps with the same viewers for the same time, and the
//! difference between the two runs, divided by the extra frames delivered,
//! is what one frame costs (connecting, warming up and stopping cancel out).
//!
//! The simulated last-level cache is small (256 KiB) on purpose: on the real
//! machine the frames written between two publish rounds (50 MB at 1,000
//! viewers) evict every viewer's state, so each cache line a frame touches is
//! a miss. A 256 KiB cache does the same to 1,000 viewers' state at any rate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::{Proc, Stop, fail};
use crate::args::Args;

const EVENTS: [&str; 3] = ["Ir", "DLmr", "DLmw"];

/// Totals of one run: per function, instructions and LL misses.
#[derive(Default)]
struct Counts {
    by_fn: HashMap<String, [i64; 3]>,
}

impl Counts {
    fn total(&self) -> [i64; 3] {
        self.by_fn.values().fold([0; 3], |mut acc, c| {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += v;
            }
            acc
        })
    }
}

pub(crate) fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(()) => 0,
        Err(Stop::Skip(why) | Stop::Fail(why)) => {
            eprintln!("bench misses: {why}");
            1
        }
    }
}

fn run(args: &[String]) -> Result<(), Stop> {
    let a = Args::parse(args, &[]).map_err(fail)?;
    let kind = a.str("kind").unwrap_or("axum").to_owned();
    let viewers: usize = a.get("viewers", 1000).map_err(fail)?;
    let secs: u64 = a.get("seconds", 20).map_err(fail)?;
    let top: usize = a.get("top", 15).map_err(fail)?;
    let by_instructions = match a.str("by").unwrap_or("misses") {
        "misses" => false,
        "instructions" => true,
        other => {
            return Err(fail(format!(
                "--by {other}: expected misses or instructions"
            )));
        }
    };
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err(Stop::Skip(
            "valgrind is not installed (Debian: apt-get install valgrind)".into(),
        ));
    }
    let exe = std::env::current_exe().map_err(|e| fail(format!("own path: {e}")))?;
    // Another build's server (`--server-exe path/to/bench`), to compare
    // before and after a change with the same load generator.
    let server_exe = a
        .str("server-exe")
        .map_or_else(|| exe.clone(), PathBuf::from);
    let dir = std::env::temp_dir().join(format!("mjpeg-misses-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    let mut runs = Vec::new();
    for fps in [1, 3] {
        eprintln!(
            "bench misses: {kind}, {viewers} viewers at {fps} fps under cachegrind ({secs} s)..."
        );
        let out = dir.join(format!("cachegrind-{fps}fps.out"));
        let frames = one_run(&exe, &server_exe, &kind, viewers, fps, secs, &out)?;
        runs.push((frames, read_counts(&out)?));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let [(frames1, low), (frames3, high)] =
        <[_; 2]>::try_from(runs).map_err(|_| fail("two runs"))?;
    let frames = frames3.saturating_sub(frames1);
    if frames == 0 {
        return Err(fail(
            "the 3 fps run delivered no more frames than the 1 fps run",
        ));
    }
    let per = |v: i64| v as f64 / frames as f64;
    let (lo, hi) = (low.total(), high.total());
    println!(
        "{kind}, {viewers} viewers, 50 KB frames; cachegrind, LL cache 256 KiB; \
         {frames} more frames delivered at 3 fps than at 1 fps"
    );
    println!(
        "per delivered frame: {:.0} instructions, {:.1} LL misses",
        per(hi[0] - lo[0]),
        per(hi[1] + hi[2] - lo[1] - lo[2])
    );
    let mut rows: Vec<(String, [i64; 3])> = high
        .by_fn
        .iter()
        .map(|(name, c)| {
            let l = low.by_fn.get(name).copied().unwrap_or_default();
            (name.clone(), [c[0] - l[0], c[1] - l[1], c[2] - l[2]])
        })
        .collect();
    if by_instructions {
        rows.sort_by_key(|(_, d)| -d[0]);
    } else {
        rows.sort_by_key(|(_, d)| -(d[1] + d[2]));
    }
    println!("{:>9} {:>12}  function", "LL misses", "instructions");
    for (name, d) in rows.iter().take(top) {
        let name: String = name.chars().take(140).collect();
        println!("{:>9.2} {:>12.0}  {name}", per(d[1] + d[2]), per(d[0]));
    }
    Ok(())
}

/// Runs `server_exe`'s server under cachegrind with `viewers` (`exe`'s load
/// generator) reading for `secs`; returns the frames they got.
fn one_run(
    exe: &Path,
    server_exe: &Path,
    kind: &str,
    viewers: usize,
    fps: u32,
    secs: u64,
    out: &Path,
) -> Result<u64, Stop> {
    let server_args: Vec<String> = [
        "-q",
        "--tool=cachegrind",
        "--cache-sim=yes",
        "--D1=32768,8,64",
        "--LL=262144,8,64",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([
        format!("--cachegrind-out-file={}", out.display()),
        server_exe.display().to_string(),
        "server".into(),
        "--kind".into(),
        kind.into(),
        "--viewers".into(),
        viewers.to_string(),
        "--fps".into(),
        fps.to_string(),
        "--size".into(),
        "50000".into(),
    ])
    .collect();
    let mut server = Proc::spawn("server", Path::new("valgrind"), &server_args)?;
    let addr = server.expect("ready ", Duration::from_secs(120))?;
    let load_args: Vec<String> = [
        "load",
        "--addr",
        &addr,
        "--viewers",
        &viewers.to_string(),
        "--window",
        &secs.to_string(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut load = Proc::spawn("load", exe, &load_args)?;
    let result = load.json("result ", Duration::from_secs(secs + 180))?;
    load.finish();
    if result["errors"].as_u64().unwrap_or(0) > 0 {
        return Err(fail(format!(
            "the load saw errors: {}",
            result["error_samples"]
        )));
    }
    // Closing its stdin stops the server; cachegrind writes its file then.
    if !server.close_and_wait(Duration::from_secs(120)) {
        return Err(fail("the server under cachegrind did not exit"));
    }
    result["frames_total"]
        .as_u64()
        .ok_or_else(|| fail("no frames_total in the load's result"))
}

/// Per function: instructions, LL read and write misses.
fn read_counts(path: &Path) -> Result<Counts, Stop> {
    let text =
        std::fs::read_to_string(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let mut index = None;
    let mut counts = Counts::default();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(names) = line.strip_prefix("events: ") {
            let names: Vec<&str> = names.split_whitespace().collect();
            let mut at = [0; 3];
            for (slot, event) in at.iter_mut().zip(EVENTS) {
                *slot = names
                    .iter()
                    .position(|n| *n == event)
                    .ok_or_else(|| fail("cachegrind file without cache events"))?;
            }
            index = Some(at);
        } else if let Some(name) = line.strip_prefix("fn=") {
            current = Some(name.to_owned());
        } else if line.starts_with(|c: char| c.is_ascii_digit()) {
            let (Some(name), Some(index)) = (&current, &index) else {
                continue;
            };
            let values: Vec<i64> = line
                .split_whitespace()
                .skip(1)
                .map(|v| v.parse().unwrap_or(0))
                .collect();
            let entry = counts.by_fn.entry(name.clone()).or_default();
            for (slot, i) in entry.iter_mut().zip(index) {
                *slot += values.get(*i).copied().unwrap_or(0);
            }
        }
    }
    if index.is_none() {
        return Err(fail(format!("{}: not a cachegrind file", path.display())));
    }
    Ok(counts)
}
