//! The report: every scenario's outcome, compared with the raw ceiling of the
//! same load, as a table.

use super::measure::{Measured, Outcome, Timing};
use super::plan::{Mode, Scenario, Transport};
use super::side::SideBySide;
use crate::server::Kind;

/// Every scenario run, in order, with how it ended.
pub(super) struct Report {
    pub(super) outcomes: Vec<(Scenario, Outcome)>,
    pub(super) quick: bool,
    pub(super) timing: Timing,
    /// The targets' loads (paced 1000 viewers, unpaced 100 and 1000) run
    /// side by side with the ceiling.
    pub(super) side: Vec<SideBySide>,
}

/// `a / b` when both are measured and `b` is not zero.
pub(super) fn ratio(a: f64, b: f64) -> Option<f64> {
    (a.is_finite() && b.is_finite() && b.abs() > 1e-12).then(|| a / b)
}

/// CPU times under ten `/proc` ticks (0.1 s) are too coarse to compare.
const MIN_CPU_S: f64 = 0.1;

/// A CPU ratio, when both sides used enough CPU to be measured.
pub(super) fn cpu_ratio(m: &Measured, c: &Measured, f: fn(&Measured) -> f64) -> Option<f64> {
    (m.cpu_s >= MIN_CPU_S && c.cpu_s >= MIN_CPU_S)
        .then(|| ratio(f(m), f(c)))
        .flatten()
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or(String::new(), |r| format!(" ({r:.2}x)"))
}

impl Report {
    /// The ceiling a hub server's row is compared with: the raw server
    /// under the same load, the mean of both its runs when the load was
    /// bracketed (see `plan`).
    pub(super) fn ceiling(&self, sc: &Scenario) -> Option<Measured> {
        if sc.kind == Kind::Raw {
            return None;
        }
        self.ceiling_mean(sc)
    }

    /// The raw server under `sc`'s load: the mean of its runs.
    pub(super) fn ceiling_mean(&self, sc: &Scenario) -> Option<Measured> {
        let runs: Vec<&Measured> = self
            .outcomes
            .iter()
            .filter_map(|(s, o)| match o {
                Outcome::Done(m) if s.kind == Kind::Raw && s.same_load(sc) => Some(&**m),
                _ => None,
            })
            .collect();
        (!runs.is_empty()).then(|| Measured::mean(&runs))
    }

    /// What a row is compared with in the table: a hub server with its
    /// ceiling, and the ceiling's closing run with its opening one (how far
    /// the host moved during the run).
    pub(super) fn reference(&self, sc: &Scenario) -> Option<Measured> {
        if !sc.closing {
            return self.ceiling(sc);
        }
        self.outcomes.iter().find_map(|(s, o)| match o {
            Outcome::Done(m) if s.kind == Kind::Raw && !s.closing && s.same_load(sc) => {
                Some((**m).clone())
            }
            _ => None,
        })
    }

    /// The plain HTTP/1.1 row (default framing) a TLS or HTTP/2 row is
    /// compared with: same server, mode, rate and frame size, and the
    /// nearest number of viewers (1000 for 64 x 16 HTTP/2 streams).
    pub(super) fn plain_twin(&self, sc: &Scenario) -> Option<&Measured> {
        if sc.transport == Transport::Plain {
            return None;
        }
        self.outcomes
            .iter()
            .filter_map(|(s, o)| match o {
                Outcome::Done(m)
                    if s.transport == Transport::Plain
                        && !s.standard
                        && s.kind == sc.kind
                        && s.mode == sc.mode
                        && s.slow == sc.slow
                        && s.fps == sc.fps
                        && s.size == sc.size =>
                {
                    Some((s.viewers.abs_diff(sc.viewers), &**m))
                }
                _ => None,
            })
            .min_by_key(|(d, _)| *d)
            .filter(|(d, _)| *d * 10 <= sc.viewers)
            .map(|(_, m)| m)
    }

    /// TLS and HTTP/2 rows against their plain twins: server CPU (% of a
    /// core, and per GB delivered, which evens out 1024 streams against
    /// 1000 viewers) and the delivered share.
    pub(super) fn transport_text(&self) -> String {
        let mut out = String::new();
        for (sc, o) in &self.outcomes {
            let (Outcome::Done(m), Some(p)) = (o, self.plain_twin(sc)) else {
                continue;
            };
            if out.is_empty() {
                out.push_str("TLS and HTTP/2 against plain HTTP/1.1 (same server, same rate):\n");
            }
            out.push_str(&format!(
                "- {}: server CPU {:.0}% vs {:.0}%{}, {:.2} vs {:.2} CPU s/GB{}, every viewer >= {:.1}% of frames, {} errors\n",
                sc.name().split_whitespace().collect::<Vec<_>>().join(" "),
                m.cpu_pct,
                p.cpu_pct,
                fmt_ratio(cpu_ratio(m, p, |m| m.cpu_pct)),
                m.cpu_s_per_gb,
                p.cpu_s_per_gb,
                fmt_ratio(cpu_ratio(m, p, |m| m.cpu_s_per_gb)),
                m.share_min * 100.0,
                m.errors,
            ));
        }
        out
    }

    pub(super) fn table(&self) -> String {
        let mut out = String::new();
        let head = format!(
            "{:<50} | {:>13} | {:>17} | {:>28} | {:>15} | {:>17} | {:>7} | {:>16} | {:>3} | {:>6}",
            "scenario (x: to ceiling mean; again: to its 1st)",
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
                    out.push_str(&format!("{name:<50} | skipped: {w}\n"));
                    continue;
                }
                Outcome::Failed(w) => {
                    out.push_str(&format!("{name:<50} | FAILED: {w}\n"));
                    continue;
                }
            };
            let c = self.reference(sc);
            let r = |f: fn(&Measured) -> f64| c.as_ref().and_then(|c| ratio(f(m), f(c)));
            let rc = |f: fn(&Measured) -> f64| c.as_ref().and_then(|c| cpu_ratio(m, c, f));
            // Unpaced raw writes the latest part again and again: no share.
            let share = if sc.mode == Mode::Unpaced && sc.kind == Kind::Raw {
                "n/a".to_owned()
            } else {
                format!("{:.1}/{:.1}%", m.share_min * 100.0, m.share_median * 100.0)
            };
            out.push_str(&format!(
                "{:<50} | {:>13} | {:>17} | {:>28} | {:>15} | {:>17} | {:>7.1} | {:>16} | {:>3} | {:>5.0}%\n",
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
}
