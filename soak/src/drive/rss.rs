//! The RSS bounds: a plateau for long runs, a slope for short ones (see
//! the README's "Soak" section for why).

use super::report::PhaseRow;
use super::run::Run;

/// RSS growth over the second half of a run that is never a violation (see
/// `--max-rss-slope`): what a short run cannot tell from a leak.
///
/// With the mmap threshold pinned (the default) each 5 MB frame has a
/// mapping of its own, given back when the frame is freed, and RSS follows
/// the heap: 15 MiB, three such frames alive at one sample (the hub's latest
/// and two per-request streams', the heap's peak under heaptrack). With
/// glibc's own threshold, freed 5 MB frames stay in the heap and RSS rises in
/// 5 MiB steps to where the frames alive at once have been at most: 24 MiB.
pub(super) fn rss_allowance_mib(default_malloc: bool) -> f64 {
    if default_malloc { 24.0 } else { 15.0 }
}

/// Phases a run needs before the RSS plateau is checked.
pub(super) const PLATEAU_MIN_PHASES: usize = 6;

/// Checks that RSS levels off: at the end of every phase of the second half,
/// RSS is at most the peak of the first half plus one 5 MB frame. The
/// allocator may keep what the heap once held (a burst of 240 TLS
/// connections, a few 5 MB frames at once), so RSS can climb towards the
/// first half's peak; a leak goes on past it.
pub(super) fn check_rss_plateau(run: &mut Run, phases: &[PhaseRow]) {
    if phases.len() < PLATEAU_MIN_PHASES {
        return;
    }
    let mid = phases[phases.len() / 2].start_secs;
    let peak = run
        .samples
        .iter()
        .filter(|s| s.secs < mid)
        .map(|s| s.rss_kib as f64 / 1024.0)
        .fold(0.0, f64::max);
    let bound = peak + 5.0;
    if let Some(row) = phases
        .iter()
        .filter(|r| r.start_secs >= mid)
        .find(|r| r.quiet_rss_mib > bound)
    {
        let detail = format!(
            "RSS {:.1} MiB after phase {}, above the first half's peak {peak:.1} MiB + 5 MiB",
            row.quiet_rss_mib, row.phase
        );
        run.checker.fail("rss_plateau", row.end_secs, detail);
    }
}
