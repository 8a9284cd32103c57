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
    // Plain, HTTPS and h2 watchers.
    let watchers = report["watchers"].as_array().expect("watchers");
    assert_eq!(watchers.len(), 5, "{watchers:?}");
    for watcher in watchers {
        assert!(watcher["received"].as_u64().unwrap_or(0) > 100, "{watcher}");
    }
    // The HTTPS limits, `/capped` and (with nats-server) the broker restarts ran.
    let extras = &report["extras"];
    let burst = &extras["bursts"][0];
    assert!(burst["refused"].as_u64().unwrap_or(0) >= 40, "{burst}");
    assert!(extras["tls"][2].as_u64().unwrap_or(0) > 0, "{extras}");
    assert!(extras["capped"][1].as_u64().unwrap_or(0) > 0, "{extras}");
    if mjpeg_nats::LocalBroker::find().is_ok() {
        assert!(!extras["restarts"].as_array().expect("restarts").is_empty());
        assert_eq!(
            report["server"]["nats"]["edge_reconnects"],
            extras["restarts"].as_array().map_or(0, Vec::len)
        );
    }
}
