//! Project tasks: `cargo xtask <task>`. Standard library only.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const TASKS: &[(&str, &str)] = &[
    (
        "ci",
        "everything CI runs: fmt check, clippy, tests, rustdoc (all denying warnings), packaging, conformance, 2 minutes of soak",
    ),
    ("test", "cargo test --workspace"),
    (
        "package",
        "cargo package of the published crates, each built from its archive, and their doctests alone",
    ),
    (
        "bench",
        "release build, server + load processes vs a raw-TCP ceiling, plain, HTTPS and HTTP/2; [--quick] [--json PATH] [--html PATH] [--only SUBSTRING] [--repeat N] [--no-nats]; \
         `bench misses [--kind axum|warp|raw]`: instructions and cache misses per frame under cachegrind; \
         `bench pair [--server-exe OTHER_BENCH] [--kind K] [--other-kind K] [--pairs N]`: two servers (another build's, or the raw ceiling) side by side, each under its own load",
    ),
    (
        "soak",
        "release build, a misbehaving server driven for N minutes, invariants checked every second; \
         [--minutes N] [--json PATH] [--seed N] [--no-nats] [--default-malloc]",
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
        Some("package") => package(),
        Some("conformance") => conformance(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("soak") => soak(&args[1..]),
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
    conformance(&args)?;
    // Two minutes of soak. CI builds nothing in release, and `cargo test
    // --workspace` above already built the soak binary in the debug profile
    // with the workspace's features (`cargo run -p mjpeg-soak` would resolve
    // features for that package alone and rebuild much of the tree): run it.
    let soak = target_dir().join("debug").join("soak");
    let args = ["drive", "--minutes", "2", "--json", "target/soak.json"];
    run(
        Command::new(&soak).args(args),
        &format!("{} {}", soak.display(), args.join(" ")),
    )
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, or `target/` in the workspace.
fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        },
        PathBuf::from,
    )
}

/// The crates meant for crates.io, packaged and built from their archives
/// as a user would get them (cargo resolves their dependencies on each other
/// through a temporary local registry).
const PUBLISHED: &[&str] = &["mjpeg-tower", "mjpeg-axum", "mjpeg-warp", "mjpeg-nats"];

fn package() -> Result<(), String> {
    forget_packaged_sources()?;
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

/// Removes earlier unpacked copies of our crates from cargo's cache.
///
/// `cargo package` verifies each crate against the others through a
/// temporary registry, and cargo unpacks registry crates once per
/// name-version: a copy left by an earlier run (the version does not change
/// between commits) would be used instead of the archive just made, and the
/// check would build against old code. Only those registries' copies of
/// our own crates are removed (their directories start with `-`; crates.io's
/// do not).
fn forget_packaged_sources() -> Result<(), String> {
    let home = env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) else {
        return Ok(()); // nothing unpacked yet
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for unpacked in crates.flatten() {
            let name = unpacked.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED
                .iter()
                .any(|p| name.strip_prefix(p).is_some_and(|v| v.starts_with('-')));
            if ours {
                std::fs::remove_dir_all(unpacked.path())
                    .map_err(|e| format!("cannot remove {}: {e}", unpacked.path().display()))?;
            }
        }
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

fn soak(extra: &[String]) -> Result<(), String> {
    let mut args = vec![
        "run",
        "--release",
        "--quiet",
        "--package",
        "mjpeg-soak",
        "--bin",
        "soak",
        "--",
        "drive",
    ];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args, &[])
}

/// Runs `cmd`, failing loudly with `what`.
fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    eprintln!("xtask: $ {what}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{what}` failed ({status})"))
    }
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
