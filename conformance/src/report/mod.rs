//! The reports: the check table, the client matrix, their JSON form, and
//! one self-contained HTML page ([`html`]).

pub mod html;

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::json;

use crate::client::{CheckResult, Outcome};
use crate::matrix::{CellReport, Client, framing_name};

/// How one check went on one target.
#[derive(Clone, Debug)]
pub struct Row {
    /// The check's name.
    pub check: &'static str,
    /// The target's name (a backend, or `url`).
    pub target: &'static str,
    /// Pass or skip, with detail; `Err` is a failure.
    pub result: CheckResult,
    /// How long it took.
    pub elapsed: Duration,
}

/// `pass`, `fail` or `skip`.
pub fn status(result: &CheckResult) -> &'static str {
    match result {
        Ok(Outcome::Pass(_)) => "pass",
        Ok(Outcome::Skip(_) | Outcome::NotApplicable(_)) => "skip",
        Err(_) => "fail",
    }
}

/// The detail text of a result.
pub fn detail(result: &CheckResult) -> &str {
    match result {
        Ok(Outcome::Pass(d) | Outcome::Skip(d) | Outcome::NotApplicable(d)) | Err(d) => d,
    }
}

impl Row {
    /// `pass`, `fail` or `skip`.
    pub fn status(&self) -> &'static str {
        status(&self.result)
    }
}

/// Counts of passes, failures and skips over checks and cells.
pub fn summary(rows: &[Row], cells: &[CellReport]) -> (usize, usize, usize) {
    let statuses: Vec<&str> = rows
        .iter()
        .map(Row::status)
        .chain(cells.iter().map(|c| status(&c.result)))
        .collect();
    let count = |s| statuses.iter().filter(|&&x| x == s).count();
    (count("pass"), count("fail"), count("skip"))
}

fn cell_mark(status: &str) -> &str {
    if status == "fail" { "FAIL" } else { status }
}

/// The check table: a line per check, a column per target, then every
/// failure's and skip's detail.
pub fn table(rows: &[Row], targets: &[&str]) -> String {
    let mut checks: Vec<&str> = rows.iter().map(|r| r.check).collect();
    checks.dedup();
    if checks.is_empty() {
        return String::new();
    }
    let width = checks.iter().map(|c| c.len()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = write!(out, "{:width$}", "check");
    for t in targets {
        let _ = write!(out, "  {t:<6}");
    }
    out.push('\n');
    for check in &checks {
        let _ = write!(out, "{check:width$}");
        for t in targets {
            let status = rows
                .iter()
                .find(|r| r.check == *check && r.target == *t)
                .map_or("-", Row::status);
            let _ = write!(out, "  {:<6}", cell_mark(status));
        }
        out.push('\n');
    }
    let notes: Vec<&Row> = rows.iter().filter(|r| r.status() != "pass").collect();
    if !notes.is_empty() {
        out.push('\n');
        for r in notes {
            let _ = writeln!(
                out,
                "{} {} [{}]: {}",
                r.status().to_uppercase(),
                r.check,
                r.target,
                detail(&r.result)
            );
        }
    }
    out
}

/// The clients that appear in `cells`, in report order.
pub fn clients_of(cells: &[CellReport]) -> Vec<Client> {
    let mut clients: Vec<Client> = cells.iter().map(|c| c.cell.client).collect();
    clients.sort();
    clients.dedup();
    clients
}

/// The rows (`scenario/framing`) of `cells`, in run order.
pub fn rows_of(cells: &[CellReport]) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    for c in cells {
        let row = c.cell.row();
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    rows
}

/// The client matrix: a line per scenario and framing, a column per client,
/// then every cell's detail.
pub fn matrix_table(cells: &[CellReport]) -> String {
    if cells.is_empty() {
        return String::new();
    }
    let clients = clients_of(cells);
    let rows = rows_of(cells);
    let width = rows.iter().map(String::len).max().unwrap_or(8).max(8);
    let mut out = String::new();
    let _ = write!(out, "\n{:width$}", "scenario");
    for c in &clients {
        let _ = write!(out, "  {:<9}", c.name());
    }
    out.push('\n');
    for row in &rows {
        let _ = write!(out, "{row:width$}");
        for client in &clients {
            let status = cells
                .iter()
                .find(|c| c.cell.client == *client && c.cell.row() == *row)
                .map_or("-", |c| status(&c.result));
            let _ = write!(out, "  {:<9}", cell_mark(status));
        }
        out.push('\n');
    }
    out.push('\n');
    for c in cells {
        let _ = writeln!(
            out,
            "{} {} {}: {}",
            status(&c.result).to_uppercase(),
            c.cell.client,
            c.cell.row(),
            detail(&c.result)
        );
    }
    out
}

/// The rows and cells as JSON.
pub fn json(rows: &[Row], cells: &[CellReport]) -> serde_json::Value {
    let (pass, fail, skip) = summary(rows, cells);
    let results: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "check": r.check,
                "backend": r.target,
                "status": r.status(),
                "detail": detail(&r.result),
                "ms": r.elapsed.as_millis() as u64,
            })
        })
        .collect();
    let matrix: Vec<_> = cells
        .iter()
        .map(|c| {
            json!({
                "client": c.cell.client.name(),
                "scenario": c.cell.scenario.name(),
                "framing": framing_name(c.cell.framing),
                "status": status(&c.result),
                "detail": detail(&c.result),
                "latencies_ms": c.evidence.latencies,
                "ms": c.elapsed.as_millis() as u64,
            })
        })
        .collect();
    json!({
        "summary": { "passed": pass, "failed": fail, "skipped": skip },
        "results": results,
        "matrix": matrix,
    })
}
