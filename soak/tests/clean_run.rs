//! A short soak of the real server passes, and its report shows the mix ran.

use std::process::Command;

#[test]
fn a_short_clean_soak_holds_every_invariant() {
    let json = std::env::temp_dir().join(format!("mjpeg-soak-clean-{}.json", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_soak"))
        .args(["drive", "--minutes", "0.3", "--seed", "7", "--json"])
        .arg(&json)
        .output()
        .expect("run soak drive");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all invariants held"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON report")).expect("JSON");
    let _ = std::fs::remove_file(&json);
    assert_eq!(report["violations"].as_array().map(Vec::len), Some(0));
    let server = &report["server"];
    // The mix really ran: churn, hub replacements, and the watchers got frames.
    assert!(server["connects"].as_u64().unwrap_or(0) > 50, "{server}");
    assert!(
        server["faults"]["hubs_replaced"].as_u64().unwrap_or(0) >= 2,
        "{server}"
    );
    for watcher in report["watchers"].as_array().expect("watchers") {
        assert!(watcher["received"].as_u64().unwrap_or(0) > 100, "{watcher}");
    }
}
