//! `bench`: the mjpeg-tower benchmark.
//!
//! - `bench [--quick] [--json PATH] [--only SUBSTRING] [--window SECS]`: the
//!   driver; runs every scenario and prints the report.
//! - `bench server ...`: one server under test (spawned by the driver).
//! - `bench load ...`: the load generator (spawned by the driver).
//! - `bench nats-node --role origin|edge --nats URL ...`: one node of the
//!   NATS fan-out scenario (spawned by the driver).
//! - `bench test-ca --dir DIR`: writes a test CA (`ca.pem`) and a
//!   certificate for 127.0.0.1 signed by it (`cert.pem`, `key.pem`).
//! - `bench fanout [--viewers N] [--frames N] [--size BYTES]`: the in-process
//!   cost of `FrameHub::publish` and of handing a frame to a viewer.
//! - `bench misses [--kind axum|warp|raw] [--viewers N] [--seconds S] [--top N] [--server-exe PATH] [--by instructions]`:
//!   instructions and cache misses per delivered frame, counted by cachegrind.
//! - `bench pair [--server-exe PATH] [--kind axum|warp|raw] [--other-kind axum|warp|raw] [--unpaced] [--viewers N] [--fps F] [--size BYTES] [--seconds S] [--settle S] [--pairs N]`:
//!   this build's server and another's at once, each under its own load: their CPU and MB/s over the same seconds.
#![forbid(unsafe_code)]

mod args;
mod child;
mod driver;
mod fanout;
mod hist;
mod load;
mod nats;
mod parse;
mod server;
mod stamp;
mod sys;
mod tls;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("server") => server::main(&args[1..]),
        Some("load") => load::main(&args[1..]),
        Some("fanout") => fanout::main(&args[1..]),
        Some("nats-node") => nats::main(&args[1..]),
        Some("test-ca") => tls::main(&args[1..]),
        Some("misses") => driver::misses::main(&args[1..]),
        Some("pair") => driver::pair::main(&args[1..]),
        _ => driver::main(&args),
    };
    std::process::exit(code);
}
