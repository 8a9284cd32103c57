//! The driver's report: a table row per phase, a summary, and the JSON file.

use serde::Serialize;

use super::check::{Violation, reasons_text};
use super::extras::Extras;
use super::nats::Restart;
use super::tls_load::Burst;
use super::watch::WatcherResult;
use crate::stats::ServerStats;

/// One phase: load, then quiet until descriptors are back at the baseline.
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct PhaseRow {
    pub(super) phase: u64,
    pub(super) start_secs: f64,
    pub(super) end_secs: f64,
    pub(super) connects: u64,
    pub(super) disconnects: u64,
    /// Disconnects in this phase by reason (see `/stats` `reasons`).
    pub(super) reasons: [u64; 6],
    /// Client actions in this phase: churn, resets, half-closes, slow,
    /// stop-reading, junk heads, snapshots 200, snapshots 503, client errors.
    pub(super) clients: [u64; 9],
    pub(super) frames_published: u64,
    pub(super) max_fds: u64,
    pub(super) quiet_fds: u64,
    pub(super) quiet_tasks: u64,
    pub(super) quiet_rss_mib: f64,
    /// HTTPS: churn, churn over h2, half-open closed, half-open not closed,
    /// the longest a half-open connection waited to be closed (ms).
    pub(super) tls: [u64; 5],
    /// The burst past the HTTPS connection cap.
    pub(super) burst: Option<Burst>,
    /// `/capped`: streams served, refusals seen.
    pub(super) capped: [u64; 2],
    /// The NATS broker's restart.
    pub(super) restart: Option<Restart>,
}

/// Everything the run measured, written with `--json`.
#[derive(Debug, Default, Serialize)]
pub(super) struct Report {
    pub(super) seed: u64,
    pub(super) seconds: f64,
    pub(super) baseline_fds: u64,
    pub(super) baseline_tasks: u64,
    pub(super) baseline_rss_mib: f64,
    pub(super) peak_rss_mib: f64,
    pub(super) rss_slope_mib_per_min: Option<f64>,
    /// The bound the slope was held to: `--max-rss-slope`, or the step
    /// allowance over the minutes fitted if that is more.
    pub(super) rss_slope_bound_mib_per_min: Option<f64>,
    /// Whether the run was long enough for the RSS plateau check (and so
    /// had no slope bound).
    pub(super) rss_plateau_checked: bool,
    /// `pinned at 1 MiB` (the default) or `glibc's own` (`--default-malloc`).
    pub(super) mmap_threshold: &'static str,
    pub(super) phases: Vec<PhaseRow>,
    pub(super) watchers: Vec<WatcherResult>,
    pub(super) extras: Extras,
    pub(super) server: ServerStats,
    pub(super) violations: Vec<Violation>,
}

pub(super) fn print_header() {
    println!(
        "{:>5} {:>13} {:>8} {:>8} {:>6} {:>5} {:>5} {:>5} {:>5} {:>7} {:>5} {:>9} {:>13}  disconnect reasons",
        "phase",
        "seconds",
        "connects",
        "disconn",
        "churn",
        "rst",
        "half",
        "slow",
        "stop",
        "junk",
        "snap",
        "published",
        "fds/tasks/rss"
    );
}

pub(super) fn print_row(row: &PhaseRow) {
    let c = &row.clients;
    println!(
        "{:>5} {:>6.0}-{:<6.0} {:>8} {:>8} {:>6} {:>5} {:>5} {:>5} {:>5} {:>7} {:>5} {:>9} {:>4}/{:>3}/{:<4.0}  {}",
        row.phase,
        row.start_secs,
        row.end_secs,
        row.connects,
        row.disconnects,
        c[0],
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        c[6] + c[7],
        row.frames_published,
        row.quiet_fds,
        row.quiet_tasks,
        row.quiet_rss_mib,
        reasons_text(&row.reasons),
    );
    let t = &row.tls;
    let burst = row.burst.as_ref().map_or_else(
        || "no burst".to_owned(),
        |b| {
            format!(
                "burst {}: {} in, {} refused, {} errors, served again after {}",
                b.size,
                b.accepted,
                b.refused,
                b.errors,
                b.recovered_ms
                    .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"))
            )
        },
    );
    let restart = row.restart.as_ref().map_or_else(
        || "no NATS restart".to_owned(),
        |r| {
            format!(
                "NATS down {} ms, frames back after {}",
                r.down_ms,
                r.resumed_ms
                    .map_or_else(|| "never".to_owned(), |ms| format!("{ms} ms"))
            )
        },
    );
    println!(
        "{:>20} https: {} churn ({} h2), half-open {} closed (slowest {} ms) {} not; {burst}; capped: {} served, {} refused; {restart}",
        "", t[0], t[1], t[2], t[4], t[3], row.capped[0], row.capped[1],
    );
}

pub(super) fn print_summary(report: &Report) {
    let s = &report.server;
    println!(
        "\nsoak: {:.0} s, seed {}: {} streams opened and closed ({}), {} frames published over {} hubs; \
         faults: {} stalls, {} big frames, {} empty frames, {} stream errors, {} stream panics, {} stream stalls",
        report.seconds,
        report.seed,
        s.connects,
        reasons_text(&s.reasons),
        s.seq,
        s.generation,
        s.faults.stalls,
        s.faults.big_frames,
        s.faults.empty_frames,
        s.faults.stream_errors,
        s.faults.stream_panics,
        s.faults.stream_stalls,
    );
    let slope = match (
        report.rss_slope_mib_per_min,
        report.rss_slope_bound_mib_per_min,
    ) {
        (Some(slope), Some(bound)) => format!("slope {slope:+.2} MiB/min (bound {bound:.2})"),
        (Some(slope), None) if report.rss_plateau_checked => format!(
            "slope {slope:+.2} MiB/min, held to the plateau (second half <= first half's peak + 5 MiB)"
        ),
        _ => "slope not measured (run too short)".into(),
    };
    println!(
        "soak: descriptors baseline {}, tasks baseline {}; RSS baseline {:.1} MiB, peak {:.1} MiB, {slope}; mmap threshold {}",
        report.baseline_fds,
        report.baseline_tasks,
        report.baseline_rss_mib,
        report.peak_rss_mib,
        report.mmap_threshold,
    );
    let nats = report
        .extras
        .nats_watchers
        .iter()
        .map(|w| (w, " (NATS: not scored)"));
    let all = report.watchers.iter().map(|w| (w, "")).chain(nats);
    for (i, (w, note)) in all.enumerate() {
        println!(
            "soak: watcher {i} ({}): {} of {} frames ({:.2}%) over {} sessions{note}",
            w.what,
            w.received,
            w.expected,
            w.ratio * 100.0,
            w.sessions
        );
    }
    if report.violations.is_empty() {
        println!("soak: all invariants held");
    } else {
        for v in &report.violations {
            println!(
                "soak: VIOLATION {} at {:.1} s: {}",
                v.invariant, v.at_secs, v.detail
            );
        }
    }
}
