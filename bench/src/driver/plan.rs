//! The plan: every scenario the driver runs, and the frame sizes and queue
//! limits they use.

use super::HWM;
use crate::server::Kind;

pub(super) const FRAME: usize = 50_000;
const SMALL_FRAME: usize = 10_000;
/// Streams per connection in the HTTP/2 scenario (as many as a dashboard page).
pub(super) const H2_STREAMS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Paced,
    Unpaced,
    Slow,
}

impl Mode {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Paced => "paced",
            Self::Unpaced => "unpaced",
            Self::Slow => "slow",
        }
    }
}

/// How the load generator reaches a hub server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Transport {
    /// HTTP/1.1 over TCP.
    Plain,
    /// HTTP/1.1 over TLS.
    Tls,
    /// HTTP/2 over TLS (ALPN `h2`) with this many streams per connection.
    H2(usize),
}

#[derive(Clone, Debug)]
pub(super) struct Scenario {
    pub(super) kind: Kind,
    pub(super) mode: Mode,
    pub(super) viewers: usize,
    pub(super) slow: usize,
    pub(super) fps: f64,
    pub(super) size: usize,
    /// `Framing::Standard` instead of the default `AdvanceHeaders` (hub
    /// servers only; the raw ceiling always writes `AdvanceHeaders` bytes).
    pub(super) standard: bool,
    pub(super) transport: Transport,
    /// Which repetition of its load this is (0: the first; `--repeat N`
    /// runs the paced 1000-viewer scenarios N times).
    pub(super) run: usize,
    /// The ceiling measured a second time, after the servers of its load:
    /// those servers are compared with the mean of both ceiling runs, so a
    /// host whose load drifts during the run does not favour either side.
    pub(super) closing: bool,
}

impl Scenario {
    pub(super) fn name(&self) -> String {
        let who = if self.slow > 0 {
            format!("{}+{}slow", self.viewers, self.slow)
        } else {
            self.viewers.to_string()
        };
        let rate = if self.mode == Mode::Unpaced {
            "max".to_owned()
        } else {
            format!("{}fps", self.fps)
        };
        let kind = match (self.standard, self.transport) {
            (true, _) => format!("{}/std", self.kind.name()),
            (false, Transport::Plain) => self.kind.name().to_owned(),
            (false, Transport::Tls) => format!("{}/tls", self.kind.name()),
            (false, Transport::H2(n)) => format!("{}/h2x{n}", self.kind.name()),
        };
        let mut run = if self.run > 0 {
            format!(" #{}", self.run + 1)
        } else {
            String::new()
        };
        if self.closing {
            run.push_str(" again");
        }
        format!(
            "{:<10} {:<7} {:>11} {:>5} {:>2}KB{run}",
            kind,
            self.mode.name(),
            who,
            rate,
            self.size / 1000
        )
    }

    /// Scenarios with the same load (and repetition) are compared with each
    /// other (raw = ceiling), whatever their framing and transport.
    pub(super) fn same_load(&self, other: &Scenario) -> bool {
        self.run == other.run
            && self.mode == other.mode
            && self.viewers == other.viewers
            && self.slow == other.slow
            && self.fps == other.fps
            && self.size == other.size
    }

    pub(super) fn total(&self) -> usize {
        self.viewers + self.slow
    }
}

/// The loads a target compares with the ceiling (paced 1000 viewers: CPU;
/// unpaced 100 and 1000: MB/s) run bracketed: the ceiling, the hub servers,
/// the ceiling again. The hub servers' order alternates from one bracketed
/// load to the next (`count` is how many came before).
fn bracketed(out: &mut Vec<Scenario>, kinds: &[Kind], load: &Scenario, count: &mut usize) {
    let with = |kind, closing| Scenario {
        kind,
        closing,
        ..load.clone()
    };
    out.push(with(Kind::Raw, false));
    let mut hubs: Vec<Kind> = kinds.iter().copied().filter(|&k| k != Kind::Raw).collect();
    if *count % 2 == 1 {
        hubs.reverse();
    }
    *count += 1;
    out.extend(hubs.into_iter().map(|k| with(k, false)));
    out.push(with(Kind::Raw, true));
}

/// Every scenario; `repeat` is how many times the paced 1000-viewer load runs
/// (each time bracketed by the ceiling, so each ratio is within one run).
pub(super) fn plan(quick: bool, repeat: usize) -> Vec<Scenario> {
    let sc = |kind, mode, viewers, slow, fps, size| Scenario {
        kind,
        mode,
        viewers,
        slow,
        fps,
        size,
        standard: false,
        transport: Transport::Plain,
        run: 0,
        closing: false,
    };
    let kinds: &[Kind] = if quick {
        &[Kind::Raw, Kind::Axum]
    } else {
        &[Kind::Raw, Kind::Axum, Kind::Warp]
    };
    let mut out = Vec::new();
    let mut count = 0;
    for n in [1, 100] {
        for &k in kinds {
            out.push(sc(k, Mode::Paced, n, 0, 30.0, FRAME));
        }
    }
    for run in 0..repeat.max(1) {
        let load = Scenario {
            run,
            ..sc(Kind::Raw, Mode::Paced, 1000, 0, 30.0, FRAME)
        };
        bracketed(&mut out, kinds, &load, &mut count);
    }
    let hubs = || kinds.iter().copied().filter(|&k| k != Kind::Raw);
    // The one `Framing::Standard` row, for comparison with the default.
    for k in hubs() {
        out.push(Scenario {
            standard: true,
            ..sc(k, Mode::Paced, 1000, 0, 30.0, FRAME)
        });
    }
    // The same loads over HTTPS (HTTP/1.1 over TLS; 100 viewers leave the
    // two cores room to decrypt, 1000 is the load of the plain row), and 64
    // HTTP/2 connections of 16 streams each over TLS: compared with the
    // plain rows above.
    for k in hubs() {
        for n in [100, 1000] {
            out.push(Scenario {
                transport: Transport::Tls,
                ..sc(k, Mode::Paced, n, 0, 30.0, FRAME)
            });
        }
        out.push(Scenario {
            transport: Transport::H2(H2_STREAMS),
            ..sc(k, Mode::Paced, 64 * H2_STREAMS, 0, 30.0, FRAME)
        });
    }
    if !quick {
        // Many viewers: 10,000 at 1 fps (mostly idle connections: the
        // memory row) and 2,000 at 30 fps (10 KB frames: 600 MB/s, what
        // two cores shared with the load generator can carry).
        for (n, fps) in [(10_000, 1.0), (2_000, 30.0)] {
            for &k in kinds {
                out.push(sc(k, Mode::Paced, n, 0, fps, SMALL_FRAME));
            }
        }
    }
    if !quick {
        for &k in kinds {
            out.push(sc(k, Mode::Unpaced, 1, 0, 0.0, FRAME));
        }
    }
    for n in [100, 1000] {
        bracketed(
            &mut out,
            kinds,
            &sc(Kind::Raw, Mode::Unpaced, n, 0, 0.0, FRAME),
            &mut count,
        );
    }
    for &k in kinds {
        out.push(sc(k, Mode::Slow, 100, 100, 30.0, FRAME));
    }
    out
}

/// The unpaced producer refills queues once per millisecond (tokio's timer
/// resolution), so a viewer can take at most one high-water mark per
/// millisecond: 512 KiB/ms = 0.5 GB/s. Loopback with few viewers is faster
/// than that, so their queues get room for a millisecond of ~8 GB/s in total.
pub(super) fn unpaced_hwm(viewers: usize) -> usize {
    HWM.max((8 << 20) / viewers.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_runs_the_paced_thousand_again_each_bracketed_by_the_ceiling() {
        let once = plan(false, 1);
        let five = plan(false, 5);
        assert_eq!(five.len(), once.len() + 4 * 4);
        let runs: Vec<&Scenario> = five
            .iter()
            .filter(|s| s.mode == Mode::Paced && s.viewers == 1000 && !s.standard)
            .filter(|s| s.transport == Transport::Plain)
            .collect();
        assert_eq!(runs.len(), 20, "raw, axum, warp and raw again, five times");
        for run in 0..5 {
            let of_run: Vec<&Scenario> = runs.iter().copied().filter(|s| s.run == run).collect();
            let order: Vec<(Kind, bool)> = of_run.iter().map(|s| (s.kind, s.closing)).collect();
            let hubs = if run % 2 == 0 {
                [Kind::Axum, Kind::Warp]
            } else {
                [Kind::Warp, Kind::Axum]
            };
            assert_eq!(
                order,
                [
                    (Kind::Raw, false),
                    (hubs[0], false),
                    (hubs[1], false),
                    (Kind::Raw, true)
                ],
                "run {run}"
            );
            assert!(of_run.iter().all(|s| s.same_load(of_run[0])));
            assert!(
                runs.iter()
                    .filter(|s| s.run != run)
                    .all(|s| !s.same_load(of_run[0]))
            );
        }
        let names: std::collections::HashSet<String> = five.iter().map(Scenario::name).collect();
        assert_eq!(names.len(), five.len(), "every scenario has its own name");
    }

    #[test]
    fn the_unpaced_loads_are_bracketed_too_and_the_order_alternates_between_loads() {
        for quick in [false, true] {
            let p = plan(quick, 1);
            for n in [100, 1000] {
                let load: Vec<(Kind, bool)> = p
                    .iter()
                    .filter(|s| s.mode == Mode::Unpaced && s.viewers == n)
                    .map(|s| (s.kind, s.closing))
                    .collect();
                let mut want = vec![(Kind::Raw, false), (Kind::Axum, false)];
                if !quick {
                    // After the paced 1000 load (axum first): warp first at
                    // 100, axum first again at 1000.
                    let at = if n == 100 { 1 } else { 2 };
                    want.insert(at, (Kind::Warp, false));
                }
                want.push((Kind::Raw, true));
                assert_eq!(load, want, "unpaced {n}, quick {quick}");
            }
        }
    }

    #[test]
    fn the_full_plan_holds_ten_thousand_and_two_thousand_viewers() {
        let full = plan(false, 1);
        for (n, fps) in [(10_000, 1.0), (2_000, 30.0)] {
            let kinds: Vec<Kind> = full
                .iter()
                .filter(|s| s.viewers == n && s.fps == fps && s.mode == Mode::Paced)
                .map(|s| s.kind)
                .collect();
            assert_eq!(kinds, [Kind::Raw, Kind::Axum, Kind::Warp], "{n} x {fps}");
        }
        assert!(!plan(true, 1).iter().any(|s| s.viewers >= 2_000));
    }
}
