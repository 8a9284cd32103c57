//! The invariants, checked from outside: the server's `/stats` and `/proc`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::{CappedStats, NatsStats, REASONS, ServerStats};

/// Samples in a row a counting invariant may fail before it is a violation:
/// callbacks run just after the layer's own count moves, so one sample can
/// catch them in between; a leak stays.
const PERSIST: u32 = 3;

/// A failed invariant.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Violation {
    pub(super) invariant: &'static str,
    pub(super) at_secs: f64,
    pub(super) detail: String,
}

/// The invariants' state over the run.
#[derive(Debug, Default)]
pub(super) struct Checker {
    pub(super) violations: Vec<Violation>,
    /// Samples in a row each counting invariant failed.
    streak: BTreeMap<&'static str, u32>,
}

impl Checker {
    /// Records a violation (each invariant once, with its first occurrence).
    pub(super) fn fail(&mut self, invariant: &'static str, at_secs: f64, detail: String) {
        if self.violations.iter().all(|v| v.invariant != invariant) {
            eprintln!("soak: VIOLATION {invariant} at {at_secs:.1} s: {detail}");
            self.violations.push(Violation {
                invariant,
                at_secs,
                detail,
            });
        }
    }

    fn persistent(&mut self, invariant: &'static str, holds: bool, at_secs: f64, detail: String) {
        let streak = self.streak.entry(invariant).or_default();
        *streak = if holds { 0 } else { *streak + 1 };
        if *streak >= PERSIST {
            self.fail(invariant, at_secs, detail);
        }
    }

    /// The counting invariants on one `/stats` sample. A sample whose
    /// counters moved while the server read them says nothing either way.
    pub(super) fn counts(&mut self, s: &ServerStats, at_secs: f64) {
        if !s.settled {
            return;
        }
        let open_by_counts = s.connects as i64 - s.disconnects as i64;
        self.persistent(
            "open_streams",
            s.open as i64 == open_by_counts,
            at_secs,
            format!(
                "the layer has {} streams open, but connects - disconnects = {} - {} = {open_by_counts}",
                s.open, s.connects, s.disconnects
            ),
        );
        let by_reason: u64 = s.reasons.iter().sum();
        self.persistent(
            "disconnect_reasons",
            by_reason == s.disconnects,
            at_secs,
            format!(
                "{} disconnects, but the reasons add up to {by_reason}",
                s.disconnects
            ),
        );
        self.persistent(
            "connect_count",
            s.connects == s.layer_total,
            at_secs,
            format!(
                "{} on_connect calls, but the layer counts {} connections",
                s.connects, s.layer_total
            ),
        );
        if s.reasons[5] > 0 {
            self.fail(
                "disconnect_reasons",
                at_secs,
                format!("{} disconnects with an unknown reason", s.reasons[5]),
            );
        }
        if s.faults.empty_accepted > 0 {
            self.fail(
                "empty_frames",
                at_secs,
                format!("the hub published {} empty frames", s.faults.empty_accepted),
            );
        }
        self.capped(&s.capped, at_secs);
        if let Some(nats) = &s.nats {
            self.nats(nats, at_secs);
        }
    }

    /// `/capped` never has more than its `max_clients` open, and counts its
    /// streams as its callbacks do.
    fn capped(&mut self, c: &CappedStats, at_secs: f64) {
        if c.open > c.max_clients || c.peak > c.max_clients {
            self.fail(
                "capped_max",
                at_secs,
                format!(
                    "/capped has {} streams open (at most {} at once) with max_clients {}",
                    c.open, c.peak, c.max_clients
                ),
            );
        }
        let by_counts = c.connects as i64 - c.disconnects as i64;
        self.persistent(
            "capped_open",
            c.open as i64 == by_counts,
            at_secs,
            format!(
                "/capped has {} streams open, but connects - disconnects = {by_counts}",
                c.open
            ),
        );
    }

    /// The origin accounts for every frame it took: published, dropped, or
    /// (one at most) waiting to be sent; the edge passes on no more than it got.
    fn nats(&mut self, n: &NatsStats, at_secs: f64) {
        let accounted = n.origin_published + n.origin_dropped;
        self.persistent(
            "nats_counts",
            accounted <= n.attempts && n.attempts <= accounted + 1,
            at_secs,
            format!(
                "the origin took {} frames but published {} and dropped {}",
                n.attempts, n.origin_published, n.origin_dropped
            ),
        );
        if n.edge_published > n.origin_published + n.edge_latest_fetched {
            self.fail(
                "nats_counts",
                at_secs,
                format!(
                    "the edge published {} frames, the origin only {} (+{} latest fetched)",
                    n.edge_published, n.origin_published, n.edge_latest_fetched
                ),
            );
        }
    }
}

/// Every stream closed and counted, each with its reason.
/// The sum of the Prometheus samples of `name` (over all label sets, or
/// those with `reason="..."`) in `text`.
pub(super) fn metric_sum(text: &str, name: &str, reason: Option<&str>) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| reason.is_none_or(|r| l.contains(&format!("reason=\"{r}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub(super) fn settled(s: &ServerStats) -> bool {
    s.open == 0 && s.connects == s.disconnects && s.reasons.iter().sum::<u64>() == s.disconnects
}

/// `/proc/<pid>/fd` entries: the process's open descriptors.
pub(super) fn fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// `VmRSS` of `pid`, in KiB.
pub(super) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The least-squares slope of `(x, y)` points, `None` with fewer than 2
/// distinct `x`.
pub(super) fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (points.len() >= 2 && sxx > 0.0).then(|| sxy / sxx)
}

/// The reasons as `name=count` pairs, for the table.
pub(super) fn reasons_text(reasons: &[u64; 6]) -> String {
    REASONS
        .iter()
        .zip(reasons)
        .filter(|(_, n)| **n > 0)
        .map(|(name, n)| format!("{name}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_summed_by_name_and_reason() {
        let text = "# TYPE mjpeg_viewers gauge\nmjpeg_viewers{stream=\"default\"} 2\n\
                    mjpeg_viewers_other 9\n\
                    mjpeg_disconnects_total{stream=\"a\",reason=\"stopped\"} 3\n\
                    mjpeg_disconnects_total{reason=\"stopped\",stream=\"b\"} 4\n\
                    mjpeg_disconnects_total{stream=\"a\",reason=\"completed\"} 1\n";
        assert_eq!(metric_sum(text, "mjpeg_viewers", None), 2.0);
        assert_eq!(
            metric_sum(text, "mjpeg_disconnects_total", Some("stopped")),
            7.0
        );
        assert_eq!(metric_sum(text, "mjpeg_disconnects_total", None), 8.0);
    }

    #[test]
    fn slope_of_a_line_and_of_too_few_points() {
        let line: Vec<_> = (0..10).map(|x| (x as f64, 3.0 * x as f64 + 1.0)).collect();
        assert!((slope(&line).unwrap() - 3.0).abs() < 1e-9);
        assert_eq!(slope(&[(1.0, 2.0)]), None);
        assert_eq!(slope(&[(1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn a_count_mismatch_is_a_violation_only_when_it_stays() {
        let mut checker = Checker::default();
        let bad = ServerStats {
            open: 1,
            connects: 5,
            disconnects: 3,
            reasons: [3, 0, 0, 0, 0, 0],
            layer_total: 5,
            settled: true,
            ..Default::default()
        };
        let good = ServerStats {
            open: 2,
            ..bad.clone()
        };
        checker.counts(&bad, 1.0);
        checker.counts(&bad, 2.0);
        checker.counts(&good, 3.0);
        checker.counts(&bad, 4.0);
        // A sample taken while the counters moved neither breaks nor extends a streak.
        checker.counts(
            &ServerStats {
                settled: false,
                ..good.clone()
            },
            4.5,
        );
        assert!(checker.violations.is_empty());
        checker.counts(&bad, 5.0);
        checker.counts(&bad, 6.0);
        assert_eq!(checker.violations.len(), 1);
        assert_eq!(checker.violations[0].invariant, "open_streams");
    }
}
