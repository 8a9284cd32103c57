//! The targets' loads side by side with the ceiling, in the full run: each
//! hub server and the raw ceiling at once, each under its own load
//! generator, their CPU and delivered MB/s read over the same seconds (what
//! `bench pair --other-kind raw [--unpaced]` does): `--pairs` times paced
//! (1000 viewers x 30 fps, server CPU), `--unpaced-pairs` times unpaced at
//! 100 and 1000 viewers (MB/s). A pair that fails or is skipped fails the
//! run (a skipped scenario does not).
//!
//! Timed one after the other, the ceiling against itself moves by up to a
//! third within one run on this shared host (the `again` rows); side by
//! side, both servers meet the same host, so the ratio keeps only what
//! differs between them.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::pair::{SETTLE_S, Sample, Setup, WINDOW_S, one_pair};
use super::plan::FRAME;
use super::process::Stop;
use super::targets::{MAX_CPU_RATIO, MIN_UNPACED_RATIO, Target, at_most, needed, ratio_list};
use crate::server::Kind;

/// The loads run side by side: the ones whose targets compare with the
/// ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Load {
    /// 1000 viewers x 30 fps x 50 KB: server CPU.
    Paced,
    /// This many viewers, as fast as they read: MB/s delivered.
    Unpaced(usize),
}

impl Load {
    fn name(self) -> String {
        match self {
            Self::Paced => "paced 1000x30fps".to_owned(),
            Self::Unpaced(n) => format!("unpaced {n} viewers"),
        }
    }

    fn setup(self, kind: Kind) -> Setup {
        let (viewers, unpaced) = match self {
            Self::Paced => (1000, false),
            Self::Unpaced(n) => (n, true),
        };
        Setup {
            kinds: [kind.name().to_owned(), Kind::Raw.name().to_owned()],
            viewers,
            fps: 30.0,
            size: FRAME,
            settle: Duration::from_secs_f64(SETTLE_S),
            window: Duration::from_secs_f64(WINDOW_S),
            unpaced,
        }
    }
}

/// One pair: what the hub server and the ceiling did over the same window.
#[derive(Clone, Debug)]
pub(super) struct Pair {
    pub(super) hub_first: bool,
    pub(super) hub: Sample,
    pub(super) raw: Sample,
}

impl Pair {
    /// The hub server's total CPU over the ceiling's.
    pub(super) fn cpu_ratio(&self) -> f64 {
        self.hub.cpu() / self.raw.cpu().max(1e-9)
    }

    /// The hub server's MB/s over the ceiling's.
    pub(super) fn mbps_ratio(&self) -> f64 {
        self.hub.mbps / self.raw.mbps.max(1e-9)
    }

    /// What the load's target compares.
    fn ratio(&self, load: Load) -> f64 {
        match load {
            Load::Paced => self.cpu_ratio(),
            Load::Unpaced(_) => self.mbps_ratio(),
        }
    }
}

/// Every pair of one hub server under one load (`Err`: the pair failed,
/// and why).
#[derive(Debug)]
pub(super) struct SideBySide {
    pub(super) kind: Kind,
    pub(super) load: Load,
    pub(super) pairs: Vec<Result<Pair, String>>,
}

/// For each hub server of `kinds`: `paced` pairs of the paced load, then
/// `unpaced` pairs at 100 and at 1000 viewers, alternating which of the
/// two starts first.
pub(super) fn run(exe: &Path, kinds: &[Kind], paced: usize, unpaced: usize) -> Vec<SideBySide> {
    let mut out = Vec::new();
    for &kind in kinds.iter().filter(|&&k| k != Kind::Raw) {
        for (load, n) in [
            (Load::Paced, paced),
            (Load::Unpaced(100), unpaced),
            (Load::Unpaced(1000), unpaced),
        ] {
            let setup = load.setup(kind);
            let pairs = (0..n)
                .map(|i| {
                    eprint!(
                        "[pair {}/{n}] {} beside raw, {} ... ",
                        i + 1,
                        kind.name(),
                        load.name()
                    );
                    let hub_first = i % 2 == 0;
                    let res = one_pair(&setup, [exe, exe], !hub_first)
                        .map(|[hub, raw]| Pair {
                            hub_first,
                            hub,
                            raw,
                        })
                        .map_err(|s| match s {
                            Stop::Skip(w) | Stop::Fail(w) => w,
                        });
                    match &res {
                        Ok(p) => {
                            eprintln!("CPU {:.3}x, MB/s {:.3}x", p.cpu_ratio(), p.mbps_ratio())
                        }
                        Err(w) => eprintln!("FAILED: {w}"),
                    }
                    res
                })
                .collect();
            out.push(SideBySide { kind, load, pairs });
        }
    }
    out
}

/// The target of one server's pairs. Paced: server CPU at most
/// [`MAX_CPU_RATIO`] in at least four of five pairs (all, with fewer).
/// Unpaced: all pairs' MB/s together at least [`MIN_UNPACED_RATIO`] of
/// the ceiling's.
pub(super) fn target(s: &SideBySide) -> Target {
    let n = s.pairs.len();
    let ratios: Vec<Option<f64>> = s
        .pairs
        .iter()
        .map(|p| p.as_ref().ok().map(|p| p.ratio(s.load)))
        .collect();
    let list = ratio_list(&ratios);
    let k = s.kind.name();
    match s.load {
        Load::Paced => {
            let needed = needed(n);
            let good = at_most(&ratios, MAX_CPU_RATIO);
            Target {
                what: format!(
                    "{k}: {} side by side with the ceiling, server CPU <= {MAX_CPU_RATIO}x in >= {needed} of {n} pairs",
                    s.load.name()
                ),
                value: format!("{list} x ({good} of {n} met)"),
                met: Some(n > 0 && good >= needed),
            }
        }
        Load::Unpaced(_) => {
            let ok: Vec<&Pair> = s.pairs.iter().filter_map(|p| p.as_ref().ok()).collect();
            let sum = |f: fn(&Pair) -> f64| ok.iter().map(|p| f(p)).sum::<f64>();
            let ratio = sum(|p| p.hub.mbps) / sum(|p| p.raw.mbps).max(1e-9);
            Target {
                what: format!(
                    "{k}: {} side by side with the ceiling, MB/s of all {n} pairs >= {MIN_UNPACED_RATIO}x",
                    s.load.name()
                ),
                value: format!("{ratio:.2} x (per pair {list})"),
                met: Some(n > 0 && ok.len() == n && ratio >= MIN_UNPACED_RATIO),
            }
        }
    }
}

/// Every pair, as printed under the table.
pub(super) fn text(all: &[SideBySide]) -> String {
    let mut out = String::new();
    if all.iter().all(|s| s.pairs.is_empty()) {
        return out;
    }
    out.push_str(&format!(
        "Side by side with the ceiling (each under its own load, over the same {WINDOW_S:.0} s; CPU s user / system, MB/s):\n"
    ));
    for s in all {
        for (i, p) in s.pairs.iter().enumerate() {
            let k = s.kind.name();
            let load = s.load.name();
            match p {
                Ok(p) => out.push_str(&format!(
                    "- {k}, {load}, pair {}: {k} {:.2} / {:.2} s, {:.0} MB/s; raw {:.2} / {:.2} s, {:.0} MB/s; CPU {:.3}x, MB/s {:.3}x ({} started first)\n",
                    i + 1,
                    p.hub.user,
                    p.hub.sys,
                    p.hub.mbps,
                    p.raw.user,
                    p.raw.sys,
                    p.raw.mbps,
                    p.cpu_ratio(),
                    p.mbps_ratio(),
                    if p.hub_first { k } else { "raw" }
                )),
                Err(w) => out.push_str(&format!("- {k}, {load}, pair {}: FAILED: {w}\n", i + 1)),
            }
        }
    }
    out
}

/// The pairs for the JSON report.
pub(super) fn json(all: &[SideBySide]) -> Value {
    let sample =
        |s: &Sample| json!({"user_cpu_s": s.user, "system_cpu_s": s.sys, "mb_per_s": s.mbps});
    let rows: Vec<Value> = all
        .iter()
        .flat_map(|s| {
            s.pairs.iter().map(move |p| {
                let mut v = json!({
                    "server": s.kind.name(),
                    "load": s.load.name(),
                    "viewers": match s.load { Load::Paced => 1000, Load::Unpaced(n) => n },
                });
                match p {
                    Ok(p) => {
                        v["started_first"] = json!(if p.hub_first { s.kind.name() } else { "raw" });
                        v["server_measured"] = sample(&p.hub);
                        v["ceiling_measured"] = sample(&p.raw);
                        v["cpu_ratio"] = json!(p.cpu_ratio());
                        v["mb_per_s_ratio"] = json!(p.mbps_ratio());
                    }
                    Err(w) => v["failed"] = json!(w),
                }
                v
            })
        })
        .collect();
    json!({
        "frame_bytes": FRAME,
        "fps_when_paced": 30,
        "window_s": WINDOW_S,
        "pairs": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(hub: f64, raw: f64) -> Result<Pair, String> {
        let sample = |cpu: f64, mbps: f64| Sample {
            user: cpu * 0.1,
            sys: cpu * 0.9,
            mbps,
        };
        Ok(Pair {
            hub_first: true,
            hub: sample(hub, hub * 100.0),
            raw: sample(raw, raw * 100.0),
        })
    }

    #[test]
    fn four_of_five_paced_pairs_at_most_the_bound_meet_the_target() {
        let mut s = SideBySide {
            kind: Kind::Axum,
            load: Load::Paced,
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

    #[test]
    fn unpaced_pairs_are_judged_on_all_their_megabytes_together() {
        // 0.90x and 1.01x: 1.00 + 4.04 = 5.04 against 1.11 + 4.0 = 5.11.
        let mut s = SideBySide {
            kind: Kind::Warp,
            load: Load::Unpaced(1000),
            pairs: vec![pair(1.0, 1.11), pair(4.04, 4.0)],
        };
        let t = target(&s);
        assert_eq!(t.met, Some(true), "{}", t.value);
        assert_eq!(t.value, "0.99 x (per pair 0.90 1.01)");
        s.pairs[1] = pair(3.5, 4.0);
        assert_eq!(target(&s).met, Some(false), "0.88x together");
        s.pairs[1] = Err("FAILED".into());
        assert_eq!(target(&s).met, Some(false), "a failed pair fails it");
    }
}
