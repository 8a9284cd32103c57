//! The invariants of the HTTPS limits, `/capped` and the NATS faults that
//! are checked after each phase and at the end of the run.

use serde::Serialize;

use super::capped::CappedTally;
use super::check::Checker;
use super::nats::{RESUME_BOUND, Restart};
use super::tls_load::{Burst, CLOSE_SLACK, TlsTally};
use super::watch::WatcherResult;
use crate::serve::tls::limits::{HEAD_TIMEOUT, MAX_CONNECTIONS};
use crate::stats::ServerStats;

/// What the run did beyond the plain mix, for the JSON report.
#[derive(Debug, Default, Serialize)]
pub(super) struct Extras {
    /// `[churn, churn over h2, half-open closed, half-open not closed, longest wait ms]`.
    pub(super) tls: [u64; 5],
    pub(super) bursts: Vec<Burst>,
    /// `/capped`: streams served, refusals seen.
    pub(super) capped: [u64; 2],
    /// Why the NATS part did not run, if it did not.
    pub(super) nats_skipped: Option<String>,
    pub(super) restarts: Vec<Restart>,
    pub(super) nats_watchers: Vec<WatcherResult>,
}

/// A burst past the cap got the refusal and the server recovered.
pub(super) fn check_burst(checker: &mut Checker, at: f64, b: &Burst) {
    let cap = MAX_CONNECTIONS as u64;
    let decided = b.accepted + b.refused + b.errors;
    if decided == b.size && (b.accepted > cap || b.refused < b.size - cap) {
        checker.fail(
            "tls_cap",
            at,
            format!(
                "a burst of {} TLS connections against a cap of {cap}: {} handshakes done, {} refused (at least {} must be)",
                b.size,
                b.accepted,
                b.refused,
                b.size - cap
            ),
        );
    }
    if b.recovery_done && b.recovered_ms.is_none() {
        checker.fail(
            "tls_cap_recovery",
            at,
            "no new HTTPS viewer served within 10 s after a burst past the cap".into(),
        );
    }
}

/// The broker came back and the `/nats` watchers got live frames within the bound.
pub(super) fn check_restart(checker: &mut Checker, at: f64, r: &Restart) {
    if let Some(e) = &r.failed {
        checker.fail(
            "nats_broker",
            at,
            format!("the broker did not restart: {e}"),
        );
    } else if r
        .resumed_ms
        .is_none_or(|ms| ms > RESUME_BOUND.as_millis() as u64)
    {
        checker.fail(
            "nats_resume",
            at,
            format!(
                "live /nats frames resumed {} after the broker came back (bound {RESUME_BOUND:?})",
                r.resumed_ms
                    .map_or_else(|| "never".to_owned(), |ms| format!("{ms} ms"))
            ),
        );
    }
}

/// At the end of the run: half-open connections were all closed, `/capped`
/// answered only as documented and counted every refusal, the `/nats`
/// viewers were never disconnected and the bridge counted each restart.
pub(super) fn check_end(
    checker: &mut Checker,
    at: f64,
    server: &ServerStats,
    tls: &TlsTally,
    capped: &CappedTally,
    extras: &Extras,
) {
    let [_, _, closed, not_closed, _] = tls.read();
    if not_closed > 0 {
        checker.fail(
            "tls_half_open",
            at,
            format!(
                "{not_closed} of {} half-sent handshakes or heads were not closed within {:?}",
                closed + not_closed,
                HEAD_TIMEOUT + CLOSE_SLACK
            ),
        );
    }
    let bad = capped.bad();
    if !bad.is_empty() {
        checker.fail(
            "capped_status",
            at,
            format!("/capped answered other than 200 or 503 with Retry-After: {bad:?}"),
        );
    }
    let [_, refused] = capped.read();
    if server.capped.rejected != refused {
        checker.fail(
            "capped_refusals",
            at,
            format!(
                "/capped's layer counted {} refusals, its clients got {refused}",
                server.capped.rejected
            ),
        );
    }
    for w in &extras.nats_watchers {
        if w.sessions > 1 {
            checker.fail(
                "nats_viewers_kept",
                at,
                format!(
                    "{} was disconnected: {} sessions over the run",
                    w.what, w.sessions
                ),
            );
        }
    }
    if let Some(n) = &server.nats {
        let restarts = extras.restarts.len() as u64;
        let counted = [
            n.origin_disconnects,
            n.origin_reconnects,
            n.edge_disconnects,
            n.edge_reconnects,
        ];
        if counted.iter().any(|&c| c != restarts) {
            checker.fail(
                "nats_counts",
                at,
                format!(
                    "{restarts} broker restarts, but the origin counted {} disconnects and {} reconnects, the edge {} and {}",
                    counted[0], counted[1], counted[2], counted[3]
                ),
            );
        }
    }
}
