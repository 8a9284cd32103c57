//! The soak test of mjpeg-tower: `soak drive` starts `soak serve` as a
//! child process, drives it with a mix of well- and ill-behaved clients for
//! the whole run, checks invariants from outside every second, and exits
//! non-zero naming each invariant that failed.
//!
//! Run with `cargo xtask soak [--minutes N] [--json PATH]`.

mod drive;
mod payload;
mod rng;
mod serve;
mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Soak test of mjpeg-tower: a misbehaving server and a driver that checks it.
#[derive(Debug, Parser)]
#[command(name = "soak")]
struct Cli {
    #[command(subcommand)]
    role: Role,
}

#[derive(Debug, Subcommand)]
enum Role {
    /// Serve a hub route, a per-request route, `/snapshot` and `/stats`,
    /// with producers that misbehave on a seeded schedule; prints the address.
    Serve(serve::Args),
    /// Start `soak serve`, drive it for the whole run, check invariants.
    Drive(drive::Args),
}

/// A fault planted in the server to prove the driver catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Inject {
    /// Skip counting every tenth disconnect.
    DisconnectCount,
    /// Leak a file descriptor on every third snapshot.
    Fd,
    /// Leak a task that never ends on every third snapshot.
    Task,
    /// Serve HTTPS without the handshake and header read timeouts.
    TlsTimeouts,
    /// Serve HTTPS without the connection cap.
    TlsCap,
    /// Let `/capped` open twice its `max_clients`.
    CapOverrun,
    /// Drop the NATS edge when the broker goes away.
    NatsEdge,
    /// Leak 64 KiB on every third snapshot.
    Memory,
}

fn main() -> ExitCode {
    let result = match Cli::parse().role {
        Role::Serve(args) => serve::run(args),
        Role::Drive(args) => drive::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("soak: {err}");
            ExitCode::from(2)
        }
    }
}
