//! Process facts: CPU time and memory from `/proc`, the descriptor limit, the
//! shared clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in nanoseconds (CLOCK_REALTIME: the same clock in every process).
pub(crate) fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// `USER_HZ`: the unit of `/proc/<pid>/stat` times, 100 on every Linux ABI.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// User + system CPU seconds of process `pid` (all its threads), from
/// `/proc/<pid>/stat` (10 ms resolution).
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_times(pid).map(|(user, sys)| user + sys)
}

/// User and system CPU seconds of process `pid` (all its threads).
pub(crate) fn cpu_times(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields start after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((
        utime as f64 / CLOCK_TICKS_PER_SEC,
        stime as f64 / CLOCK_TICKS_PER_SEC,
    ))
}

/// `(VmRSS, VmHWM)` of process `pid`, in KiB.
pub(crate) fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Makes sure this process may open `need` descriptors: raises the soft
/// `RLIMIT_NOFILE` (and the hard one, if allowed) as needed.
pub(crate) fn ensure_nofile(need: u64) -> Result<u64, String> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)
        .map_err(|e| format!("getrlimit(RLIMIT_NOFILE): {e}"))?;
    if soft >= need {
        return Ok(soft);
    }
    let new_hard = hard.max(need);
    rlimit::setrlimit(rlimit::Resource::NOFILE, need, new_hard).map_err(|e| {
        format!("the OS refused RLIMIT_NOFILE {need} (soft {soft}, hard {hard}): {e}")
    })?;
    Ok(need)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).is_some());
        let (rss, hwm) = memory_kib(pid).unwrap();
        assert!(rss > 0 && hwm >= rss);
        assert!(unix_nanos() > 1_600_000_000_000_000_000);
    }
}
