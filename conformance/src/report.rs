//! The pass/fail table and its JSON form.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::json;

use crate::backend::Backend;
use crate::client::Outcome;

/// How one check went on one backend.
#[derive(Clone, Debug)]
pub struct Row {
    /// The check's name.
    pub check: &'static str,
    /// Whether its detail is a real client's measurement.
    pub real_client: bool,
    /// The backend.
    pub backend: Backend,
    /// Pass or skip, with detail; `Err` is a failure.
    pub result: Result<Outcome, String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl Row {
    /// `pass`, `fail` or `skip`.
    pub fn status(&self) -> &'static str {
        match &self.result {
            Ok(Outcome::Pass(_)) => "pass",
            Ok(Outcome::Skip(_)) => "skip",
            Err(_) => "fail",
        }
    }

    fn detail(&self) -> &str {
        match &self.result {
            Ok(Outcome::Pass(d) | Outcome::Skip(d)) | Err(d) => d,
        }
    }
}

/// Counts of passes, failures and skips.
pub fn summary(rows: &[Row]) -> (usize, usize, usize) {
    let count = |s| rows.iter().filter(|r| r.status() == s).count();
    (count("pass"), count("fail"), count("skip"))
}

/// The table: a line per check, a column per backend, then every failure's
/// and skip's detail.
pub fn table(rows: &[Row], backends: &[Backend]) -> String {
    let mut checks: Vec<&str> = rows.iter().map(|r| r.check).collect();
    checks.dedup();
    let width = checks.iter().map(|c| c.len()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = write!(out, "{:width$}", "check");
    for b in backends {
        let _ = write!(out, "  {:<6}", b.name());
    }
    out.push('\n');
    for check in &checks {
        let _ = write!(out, "{check:width$}");
        for b in backends {
            let status = rows
                .iter()
                .find(|r| r.check == *check && r.backend == *b)
                .map_or("-", |r| {
                    if r.status() == "fail" {
                        "FAIL"
                    } else {
                        r.status()
                    }
                });
            let _ = write!(out, "  {status:<6}");
        }
        out.push('\n');
    }
    let notes: Vec<&Row> = rows
        .iter()
        .filter(|r| r.status() != "pass" || r.real_client)
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for r in notes {
            let _ = writeln!(
                out,
                "{} {} [{}]: {}",
                r.status().to_uppercase(),
                r.check,
                r.backend,
                r.detail()
            );
        }
    }
    let (pass, fail, skip) = summary(rows);
    let _ = writeln!(out, "\n{pass} passed, {fail} failed, {skip} skipped");
    out
}

/// The rows as JSON.
pub fn json(rows: &[Row]) -> serde_json::Value {
    let (pass, fail, skip) = summary(rows);
    let results: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "check": r.check,
                "backend": r.backend.name(),
                "status": r.status(),
                "detail": r.detail(),
                "ms": r.elapsed.as_millis() as u64,
            })
        })
        .collect();
    json!({ "summary": { "passed": pass, "failed": fail, "skipped": skip }, "results": results })
}
