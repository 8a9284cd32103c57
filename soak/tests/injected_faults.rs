//! The soak catches what it claims to: a server with a planted fault makes
//! a short run fail, naming the invariant the fault breaks.

use std::process::Command;

/// Runs an 18 s soak against a server with `fault` planted; returns the exit code and stdout.
fn soak_with(fault: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_soak"))
        .args(["drive", "--minutes", "0.3", "--inject-leak", fault])
        .output()
        .expect("run soak drive");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_disconnect_left_uncounted_fails_the_open_streams_invariant() {
    let (code, stdout) = soak_with("disconnect-count");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("VIOLATION open_streams"), "{stdout}");
}

#[test]
fn a_leaked_descriptor_fails_the_fd_baseline_invariant() {
    let (code, stdout) = soak_with("fd");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("VIOLATION fd_baseline"), "{stdout}");
}

#[test]
fn a_task_that_never_ends_fails_the_task_baseline_invariant() {
    let (code, stdout) = soak_with("task");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("VIOLATION task_baseline"), "{stdout}");
}

#[test]
fn half_open_tls_connections_left_open_fail_the_tls_half_open_invariant() {
    let (code, stdout) = soak_with("tls-timeouts");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("VIOLATION tls_half_open"), "{stdout}");
}

#[test]
fn a_burst_that_is_never_refused_fails_the_tls_cap_invariant() {
    let (code, stdout) = soak_with("tls-cap");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("VIOLATION tls_cap"), "{stdout}");
}

#[test]
fn a_route_that_lets_in_more_than_max_clients_fails_the_capped_max_invariant() {
    let (code, stdout) = soak_with("cap-overrun");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("VIOLATION capped_max"), "{stdout}");
}

#[test]
fn an_edge_that_gives_up_on_a_broker_restart_fails_the_nats_resume_invariant() {
    if mjpeg_nats::LocalBroker::find().is_err() {
        eprintln!("skipped: nats-server is not installed");
        return;
    }
    let (code, stdout) = soak_with("nats-edge");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("VIOLATION nats_resume"), "{stdout}");
}
