//! The core's layout rules, checked on its source so they keep holding:
//! stages import only from earlier stages (and `lifecycle`), internal code
//! names the module that defines what it imports, files stay small, and the
//! crate root holds docs and re-exports only.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules and what each may import, in data-flow order.
const ALLOWED: &[(&str, &[&str])] = &[
    ("lifecycle", &[]),
    ("wire", &[]),
    ("fanout", &["wire", "lifecycle"]),
    ("respond", &["wire", "fanout", "lifecycle"]),
    ("layer", &["wire", "fanout", "respond", "lifecycle"]),
    ("server", &["wire", "lifecycle"]),
    ("streams", &["wire", "fanout", "respond", "lifecycle"]),
    ("decode", &[]),
    ("pipe", &["wire", "fanout", "lifecycle"]),
    ("ingest", &["wire", "fanout", "decode", "lifecycle"]),
];

const MAX_LINES: usize = 400;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Numbered lines that are not comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.starts_with("//"))
}

/// Test suites (`tests*.rs`, `roundtrip.rs`) may reach across stages, e.g.
/// to decode what the encoder wrote.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_str().unwrap();
    name.starts_with("tests") || name == "roundtrip.rs"
}

#[test]
fn stages_import_only_from_earlier_stages_and_lifecycle() {
    let mut violations = Vec::new();
    for (module, allowed) in ALLOWED {
        let mut files = Vec::new();
        rust_files(&src().join(module), &mut files);
        assert!(!files.is_empty(), "no files under src/{module}");
        for file in files {
            if is_test_file(&file) {
                continue;
            }
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in code_lines(&text) {
                for (other, _) in ALLOWED {
                    let uses = line.contains(&format!("crate::{other}::"))
                        || line.contains(&format!("crate::{other};"));
                    if uses && other != module && !allowed.contains(other) {
                        violations
                            .push(format!("{}:{n}: {module} imports {other}", file.display()));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn internal_code_imports_from_the_defining_module_not_the_crate_root() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut violations = Vec::new();
    for file in files.iter().filter(|f| !f.ends_with("lib.rs")) {
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in code_lines(&text) {
            // `use crate::{...}` or `use crate::Name` reach through the root's re-exports.
            let through_root = line.starts_with("use crate::{")
                || line
                    .strip_prefix("use crate::")
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()));
            if through_root {
                violations.push(format!("{}:{n}: {line}", file.display()));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn no_source_file_is_longer_than_400_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
        &mut files,
    );
    let long: Vec<_> = files
        .iter()
        .map(|f| (f, fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(f, n)| format!("{}: {n} lines", f.display()))
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}

#[test]
fn the_crate_root_holds_docs_and_re_exports_only() {
    let text = fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut in_use = false;
    for (n, line) in code_lines(&text) {
        let allowed = line.is_empty()
            || line.starts_with("#![")
            || line.starts_with("#[cfg")
            || line.starts_with("mod ")
            || line.starts_with("pub mod ")
            || line.starts_with("pub use ")
            || in_use;
        assert!(
            allowed,
            "lib.rs:{n} is neither docs nor a re-export: {line}"
        );
        if line.starts_with("pub use ") || in_use {
            in_use = !line.ends_with(';');
        }
    }
}

#[test]
fn no_process_global_mutable_state() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in code_lines(&text) {
            let global = (line.starts_with("static ") || line.contains(" static "))
                && !line.contains("&'static")
                && !line.contains("'static str");
            if global {
                violations.push(format!("{}:{n}: {line}", file.display()));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
