//! `bench nats-node`: one node of the NATS fan-out scenario, spawned by the
//! driver with the same line protocol as `bench server` (`ready <addr>`,
//! then `stats` / `quit` on stdin).
//!
//! - `--role origin --nats URL [--fps F] [--size BYTES]`: publishes paced
//!   frames (stamped with sequence and time like the hub servers') to `mjpeg.bench`
//!   through a `NatsOrigin`; prints `ready -`.
//! - `--role edge --nats URL [--viewers N]`: a `FrameHub` fed by a
//!   `NatsEdge`, behind `MjpegLayer` with the default framing, served by the
//!   axum adapter on a free port, exactly like `bench server --kind axum`.

mod node;

use crate::args::Args;
use crate::child::{exit_code, runtime, say};
use crate::server::control;
use crate::sys::ensure_nofile;

/// The stream the nodes share: subject `mjpeg.bench`.
const STREAM: &str = "bench";

pub(crate) fn main(args: &[String]) -> i32 {
    exit_code(run(args))
}

fn run(args: &[String]) -> Result<(), String> {
    let a = Args::parse(args, &[])?;
    let url = a.require("nats")?.to_owned();
    let role = a.require("role")?.to_owned();
    let fps: f64 = a.get("fps", 30.0)?;
    let size: usize = a.get("size", 50_000)?;
    let viewers: u64 = a.get("viewers", 1000)?;
    ensure_nofile(viewers + 512)?;
    let rt = runtime()?;
    let (stats, addr) = rt.block_on(async {
        match role.as_str() {
            "origin" => node::origin(&url, fps, size).await,
            "edge" => node::edge(&url).await,
            other => Err(format!("unknown role {other:?} (origin, edge)")),
        }
    })?;
    say(&format!("ready {addr}"));
    let _guard = rt.enter();
    control(&stats);
    Ok(())
}
