//! The JSON report written by `--json PATH`.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::measure::{Measured, Outcome};
use super::plan::{Mode, Transport};
use super::report::{Report, cpu_ratio, ratio};
use super::targets::Target;
use crate::server::Kind;

pub(super) fn write_json(
    path: &Path,
    r: &Report,
    targets: &[Target],
    total: Duration,
) -> Result<(), String> {
    let scenarios: Vec<Value> = r
        .outcomes
        .iter()
        .map(|(sc, o)| {
            let mut v = json!({
                "name": sc.name().split_whitespace().collect::<Vec<_>>().join(" "),
                "server": sc.kind.name(),
                "transport": match sc.transport {
                    Transport::Plain => "http/1.1".to_owned(),
                    Transport::Tls => "http/1.1 over TLS".to_owned(),
                    Transport::H2(n) => format!("h2 over TLS (ALPN), {n} streams per connection"),
                },
                "framing": if sc.kind == Kind::Raw { "raw (AdvanceHeaders bytes)" } else if sc.standard { "Standard" } else { "AdvanceHeaders" },
                "mode": sc.mode.name(),
                "viewers": sc.viewers,
                "slow_viewers": sc.slow,
                "fps": if sc.mode == Mode::Unpaced { Value::Null } else { json!(sc.fps) },
                "frame_bytes": sc.size,
                // The ceiling's closing run of a bracketed load: its ratios
                // are to the opening run (the host's drift in between).
                "ceiling_again": sc.closing,
            });
            match o {
                Outcome::Skipped(w) => v["skipped"] = json!(w),
                Outcome::Failed(w) => v["failed"] = json!(w),
                Outcome::Done(m) => {
                    let c = r.reference(sc);
                    let rt = |f: fn(&Measured) -> f64| {
                        c.as_ref().and_then(|c| ratio(f(m), f(c)))
                            .map_or(Value::Null, |x| json!(x))
                    };
                    let rc = |f: fn(&Measured) -> f64| {
                        c.as_ref().and_then(|c| cpu_ratio(m, c, f))
                            .map_or(Value::Null, |x| json!(x))
                    };
                    v["result"] = json!({
                        "window_s": m.window_s,
                        "warmup_s": m.warm_s,
                        "published_in_window": m.published,
                        "delivered_share_min": m.share_min,
                        "delivered_share_median": m.share_median,
                        "fps_per_viewer_min": m.fps_min,
                        "fps_per_viewer_median": m.fps_median,
                        "delivered_mb_per_s": m.mbps,
                        "latency_ms": {"p50": m.lat_p50_ms, "p99": m.lat_p99_ms, "max": m.lat_max_ms},
                        "server_cpu_s": m.cpu_s,
                        "server_cpu_pct_of_one_core": m.cpu_pct,
                        "server_cpu_s_per_gb": if m.cpu_s_per_gb.is_finite() { json!(m.cpu_s_per_gb) } else { Value::Null },
                        "load_generator_cpu_pct": m.client_cpu_pct,
                        "server_rss_start_kib": m.rss_start_kib,
                        "server_rss_end_kib": m.rss_end_kib,
                        "server_rss_peak_kib": m.rss_peak_kib,
                        "server_rss_per_viewer_kib": m.rss_per_viewer_kib,
                        "errors": m.errors,
                        "ratio_to_ceiling": {
                            "mb_per_s": rt(|m| m.mbps),
                            "latency_p99": rt(|m| m.lat_p99_ms),
                            "cpu_pct": rc(|m| m.cpu_pct),
                            "cpu_s_per_gb": rc(|m| m.cpu_s_per_gb),
                            "rss_per_viewer": rt(|m| m.rss_per_viewer_kib),
                        },
                        "ratio_to_plain_http1": r.plain_twin(sc).map_or(Value::Null, |p| json!({
                            "cpu_pct": cpu_ratio(m, p, |m| m.cpu_pct),
                            "cpu_s_per_gb": cpu_ratio(m, p, |m| m.cpu_s_per_gb),
                        })),
                        "load_generator": m.load,
                        "server_stats_before": m.server_before,
                        "server_stats_after": m.server_after,
                    });
                }
            }
            v
        })
        .collect();
    let doc = json!({
        "quick": r.quick,
        "window_s": r.timing.window.as_secs_f64(),
        "total_s": total.as_secs_f64(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "notes": super::notes(),
        "scenarios": scenarios,
        "side_by_side": super::side::json(&r.side),
        "targets": targets.iter().map(|t| json!({
            "target": t.what,
            "value": t.value,
            "met": t.met,
        })).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))
}
