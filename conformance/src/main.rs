//! `mjpeg-conformance [--backend axum|warp|tower]... [--url URL] [--check NAME]...
//! [--client NAME]... [--scenario NAME]... [--json PATH] [--html PATH] [--require-clients]`
//!
//! Runs the wire checks (on every backend, or on the URL) and the client
//! matrix (on the first backend, or on the URL); prints both tables, writes
//! JSON and HTML when asked, and exits non-zero on any failure.

use std::process::ExitCode;
use std::time::Instant;

use mjpeg_conformance::backend::Backend;
use mjpeg_conformance::matrix::{self, Client, Scenario};
use mjpeg_conformance::{Target, checks, report, run};

const USAGE: &str = "usage: mjpeg-conformance [--backend axum|warp|tower]... [--url http://HOST:PORT/PATH] \
[--check NAME]... [--client chromium|firefox|webkit|ffmpeg|gstreamer|opencv]... [--scenario NAME]... \
[--json PATH] [--html PATH] [--require-clients]
  --check alone runs only those checks; --client/--scenario alone run only the matrix.";

#[derive(Default)]
struct Args {
    backends: Vec<Backend>,
    url: Option<String>,
    checks: Vec<String>,
    clients: Vec<Client>,
    scenarios: Vec<String>,
    json: Option<String>,
    html: Option<String>,
    require_clients: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{arg} needs {what}; {USAGE}"));
        match arg.as_str() {
            "--backend" => {
                let name = value("a name")?;
                args.backends.push(
                    Backend::from_name(&name)
                        .ok_or(format!("unknown backend {name:?}; {USAGE}"))?,
                );
            }
            "--url" => args.url = Some(value("a URL")?),
            "--check" => args.checks.push(value("a name")?),
            "--client" => {
                let name = value("a name")?;
                args.clients.push(
                    Client::from_name(&name).ok_or(format!("unknown client {name:?}; {USAGE}"))?,
                );
            }
            "--scenario" => args.scenarios.push(value("a name")?),
            "--json" => args.json = Some(value("a path")?),
            "--html" => args.html = Some(value("a path")?),
            "--require-clients" => args.require_clients = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    if let Some(url) = &args.url {
        if !args.backends.is_empty() {
            return Err("--url and --backend exclude each other".into());
        }
        if !url.starts_with("http://") {
            return Err(format!("--url {url:?}: only http:// URLs are supported"));
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
    let started = Instant::now();
    let only_matrix =
        args.checks.is_empty() && !(args.clients.is_empty() && args.scenarios.is_empty());
    let only_checks =
        !args.checks.is_empty() && args.clients.is_empty() && args.scenarios.is_empty();
    let selected: Vec<checks::Check> = checks::ALL
        .iter()
        .filter(|_| !only_matrix)
        .filter(|c| args.checks.is_empty() || args.checks.iter().any(|n| n == c.name))
        .copied()
        .collect();
    if selected.is_empty() && !args.checks.is_empty() {
        let names: Vec<&str> = checks::ALL.iter().map(|c| c.name).collect();
        eprintln!(
            "no check matches {:?}; checks: {}",
            args.checks,
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    let targets: Vec<Target> = match &args.url {
        Some(url) => vec![Target::Url(url.clone())],
        None => args.backends.iter().map(|&b| Target::Backend(b)).collect(),
    };
    let rows = run(&selected, &targets, args.require_clients).await;

    // The matrix runs on one target: the wire check
    // `backends_send_identical_bytes` proves the backends interchangeable.
    let clients = if args.clients.is_empty() {
        Client::ALL.to_vec()
    } else {
        args.clients.clone()
    };
    let mut cells = if only_checks {
        Vec::new()
    } else {
        matrix::cells(&targets[0], &clients)
    };
    if !args.scenarios.is_empty() {
        cells.retain(|c| args.scenarios.iter().any(|s| s == c.scenario.name()));
        if cells.is_empty() {
            let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
            eprintln!(
                "no scenario matches {:?}; scenarios: {}",
                args.scenarios,
                names.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    if !cells.is_empty() {
        eprintln!(
            "client matrix on {} ({} cells):",
            targets[0].name(),
            cells.len()
        );
    }
    let matrix = matrix::run(&targets[0], &cells, args.require_clients).await;
    let elapsed = started.elapsed();

    let names: Vec<&str> = targets.iter().map(Target::name).collect();
    print!("{}", report::table(&rows, &names));
    print!("{}", report::matrix_table(&matrix));
    let (pass, fail, skip) = report::summary(&rows, &matrix);
    println!(
        "\n{pass} passed, {fail} failed, {skip} skipped in {:.0} s",
        elapsed.as_secs_f64()
    );
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report::json(&rows, &matrix)).unwrap_or_default();
        if let Err(err) = std::fs::write(path, text) {
            eprintln!("could not write {path}: {err}");
            return ExitCode::FAILURE;
        }
    }
    if let Some(path) = &args.html {
        let target = args.url.clone().unwrap_or_else(|| names.join(", "));
        if let Err(err) = std::fs::write(path, report::html::page(&target, &rows, &matrix)) {
            eprintln!("could not write {path}: {err}");
            return ExitCode::FAILURE;
        }
    }
    if fail > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
