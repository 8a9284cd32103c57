//! What `bench server` and `bench load` share as the driver's child
//! processes: the runtime, protocol lines on stdout, and the `error <why>`
//! line that tells the driver to skip the scenario.

use std::io::Write;

/// The exit code of a child's `run`: 0, or 2 after printing `error <why>`
/// on stdout (the driver reads it as a reason to skip the scenario).
pub(crate) fn exit_code(result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            println!("error {e}");
            2
        }
    }
}

/// A multi-threaded tokio runtime with every driver enabled.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
}

/// Prints one protocol line to the driver and flushes it at once.
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
