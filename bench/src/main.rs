//! `bench`: the mjpeg-tower benchmark.
//!
//! - `bench [--quick] [--json PATH] [--only SUBSTRING] [--window SECS]`: the
//!   driver; runs every scenario and prints the report.
//! - `bench server ...`: one server under test (spawned by the driver).
//! - `bench load ...`: the load generator (spawned by the driver).
#![forbid(unsafe_code)]

mod args;
mod driver;
mod hist;
mod load;
mod parse;
mod server;
mod sys;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("server") => server::main(&args[1..]),
        Some("load") => load::main(&args[1..]),
        _ => driver::main(&args),
    };
    std::process::exit(code);
}
