//! `mjpeg-conformance [--backend axum|warp|tower]... [--check NAME]... [--json PATH] [--require-clients]`
//!
//! Prints a table (check x backend), writes JSON when asked, and exits
//! non-zero on any failure.

use std::process::ExitCode;

use mjpeg_conformance::backend::Backend;
use mjpeg_conformance::{checks, report, run};

const USAGE: &str = "usage: mjpeg-conformance [--backend axum|warp|tower]... [--check NAME]... [--json PATH] [--require-clients]";

struct Args {
    backends: Vec<Backend>,
    checks: Vec<String>,
    json: Option<String>,
    require_clients: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        backends: Vec::new(),
        checks: Vec::new(),
        json: None,
        require_clients: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--backend" => {
                let name = it.next().ok_or("--backend needs a name")?;
                args.backends.push(
                    Backend::from_name(&name)
                        .ok_or(format!("unknown backend {name:?}; {USAGE}"))?,
                );
            }
            "--check" => args.checks.push(it.next().ok_or("--check needs a name")?),
            "--json" => args.json = Some(it.next().ok_or("--json needs a path")?),
            "--require-clients" => args.require_clients = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    if args.backends.is_empty() {
        args.backends = Backend::ALL.to_vec();
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let selected: Vec<checks::Check> = checks::ALL
        .iter()
        .filter(|c| args.checks.is_empty() || args.checks.iter().any(|n| n == c.name))
        .copied()
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = checks::ALL.iter().map(|c| c.name).collect();
        eprintln!(
            "no check matches {:?}; checks: {}",
            args.checks,
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    let rows = run(&selected, &args.backends, args.require_clients).await;
    print!("{}", report::table(&rows, &args.backends));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report::json(&rows)).unwrap_or_default();
        if let Err(err) = std::fs::write(path, text) {
            eprintln!("could not write {path}: {err}");
            return ExitCode::FAILURE;
        }
    }
    let (_, failed, _) = report::summary(&rows);
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
