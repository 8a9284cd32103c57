//! The end of a window: wait for its last frames in flight, then sum the
//! viewers up into the `result` JSON.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Shared, lock};
use crate::hist::Hist;

/// Waits for the window's last frames in flight, then sums up.
pub(super) fn finish(
    shared: &Shared,
    fast: usize,
    slow: usize,
    lo: u64,
    hi: u64,
    secs: f64,
) -> Value {
    let tasks: Vec<_> = lock(&shared.tasks).clone();
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        let all_in = tasks.iter().all(|t| {
            lock(t)
                .viewers
                .iter()
                .all(|v| v.error.is_some() || v.max_seq.is_some_and(|s| s + 1 >= hi))
        });
        if all_in {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut viewers = Vec::with_capacity(fast);
    let mut hist = Hist::new();
    for t in &tasks {
        let st = lock(t);
        viewers.extend(st.viewers.iter().cloned());
        hist.merge(&st.hist);
    }
    let published = hi.saturating_sub(lo);
    let mut shares: Vec<f64> = viewers
        .iter()
        .map(|v| {
            if published == 0 {
                0.0
            } else {
                v.frames_seq as f64 / published as f64
            }
        })
        .collect();
    shares.sort_by(f64::total_cmp);
    let mut fps: Vec<f64> = viewers.iter().map(|v| v.frames_win as f64 / secs).collect();
    fps.sort_by(f64::total_cmp);
    let mut errors: Vec<String> = viewers
        .iter()
        .filter_map(|v| v.error.clone())
        .chain(
            viewers
                .iter()
                .filter(|v| v.error.is_none() && !v.got_first)
                .map(|_| "no frame received".to_owned()),
        )
        .collect();
    errors.extend(lock(&shared.slow_errors).iter().cloned());
    let missing = fast.saturating_sub(viewers.len());
    let error_count = errors.len() + missing;
    errors.truncate(5);
    let median = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(0.0);
    json!({
        "fast": fast,
        "slow": slow,
        "window_s": secs,
        "seq_lo": lo,
        "seq_hi": hi,
        "published": published,
        "share_min": shares.first().copied().unwrap_or(0.0),
        "share_median": median(&shares),
        "share_max": shares.last().copied().unwrap_or(0.0),
        "fps_min": fps.first().copied().unwrap_or(0.0),
        "fps_median": median(&fps),
        "frames_total": viewers.iter().map(|v| v.frames_total).sum::<u64>(),
        "frames_win": viewers.iter().map(|v| v.frames_win).sum::<u64>(),
        "payload_bytes": viewers.iter().map(|v| v.payload_win).sum::<u64>(),
        "payload_bytes_seq": viewers.iter().map(|v| v.payload_seq).sum::<u64>(),
        "wire_bytes": viewers.iter().map(|v| v.wire_win).sum::<u64>(),
        "repeated_frames": viewers.iter().map(|v| v.repeated).sum::<u64>(),
        "lat_count": hist.count(),
        "lat_p50_us": hist.quantile(0.50),
        "lat_p99_us": hist.quantile(0.99),
        "lat_p999_us": hist.quantile(0.999),
        "lat_max_us": hist.max(),
        "lat_mean_us": hist.mean(),
        "errors": error_count,
        "error_samples": errors,
        "slow_connected": shared.slow_connected.load(Relaxed),
    })
}
