//! The paced 1000-viewer load side by side with the ceiling, in the full
//! run: each hub server and the raw ceiling at once, each under its own
//! load generator, their CPU read over the same seconds (what `bench pair
//! --other-kind raw` does, `--pairs` times per server).
//!
//! Timed one after the other, the ceiling against itself moves by up to a
//! third within one run on this shared host (the `again` rows); side by
//! side, both servers meet the same host, so the ratio keeps only what
//! differs between them.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::pair::{SETTLE_S, Setup, WINDOW_S, one_pair};
use super::plan::FRAME;
use super::process::Stop;
use super::targets::{MAX_CPU_RATIO, Target};
use crate::server::Kind;

/// One pair: `[user, system]` CPU seconds of the hub server and of the
/// ceiling over the same window.
#[derive(Clone, Debug)]
pub(super) struct Pair {
    pub(super) hub_first: bool,
    pub(super) hub: [f64; 2],
    pub(super) raw: [f64; 2],
}

impl Pair {
    /// The hub server's total CPU over the ceiling's.
    pub(super) fn ratio(&self) -> f64 {
        let total = |t: [f64; 2]| t[0] + t[1];
        total(self.hub) / total(self.raw).max(1e-9)
    }
}

/// Every pair of one hub server (`Err`: the pair failed, and why).
#[derive(Debug)]
pub(super) struct SideBySide {
    pub(super) kind: Kind,
    pub(super) pairs: Vec<Result<Pair, String>>,
}

/// Runs `pairs` pairs for each hub server of `kinds`, alternating which
/// of the two starts first.
pub(super) fn run(exe: &Path, kinds: &[Kind], pairs: usize) -> Vec<SideBySide> {
    kinds
        .iter()
        .filter(|&&k| k != Kind::Raw)
        .map(|&kind| {
            let setup = Setup {
                kinds: [kind.name().to_owned(), Kind::Raw.name().to_owned()],
                viewers: 1000,
                fps: 30.0,
                size: FRAME,
                settle: Duration::from_secs_f64(SETTLE_S),
                window: Duration::from_secs_f64(WINDOW_S),
            };
            let pairs = (0..pairs)
                .map(|i| {
                    eprint!("[pair {}/{pairs}] {} beside raw ... ", i + 1, kind.name());
                    let hub_first = i % 2 == 0;
                    let res = one_pair(&setup, [exe, exe], !hub_first).map(|[hub, raw]| Pair {
                        hub_first,
                        hub,
                        raw,
                    });
                    let res = res.map_err(|s| match s {
                        Stop::Skip(w) | Stop::Fail(w) => w,
                    });
                    match &res {
                        Ok(p) => eprintln!("{:.3}x", p.ratio()),
                        Err(w) => eprintln!("FAILED: {w}"),
                    }
                    res
                })
                .collect();
            SideBySide { kind, pairs }
        })
        .collect()
}

/// The target: at most [`MAX_CPU_RATIO`] in at least four of five pairs.
pub(super) fn target(s: &SideBySide) -> Target {
    let n = s.pairs.len();
    let needed = if n >= 5 { n - n / 5 } else { n };
    let good = s
        .pairs
        .iter()
        .filter(|p| p.as_ref().is_ok_and(|p| p.ratio() <= MAX_CPU_RATIO))
        .count();
    let list: Vec<String> = s
        .pairs
        .iter()
        .map(|p| {
            p.as_ref()
                .map_or("-".to_owned(), |p| format!("{:.2}", p.ratio()))
        })
        .collect();
    Target {
        what: format!(
            "{}: paced 1000x30fps side by side with the ceiling, server CPU <= {MAX_CPU_RATIO}x in >= {needed} of {n} pairs",
            s.kind.name()
        ),
        value: format!("{} x ({good} of {n} met)", list.join(" ")),
        met: Some(n > 0 && good >= needed),
    }
}

/// Every pair's CPU, as printed under the table.
pub(super) fn text(all: &[SideBySide]) -> String {
    let mut out = String::new();
    if all.iter().all(|s| s.pairs.is_empty()) {
        return out;
    }
    out.push_str(&format!(
        "Side by side with the ceiling (1000 viewers x 30 fps x 50 KB each, CPU s over the same {WINDOW_S:.0} s; user / system):\n"
    ));
    for s in all {
        for (i, p) in s.pairs.iter().enumerate() {
            let k = s.kind.name();
            match p {
                Ok(p) => out.push_str(&format!(
                    "- {k} pair {}: {k} {:.2} / {:.2}, raw {:.2} / {:.2}, {:.3}x ({} started first)\n",
                    i + 1,
                    p.hub[0],
                    p.hub[1],
                    p.raw[0],
                    p.raw[1],
                    p.ratio(),
                    if p.hub_first { k } else { "raw" }
                )),
                Err(w) => out.push_str(&format!("- {k} pair {}: FAILED: {w}\n", i + 1)),
            }
        }
    }
    out
}

/// The pairs for the JSON report.
pub(super) fn json(all: &[SideBySide]) -> Value {
    let rows: Vec<Value> = all
        .iter()
        .flat_map(|s| {
            s.pairs.iter().map(|p| match p {
                Ok(p) => json!({
                    "server": s.kind.name(),
                    "started_first": if p.hub_first { s.kind.name() } else { "raw" },
                    "server_cpu_s": {"user": p.hub[0], "system": p.hub[1]},
                    "ceiling_cpu_s": {"user": p.raw[0], "system": p.raw[1]},
                    "ratio": p.ratio(),
                }),
                Err(w) => json!({"server": s.kind.name(), "failed": w}),
            })
        })
        .collect();
    json!({
        "viewers": 1000,
        "fps": 30,
        "frame_bytes": FRAME,
        "window_s": WINDOW_S,
        "pairs": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(hub: f64, raw: f64) -> Result<Pair, String> {
        Ok(Pair {
            hub_first: true,
            hub: [hub * 0.1, hub * 0.9],
            raw: [raw * 0.1, raw * 0.9],
        })
    }

    #[test]
    fn four_of_five_pairs_at_most_the_bound_meet_the_target() {
        let mut s = SideBySide {
            kind: Kind::Axum,
            pairs: vec![
                pair(5.5, 5.0),
                pair(5.0, 5.0),
                pair(6.0, 5.0),
                pair(5.2, 5.0),
                pair(5.1, 5.0),
            ],
        };
        let t = target(&s);
        assert_eq!(t.met, Some(true), "{}", t.value);
        assert!(
            t.value
                .starts_with("1.10 1.00 1.20 1.04 1.02 x (4 of 5 met)")
        );
        s.pairs[1] = Err("the load saw errors".into());
        let t = target(&s);
        assert_eq!(t.met, Some(false), "{}", t.value);
        assert!(t.value.contains(" - "), "{}", t.value);
        s.pairs.clear();
        assert_eq!(target(&s).met, Some(false), "no pairs, nothing met");
    }
}
