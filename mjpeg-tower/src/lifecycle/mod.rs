//! Beside the stages, lifecycle: who is watching, what they got, and why they left.
//!
//! Owns [`ConnectionInfo`](info::ConnectionInfo) and the request extensions
//! servers add, the events and callbacks, the counters behind
//! [`Stats`](stats::Stats), the [`Connection`](connection::Connection) whose
//! `Drop` is the disconnect hook, and [`Outcome`](outcome::Outcome), the one
//! place that decides why a stream ended.
//!
//! It imports nothing from the rest of the crate; `fanout`, `respond`,
//! `layer` and `server` import from it.

pub(crate) mod callbacks;
pub(crate) mod connection;
pub(crate) mod events;
pub(crate) mod info;
pub(crate) mod outcome;
pub(crate) mod stats;
pub(crate) mod telemetry;
