//! The flame graph of the page: the 1000-viewer paced scenario (axum, default
//! framing) run once more under `perf record`, folded and drawn with `inferno`.

use std::path::Path;
use std::process::Command;

use inferno::collapse::Collapse;
use inferno::collapse::perf::{Folder, Options as FoldOptions};
use inferno::flamegraph::{self, Options};

use super::measure::{Timing, run_scenario};
use super::plan::{FRAME, Mode, Scenario, Transport};
use super::process::Stop;
use crate::server::Kind;

/// A flame graph, or why there is none.
pub(super) enum Flame {
    /// The SVG text (interactive in a browser; readable as a picture).
    Svg(String),
    Unavailable(String),
}

pub(super) fn profile(exe: &Path, timing: &Timing) -> Flame {
    match try_profile(exe, timing) {
        Ok(svg) => Flame::Svg(svg),
        Err(why) => {
            let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
                .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned());
            Flame::Unavailable(format!("{why} (kernel.perf_event_paranoid = {paranoid})"))
        }
    }
}

fn try_profile(exe: &Path, timing: &Timing) -> Result<String, String> {
    Command::new("perf")
        .arg("--version")
        .output()
        .map_err(|e| format!("perf is not available: {e}"))?;
    let sc = Scenario {
        kind: Kind::Axum,
        mode: Mode::Paced,
        viewers: 1000,
        slow: 0,
        fps: 30.0,
        size: FRAME,
        standard: false,
        transport: Transport::Plain,
        run: 0,
        closing: false,
    };
    let data = std::env::temp_dir().join(format!("mjpeg-bench-{}.perf", std::process::id()));
    let run = run_scenario(exe, &sc, timing, None, Some(&data));
    let result = run
        .map_err(|s| match s {
            Stop::Skip(w) | Stop::Fail(w) => w,
        })
        .and_then(|_| fold_and_draw(&data));
    let _ = std::fs::remove_file(&data);
    result
}

fn fold_and_draw(data: &Path) -> Result<String, String> {
    let script = Command::new("perf")
        .args(["script", "-i"])
        .arg(data)
        .output()
        .map_err(|e| format!("perf script: {e}"))?;
    if !script.status.success() {
        return Err(format!(
            "perf script failed: {}",
            String::from_utf8_lossy(&script.stderr).trim()
        ));
    }
    let mut folded = Vec::new();
    Folder::from(FoldOptions::default())
        .collapse(&script.stdout[..], &mut folded)
        .map_err(|e| format!("folding perf output: {e}"))?;
    let folded = String::from_utf8_lossy(&folded).into_owned();
    if folded.trim().is_empty() {
        return Err("perf recorded no samples".into());
    }
    let mut opts = Options::default();
    opts.title = "mjpeg-tower (axum), 1000 viewers x 30 fps x 50 KB, server process".into();
    opts.count_name = "samples".into();
    let mut svg = Vec::new();
    flamegraph::from_lines(&mut opts, folded.lines(), &mut svg)
        .map_err(|e| format!("drawing the flame graph: {e}"))?;
    let svg = String::from_utf8_lossy(&svg).into_owned();
    // Inline in HTML: drop the XML prolog and doctype.
    Ok(svg
        .find("<svg")
        .map_or(svg.clone(), |i| svg[i..].to_owned()))
}
