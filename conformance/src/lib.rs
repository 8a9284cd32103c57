//! The conformance suite of mjpeg-tower.
//!
//! Starts every backend (axum, warp, the bare tower service) on a loopback
//! port with the same scenario routes, reads the streams with reqwest and a
//! strict multipart parser, and checks one property per check. Run it with
//! `cargo xtask conformance`; see `src/main.rs` for the options.
#![forbid(unsafe_code)]

pub mod backend;
pub mod checks;
pub mod client;
pub mod clients;
pub mod report;

use std::time::{Duration, Instant};

use backend::Backend;
use client::Outcome;
use report::Row;

/// How long one check may run before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `checks` on `backends`, one at a time; `require_clients` turns a skip
/// (a real client missing) into a failure.
pub async fn run(
    checks: &[checks::Check],
    backends: &[Backend],
    require_clients: bool,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for check in checks {
        for &backend in backends {
            let started = Instant::now();
            // On its own task: a check that panics fails its row, not the run.
            let task = tokio::spawn((check.run)(backend));
            let result = match tokio::time::timeout(CHECK_TIMEOUT, task).await {
                Ok(Err(panicked)) => Err(format!("check panicked: {panicked}")),
                Ok(Ok(result)) => match result {
                    Ok(Outcome::Skip(why)) if require_clients => {
                        Err(format!("{why} (--require-clients)"))
                    }
                    result => result,
                },
                Err(_) => Err(format!("did not finish within {CHECK_TIMEOUT:?}")),
            };
            rows.push(Row {
                check: check.name,
                real_client: check.real_client,
                backend,
                result,
                elapsed: started.elapsed(),
            });
        }
    }
    rows
}
