//! The server under test, seen from outside: its process, `/stats` and
//! `/proc` sampled once a second, and the checks that need waiting.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::{Instant, sleep, timeout};

use super::check::{self, Checker};
use super::conn::Tls;
use super::{Args, FD_SLACK, TASK_SLACK, http};
use crate::stats::ServerStats;

/// glibc malloc's tunable for the size from which allocations get their own
/// `mmap` (and go back to the system when freed). Left alone, glibc raises it
/// to the size of the largest block freed (up to 32 MiB): after the first 5 MB
/// frame is freed, later ones come from the heap and stay there as free
/// holes, and RSS climbs in 5 MiB steps while the heap in use stays flat.
pub(super) const MMAP_THRESHOLD: &str = "MALLOC_MMAP_THRESHOLD_";

/// The threshold the driver pins: 1 MiB, above every ordinary frame.
pub(super) const PINNED_MMAP_THRESHOLD: u32 = 1024 * 1024;

/// One sample of the server from outside.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sample {
    pub(super) secs: f64,
    pub(super) fds: u64,
    /// Tasks alive in the server's runtime.
    pub(super) tasks: u64,
    pub(super) rss_kib: u64,
}

/// What the server holds with only the whole-run watchers connected.
#[derive(Clone, Copy, Debug)]
pub(super) struct Baseline {
    pub(super) fds: u64,
    pub(super) tasks: u64,
}

/// The running server and what was seen of it.
pub(super) struct Run {
    pub(super) addr: SocketAddr,
    /// The HTTPS listener and a client trusting its certificate.
    pub(super) tls: Tls,
    pub(super) pid: u32,
    pub(super) child: Child,
    _stdout: BufReader<ChildStdout>,
    pub(super) start: Instant,
    pub(super) checker: Checker,
    pub(super) samples: Vec<Sample>,
    pub(super) last: ServerStats,
    pub(super) stats_failures: u32,
    pub(super) dead: bool,
    /// What the server's malloc does with large blocks, for the report.
    pub(super) mmap_threshold: &'static str,
}

impl Run {
    /// Starts `soak serve` (this same executable), fed over the NATS broker
    /// at `nats` if given, and reads its addresses.
    pub(super) async fn start(args: &Args, nats: Option<&str>) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let replace_every = (args.minutes * 60.0 / 8.0).clamp(4.0, 20.0);
        let mut cmd = Command::new(&exe);
        cmd.args([
            "serve",
            "--seed",
            &args.seed.to_string(),
            "--replace-every",
            &replace_every.to_string(),
        ]);
        if let Some(inject) = args.inject_leak {
            let name = clap::ValueEnum::to_possible_value(&inject)
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            cmd.args(["--inject-leak", &name]);
        }
        if let Some(url) = nats {
            cmd.args(["--nats", url]);
        }
        let mmap_threshold = if std::env::var_os(MMAP_THRESHOLD).is_some() {
            "as MALLOC_MMAP_THRESHOLD_ says"
        } else if args.default_malloc {
            "glibc's own"
        } else {
            cmd.env(MMAP_THRESHOLD, PINNED_MMAP_THRESHOLD.to_string());
            "pinned at 1 MiB"
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{} serve: {e}", exe.display()))?;
        let pid = child.id().ok_or("the server exited at once")?;
        let stdout = child.stdout.take().ok_or("no stdout from the server")?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        timeout(Duration::from_secs(20), stdout.read_line(&mut line))
            .await
            .map_err(|_| "the server printed no address within 20 s")?
            .map_err(|e| format!("server stdout: {e}"))?;
        let addr = line
            .trim()
            .parse()
            .map_err(|_| format!("the server printed {line:?}, not an address"))?;
        line.clear();
        timeout(Duration::from_secs(20), stdout.read_line(&mut line))
            .await
            .map_err(|_| "the server printed no HTTPS address within 20 s")?
            .map_err(|e| format!("server stdout: {e}"))?;
        let tls = parse_tls_line(&line)
            .ok_or_else(|| format!("the server printed {line:?}, not `tls ADDR CERT`"))??;
        Ok(Self {
            addr,
            tls,
            pid,
            child,
            _stdout: stdout,
            start: Instant::now(),
            checker: Checker::default(),
            samples: Vec::new(),
            last: ServerStats::default(),
            stats_failures: 0,
            dead: false,
            mmap_threshold,
        })
    }

    pub(super) fn secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Samples and checks once a second for `span`.
    pub(super) async fn run_for(&mut self, span: Duration) {
        let end = Instant::now() + span;
        while Instant::now() < end && !self.dead {
            self.tick().await;
            sleep(Duration::from_secs(1).min(end.saturating_duration_since(Instant::now()))).await;
        }
    }

    /// One sample: the server alive, `/stats`, `/proc`.
    pub(super) async fn tick(&mut self) {
        let at = self.secs();
        if let Ok(Some(status)) = self.child.try_wait() {
            self.checker
                .fail("server_exited", at, format!("the server exited: {status}"));
            self.dead = true;
            return;
        }
        match http::get(self.addr, "/stats", Duration::from_secs(5)).await {
            Ok((200, body)) => match serde_json::from_slice::<ServerStats>(&body) {
                Ok(stats) => {
                    self.stats_failures = 0;
                    self.checker.counts(&stats, at);
                    self.last = stats;
                }
                Err(e) => self.checker.fail(
                    "stats_unreachable",
                    at,
                    format!("/stats is not our JSON: {e}"),
                ),
            },
            other => {
                self.stats_failures += 1;
                if self.stats_failures >= 3 {
                    self.checker.fail(
                        "stats_unreachable",
                        at,
                        format!("/stats failed 3 times in a row, last: {other:?}"),
                    );
                }
            }
        }
        if let (Some(fds), Some(rss_kib)) = (check::fds(self.pid), check::rss_kib(self.pid)) {
            self.samples.push(Sample {
                secs: at,
                fds,
                tasks: self.last.tasks,
                rss_kib,
            });
        }
    }

    /// The quiet end of a phase: at least `span`, and until the descriptors
    /// and tasks are back at the baseline (10 s more at most). Returns the
    /// last counts.
    pub(super) async fn quiet(&mut self, span: Duration, baseline: Baseline) -> (u64, u64) {
        let end = Instant::now() + span;
        // Once they failed to come back, later phases need not wait for them.
        let failed = self
            .checker
            .violations
            .iter()
            .any(|v| matches!(v.invariant, "fd_baseline" | "task_baseline"));
        let give_up = if failed {
            end
        } else {
            end + Duration::from_secs(10)
        };
        let (mut fds_back, mut tasks_back) = (false, false);
        loop {
            self.tick().await;
            let (fds, tasks) = self.samples.last().map_or((0, 0), |s| (s.fds, s.tasks));
            fds_back |= fds <= baseline.fds + FD_SLACK;
            tasks_back |= tasks <= baseline.tasks + TASK_SLACK;
            let now = Instant::now();
            if self.dead || (now >= end && fds_back && tasks_back) || now >= give_up {
                break;
            }
            sleep(Duration::from_millis(500)).await;
        }
        let (fds, tasks) = self.samples.last().map_or((0, 0), |s| (s.fds, s.tasks));
        let at = self.secs();
        if !fds_back {
            let detail = format!(
                "{fds} descriptors open after the load, baseline {} (+{FD_SLACK})",
                baseline.fds
            );
            self.checker.fail("fd_baseline", at, detail);
        }
        if !tasks_back {
            let detail = format!(
                "{tasks} tasks alive after the load, baseline {} (+{TASK_SLACK})",
                baseline.tasks
            );
            self.checker.fail("task_baseline", at, detail);
        }
        (fds, tasks)
    }

    /// Once a phase's load is gone, `/capped` has no stream open and serves
    /// a new viewer: every slot came back.
    pub(super) async fn capped_slots_back(&mut self) {
        let open = self.last.capped.open;
        let status = super::capped::probe(self.addr).await;
        if open != 0 || status != Some(200) {
            let at = self.secs();
            let detail =
                format!("after the load /capped has {open} streams open and answers {status:?}");
            self.checker.fail("capped_slots", at, detail);
        }
    }

    /// After the last phase and the watchers: every stream ends and is
    /// counted, and the descriptors are back at the baseline.
    pub(super) async fn finish(&mut self, baseline: Baseline) {
        let baseline_fds = baseline.fds;
        let give_up = Instant::now() + Duration::from_secs(15);
        while !self.dead {
            self.tick().await;
            let fds = self.samples.last().map_or(0, |s| s.fds);
            if check::settled(&self.last) && fds <= baseline_fds + FD_SLACK {
                self.metrics_agree().await;
                return;
            }
            if Instant::now() >= give_up {
                let s = &self.last;
                let at = self.secs();
                let detail = format!(
                    "15 s after the load: {} streams open, {} connects, {} disconnects, {} by reason, {fds} descriptors (baseline {baseline_fds})",
                    s.open,
                    s.connects,
                    s.disconnects,
                    s.reasons.iter().sum::<u64>()
                );
                self.checker.fail("final_settle", at, detail);
                return;
            }
            sleep(Duration::from_millis(500)).await;
        }
    }

    /// Once everything has settled, the layer's metrics (`/metrics`, feature
    /// `metrics`) say what its callbacks said: no viewer and no byte queued
    /// left, and as many disconnects by reason as `on_disconnect` counted.
    async fn metrics_agree(&mut self) {
        let at = self.secs();
        let text = match http::get(self.addr, "/metrics", Duration::from_secs(5)).await {
            Ok((200, body)) => String::from_utf8_lossy(&body).into_owned(),
            other => {
                let detail = format!("GET /metrics: {other:?}");
                return self.checker.fail("metrics_agree", at, detail);
            }
        };
        let gauge = |name: &str| check::metric_sum(&text, name, None);
        let (viewers, queued) = (gauge("mjpeg_viewers"), gauge("mjpeg_queued_bytes"));
        let mut by_reason = [0u64; 6];
        for (i, reason) in crate::stats::REASONS.iter().enumerate() {
            by_reason[i] = check::metric_sum(&text, "mjpeg_disconnects_total", Some(reason)) as u64;
        }
        by_reason[5] +=
            check::metric_sum(&text, "mjpeg_disconnects_total", Some("memory_budget")) as u64;
        // The metrics count every layer's viewers: `/capped` has a layer of its own.
        let s = &self.last;
        let reasons: [u64; 6] = std::array::from_fn(|i| s.reasons[i] + s.capped.reasons[i]);
        if viewers != 0.0 || queued != 0.0 || by_reason != reasons {
            let detail = format!(
                "metrics: {viewers} viewers, {queued} bytes queued, disconnects {} ; callbacks: {}",
                check::reasons_text(&by_reason),
                check::reasons_text(&reasons)
            );
            self.checker.fail("metrics_agree", at, detail);
        }
    }

    /// RSS growth in MiB/min, fitted over the second half of the run after
    /// warm-up, and the minutes fitted; `None` when that half is under 30 s.
    pub(super) fn rss_slope(&self, warmup_end: f64) -> Option<(f64, f64)> {
        let from = warmup_end + (self.secs() - warmup_end) / 2.0;
        let points: Vec<_> = self
            .samples
            .iter()
            .filter(|s| s.secs >= from)
            .map(|s| (s.secs / 60.0, s.rss_kib as f64 / 1024.0))
            .collect();
        let span = points.last()?.0 - points.first()?.0;
        if span * 60.0 < 30.0 {
            return None;
        }
        Some((check::slope(&points)?, span))
    }
}

/// `tls <address> <certificate DER in hex>`, as `soak serve` prints it.
fn parse_tls_line(line: &str) -> Option<Result<Tls, String>> {
    let mut words = line.split_whitespace();
    if words.next()? != "tls" {
        return None;
    }
    let addr = words.next()?.parse().ok()?;
    let hex = words.next()?;
    let der = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(Tls::new(addr, der))
}
