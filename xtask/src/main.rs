//! Project tasks: `cargo xtask <task>`. Standard library only.

use std::env;
use std::process::{Command, ExitCode};

const TASKS: &[(&str, &str)] = &[
    (
        "ci",
        "everything CI runs: fmt check, clippy, tests, rustdoc (all denying warnings), packaging, conformance",
    ),
    ("test", "cargo test --workspace"),
    (
        "bench",
        "release build, server + load processes vs a raw-TCP ceiling, plain, HTTPS and HTTP/2; [--quick] [--json PATH] [--html PATH] [--only SUBSTRING] [--no-nats]",
    ),
    (
        "conformance",
        "wire checks on every backend, then six real clients x every scenario; [--url http://HOST:PORT/PATH] \
         [--backend axum|warp|tower] [--check NAME] [--client NAME] [--scenario NAME] [--json PATH] [--html PATH] [--require-clients]",
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => cargo(&["test", "--workspace"], &[]),
        Some("conformance") => conformance(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some(other) => Err(format!(
            "unknown task {other:?}; run `cargo xtask` for the list"
        )),
        None => {
            println!("usage: cargo xtask <task>\n\ntasks:");
            for (name, what) in TASKS {
                println!("  {name:<12} {what}");
            }
            return ExitCode::SUCCESS;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"], &[])?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    cargo(&["test", "--workspace"], &[])?;
    cargo(
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    package()?;
    // CI must prove the real clients too; locally a missing one is a skip.
    let mut args: Vec<String> = [
        "--json",
        "target/conformance.json",
        "--html",
        "target/conformance.html",
    ]
    .map(String::from)
    .to_vec();
    if env::var_os("CI").is_some_and(|v| v == "true") {
        args.push("--require-clients".into());
    }
    conformance(&args)
}

/// The crates meant for crates.io, packaged and built from their archives
/// as a user would get them (cargo resolves their dependencies on each other
/// through a temporary local registry).
const PUBLISHED: &[&str] = &["mjpeg-tower", "mjpeg-axum", "mjpeg-warp", "mjpeg-nats"];

fn package() -> Result<(), String> {
    let mut args = vec!["package", "--allow-dirty", "--quiet"];
    for name in PUBLISHED {
        args.extend(["--package", name]);
    }
    cargo(&args, &[])?;
    // Each crate's docs with only its own features, as docs.rs and a user
    // see them: inside the workspace, features other members turn on can
    // hide a doc example that does not compile alone.
    for name in PUBLISHED {
        cargo(&["test", "--quiet", "--doc", "--package", name], &[])?;
    }
    Ok(())
}

fn conformance(extra: &[String]) -> Result<(), String> {
    let mut args = vec!["run", "--quiet", "--package", "mjpeg-conformance", "--"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args, &[])
}

fn bench(extra: &[String]) -> Result<(), String> {
    let mut args = vec![
        "run",
        "--release",
        "--quiet",
        "--package",
        "mjpeg-bench",
        "--bin",
        "bench",
        "--",
    ];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args, &[])
}

/// Runs `$CARGO args...`, failing loudly with the command line.
fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(envs.iter().copied())
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}
