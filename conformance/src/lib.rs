//! The conformance suite of mjpeg-tower.
//!
//! Starts every backend (axum, warp, the bare tower service) on a loopback
//! port with the same scenario routes, reads the streams with reqwest and a
//! strict multipart parser, and checks one property per check ([`checks`]).
//! Then real clients watch every scenario ([`matrix`]). Pointed at any
//! server with `--url`, it runs what needs nothing but the stream. Run it
//! with `cargo xtask conformance`; see `src/main.rs` for the options.
#![forbid(unsafe_code)]

pub mod backend;
pub mod checks;
pub mod client;
pub mod clients;
pub mod matrix;
pub mod report;

use std::time::{Duration, Instant};

pub use backend::Backend;
use client::Outcome;
use report::Row;

/// What the suite checks: one of our backends serving the scenario routes,
/// or any MJPEG endpoint (`--url`), where only the checks that need nothing
/// but the stream run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One of our backends, started per check.
    Backend(Backend),
    /// A stream URL of a server that is not ours.
    Url(String),
}

impl Target {
    /// The backend's name, or `url`.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Backend(b) => b.name(),
            Target::Url(_) => "url",
        }
    }
}

/// How long one check may run before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `checks` on `targets`, one at a time; `require_clients` turns a skip
/// (a real client missing) into a failure.
pub async fn run(checks: &[checks::Check], targets: &[Target], require_clients: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    for check in checks {
        for target in targets {
            let started = Instant::now();
            // On its own task: a check that panics fails its row, not the run.
            let task = tokio::spawn((check.run)(target.clone()));
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
                target: target.name(),
                result,
                elapsed: started.elapsed(),
            });
        }
    }
    rows
}
