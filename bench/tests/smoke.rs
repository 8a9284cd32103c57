//! End to end: `bench server` + `bench load` for one viewer and one second.
//! Asserts frames arrived without errors; no timing assertions.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const BENCH: &str = env!("CARGO_BIN_EXE_bench");

/// Kills and reaps the child even when an assertion fails.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(stdin) = self.0.stdin.as_mut() {
            let _ = writeln!(stdin, "quit");
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `extra`: more server arguments (`--standard`).
fn one_viewer(kind: &str, extra: &[&str]) {
    one_viewer_with(kind, extra, &["--viewers", "1"]);
}

/// `load_extra`: the load generator's viewers and transport.
fn one_viewer_with(kind: &str, extra: &[&str], load_extra: &[&str]) {
    let mut server = Reap(
        Command::new(BENCH)
            .args([
                "server",
                "--kind",
                kind,
                "--viewers",
                "8",
                "--size",
                "20000",
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn bench server"),
    );
    let mut lines = BufReader::new(server.0.stdout.take().expect("piped stdout")).lines();
    let ready = lines
        .next()
        .expect("a line from the server")
        .expect("readable stdout");
    let addr = ready
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("{kind}: unexpected {ready:?}"))
        .to_owned();

    // Counters over the control channel.
    writeln!(server.0.stdin.as_mut().expect("piped stdin"), "stats").expect("send stats");
    let stats: serde_json::Value =
        serde_json::from_str(&lines.next().expect("stats line").expect("readable stdout"))
            .expect("stats JSON");
    assert!(stats["published"].is_u64(), "{stats}");

    let out = Command::new(BENCH)
        .args(["load", "--addr", &addr, "--window", "1"])
        .args(load_extra)
        .args(["--warmup-timeout", "20"])
        .output()
        .expect("run bench load");
    assert!(out.status.success(), "{kind}: load exited {:?}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("result "))
        .unwrap_or_else(|| panic!("{kind}: no result line in {stdout:?}"));
    let result: serde_json::Value = serde_json::from_str(result).expect("result JSON");
    assert_eq!(result["errors"], 0, "{kind}: {result}");
    assert!(
        result["frames_win"].as_u64().expect("frames_win") > 0,
        "{kind}: {result}"
    );
    assert!(
        result["payload_bytes"].as_u64().expect("payload_bytes") > 0,
        "{kind}: {result}"
    );
    assert!(
        result["lat_count"].as_u64().expect("lat_count") > 0,
        "{kind}: {result}"
    );
}

#[test]
fn axum_server_and_load_generator() {
    one_viewer("axum", &[]);
}

#[test]
fn axum_standard_framing_and_load_generator() {
    one_viewer("axum", &["--standard"]);
}

#[test]
fn warp_server_and_load_generator() {
    one_viewer("warp", &[]);
}

#[test]
fn raw_ceiling_and_load_generator() {
    one_viewer("raw", &[]);
}

#[test]
fn hyper_alone_and_load_generator() {
    one_viewer("hyper", &[]);
}

#[test]
fn axum_without_server_timeouts_and_load_generator() {
    one_viewer("axum", &["--bare"]);
}

/// A test CA and a certificate for 127.0.0.1 in a fresh directory.
fn test_ca(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mjpeg-bench-smoke-{name}-{}", std::process::id()));
    let status = Command::new(BENCH)
        .args(["test-ca", "--dir"])
        .arg(&dir)
        .status()
        .expect("run bench test-ca");
    assert!(status.success());
    dir
}

#[test]
fn https_server_and_tls_load_generator() {
    let dir = test_ca("tls");
    let p = |f: &str| dir.join(f).display().to_string();
    let (cert, key, ca) = (p("cert.pem"), p("key.pem"), p("ca.pem"));
    one_viewer_with(
        "axum",
        &["--cert", &cert, "--key", &key],
        &["--viewers", "2", "--ca", &ca],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn http2_streams_share_connections() {
    let dir = test_ca("h2");
    let p = |f: &str| dir.join(f).display().to_string();
    let (cert, key, ca) = (p("cert.pem"), p("key.pem"), p("ca.pem"));
    // Five streams on two connections (3 + 2).
    one_viewer_with(
        "warp",
        &["--cert", &cert, "--key", &key],
        &["--viewers", "5", "--ca", &ca, "--h2-streams", "3"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
