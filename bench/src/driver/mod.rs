//! `bench [--quick] [--json PATH]`: runs every scenario as a server process
//! plus a load-generator process (both this binary), measures the server
//! from the outside (`/proc/<pid>/stat`, `/proc/<pid>/status`), prints the
//! table and the targets, and writes the JSON report.
//!
//! - `plan`: the scenarios;
//! - `process`: the child processes and their line protocol;
//! - `measure`: one scenario's measurement window;
//! - `report`, `targets`, `json`: the table, the targets, the JSON file.

mod flame;
mod html;
mod json;
mod measure;
pub(crate) mod misses;
mod nats;
pub(crate) mod pair;
mod plan;
mod plots;
mod process;
mod report;
mod side;
mod targets;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::server::Kind;
use crate::tls::make_test_pki;
use html::{Page, write_html};
use json::write_json;
use measure::{Outcome, Timing, run_scenario};
use pair::WINDOW_S;
use plan::{Mode, Scenario, Transport, plan};
use process::Stop;
use report::Report;
use targets::targets_text;

/// The layer's default high-water mark, used when paced (unpaced runs raise
/// it: see `plan.rs`).
const HWM: usize = mjpeg_tower::DEFAULT_HIGH_WATER_MARK;

/// How the run was made: printed under the table and written to the JSON.
fn notes() -> Vec<String> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    vec![
        format!(
            "hub servers: FrameHub + MjpegLayer with the default framing (AdvanceHeaders, what users \
             get; the `/std` rows use Framing::Standard for comparison), KeepLatest, the default \
             high-water mark ({} KiB) when paced and max(512 KiB, 8 MiB / viewers) unpaced, served by \
             mjpeg_tower::server::Server with its defaults (connection cap raised to viewers + 64 \
             above 4096) as the adapters' serve helpers use it; frames carry no part headers: sequence number and publish \
             time ride in a JPEG comment segment at the start of each payload",
            HWM / 1024
        ),
        "unpaced hub producer: every 1 ms publishes 1.3x the frames the average viewer took in the \
         last tick (MjpegLayer::stats().frames_sent), plus 20 fps, while the average queue holds less \
         than what the average viewer takes in 3 ms (at least 2 frames), so that these loads stay under the memory budget"
            .into(),
        "paced MB/s counts the frames published in the window (by their stamped sequence number); unpaced MB/s counts what \
         arrived between start and stop"
            .into(),
        "raw: tokio TcpListener, hand-written HTTP/1.1 head, identity body, the same part bytes as \
         AdvanceHeaders (payload, delimiter, next header block) via writev, fan-out through tokio::sync::watch; unpaced raw writes the latest part repeatedly, \
         so its share is not meaningful"
            .into(),
        format!(
            "all listeners use a {} KiB send buffer",
            mjpeg_tower::server::DEFAULT_SEND_BUFFER / 1024
        ),
        "CPU from /proc/<pid>/stat (10 ms ticks; the table's CPU ratios only when both sides used >= 0.1 s); \
         RSS from /proc/<pid>/status; queued bytes per stalled viewer sampled at the end of the window"
            .into(),
        "TLS rows: HTTP/1.1 over TLS (rustls, ring, TLS 1.3) with a test CA made by rcgen at start; \
         h2 rows: HTTP/2 over TLS with ALPN h2 (not h2c), 16 streams per connection, client \
         windows 1 MiB per stream and 16 MiB per connection; both with Server's defaults"
            .into(),
        "bracketed loads (paced 1000 viewers, every run; unpaced 100 and 1000): the ceiling runs \
         before and again after the hub servers (whose order alternates from one such load to the \
         next), and they are compared with the mean of both; the `again` row's ratios are to the ceiling's first \
         run, which shows how far the host moved in between"
            .into(),
        format!(
            "side by side (after the table): a hub server and the ceiling run at once, each under its own \
             load generator, and their CPU (user and system, /proc) and delivered MB/s are read over the \
             same {WINDOW_S} s; the two start in alternating order; a pair that fails or is skipped fails the run"
        ),
        format!("server, load generator (and anything else running) share {cores} cores"),
    ]
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
    let a = Args::parse(args, &["quick", "help", "no-nats"])?;
    if a.flag("help") {
        println!(
            "usage: bench [--quick] [--json PATH] [--html PATH] [--only SUBSTRING] [--window SECS] [--repeat N]\n       \
             --repeat N: the paced 1000-viewer scenarios N times (each time the ceiling, the hub servers, the ceiling again); \
             the targets list every run's CPU ratio\n       \
             --pairs N (default 5; 0 with --quick): then each hub server (axum only with --quick) side by side with the \
             ceiling N times, paced (as bench pair --other-kind raw, about 20 s a pair), and --unpaced-pairs N (default 2; \
             0 with --quick) times unpaced at 100 and at 1000 viewers; --only side runs only these\n       \
             bench server --kind raw|axum|warp|hyper (hyper alone, diagnostics) [--unpaced] [--fps F] [--size BYTES] [--viewers N] [--standard] [--bare: no write-stall or idle timeout]\n       \
             bench load --addr 127.0.0.1:PORT [--viewers N] [--slow N] [--control | --window SECS]\n       \
             bench misses [--kind axum|warp|raw] [--viewers N] [--seconds S] [--top N] [--by misses|instructions] [--server-exe PATH]\n       \
             bench pair [--server-exe PATH] [--kind axum|warp|raw] [--other-kind axum|warp|raw] [--unpaced] [--viewers N] [--fps F] [--size BYTES] [--seconds S] [--settle S] [--pairs N]\n       \
             NATS fan-out (after the scenarios, unless --no-nats or --only is given): \
             [--nats-edges 3] [--nats-viewers 300 per edge; 100 with --quick]"
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
    let html_path = a.str("html").map(PathBuf::from);
    let load_before = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    let only = a.str("only").map(str::to_owned);
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;

    let repeat: usize = a.get("repeat", 1)?;
    let scenarios: Vec<Scenario> = plan(quick, repeat)
        .into_iter()
        .filter(|s| only.as_ref().is_none_or(|o| s.name().contains(o.as_str())))
        .collect();
    // A test CA for the TLS and HTTP/2 scenarios, made now, removed at the end.
    let pki_dir = std::env::temp_dir().join(format!("mjpeg-bench-tls-{}", std::process::id()));
    let pki = if scenarios.iter().any(|s| s.transport != Transport::Plain) {
        Some(make_test_pki(&pki_dir)?)
    } else {
        None
    };
    // Read before the scenarios run: a bad value must not cost a run.
    let pairs: usize = a.get("pairs", if quick { 0 } else { 5 })?;
    let unpaced_pairs: usize = a.get("unpaced-pairs", if quick { 0 } else { 2 })?;
    let edges = a.get("nats-edges", 3)?;
    let per_edge = a.get("nats-viewers", if quick { 100 } else { 300 })?;
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for (i, sc) in scenarios.iter().enumerate() {
        eprint!("[{:>2}/{}] {} ... ", i + 1, scenarios.len(), sc.name());
        let _ = std::io::stderr().flush();
        let t = Instant::now();
        let outcome = match run_scenario(&exe, sc, &timing, pki.as_ref(), None) {
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
    // Side by side with the ceiling; `--only side` runs it alone.
    let side = if only.as_deref().is_none_or(|o| o == "side") {
        let kinds: &[Kind] = if quick {
            &[Kind::Axum]
        } else {
            &[Kind::Axum, Kind::Warp]
        };
        side::run(&exe, kinds, pairs, unpaced_pairs)
    } else {
        Vec::new()
    };
    // The NATS fan-out (#15), in the same run; `--only nats` runs it alone.
    let run_nats = !a.flag("no-nats") && only.as_deref().is_none_or(|o| o == "nats");
    let nats_rows = if run_nats {
        nats::run_all(&exe, edges, per_edge, &timing)
    } else {
        Vec::new()
    };
    // The flame graph for the page: one more 1000-viewer run under perf.
    let flame = html_path.as_ref().map(|_| {
        eprint!("[flame] axum paced 1000 under perf record ... ");
        let f = flame::profile(&exe, &timing);
        eprintln!(
            "{}",
            match &f {
                flame::Flame::Svg(_) => "done".to_owned(),
                flame::Flame::Unavailable(w) => format!("none: {w}"),
            }
        );
        f
    });
    let total = started.elapsed();
    if pki.is_some() {
        let _ = std::fs::remove_dir_all(&pki_dir);
    }

    let report = Report {
        outcomes,
        quick,
        timing,
        side,
    };
    let table = report.table();
    let targets = report.targets();
    println!();
    println!("{table}");
    println!("{}", targets_text(&targets));
    let transports = report.transport_text();
    if !transports.is_empty() {
        println!("{transports}");
    }
    let side_text = side::text(&report.side);
    if !side_text.is_empty() {
        println!("{side_text}");
    }
    if !nats_rows.is_empty() {
        println!("{}", nats::table(&nats_rows));
    }
    println!("total {:.0} s. Notes:", total.as_secs_f64());
    for note in notes() {
        println!("- {note}");
    }
    if let Some(path) = &html_path {
        let command = format!("cargo xtask bench {}", args.join(" "));
        write_html(
            path,
            &Page {
                report: &report,
                table: &table,
                targets: &targets_text(&targets),
                transports: &transports,
                side: &side_text,
                notes: &notes(),
                command: &command,
                total,
                load_before: &load_before,
                flame: flame.as_ref(),
            },
        )?;
        println!("HTML report: {}", path.display());
    }
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
    let failed = failed
        || report
            .side
            .iter()
            .any(|s| s.pairs.iter().any(Result::is_err))
        || nats_rows.iter().any(|r| match r {
            Ok(m) => m.errors > 0,
            Err(why) => why.starts_with("FAILED"),
        });
    if failed {
        eprintln!("bench: a scenario or a pair failed or had errors (see above)");
    }
    Ok(if failed { 1 } else { 0 })
}
