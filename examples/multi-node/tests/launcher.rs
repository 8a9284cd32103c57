//! The launcher binary: one command starts a broker, the origin and three
//! edges; Ctrl-C stops them all.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use mjpeg_example_scenery::testing::{next_jpeg, open, within};
use mjpeg_nats::LocalBroker;

#[tokio::test]
async fn one_command_starts_the_origin_and_three_edges_and_ctrl_c_stops_them() {
    if let Err(err) = LocalBroker::find() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true requires nats-server: {err}"
        );
        return eprintln!("skipping the multi-node launcher test: {err}");
    }
    let mut launcher = Launcher(
        std::process::Command::new(env!("CARGO_BIN_EXE_multi-node"))
            .args(["--addr", "127.0.0.1:0", "--size", "160x120", "--fps", "10"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = launcher.0.stdout.take().unwrap();
    // The launcher announces its own address last, after every edge's.
    let lines = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("open http://")
                && seen
                    .iter()
                    .filter(|l: &&String| l.starts_with("open http://"))
                    .count()
                    == 3;
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    });
    let lines = within(lines).await.unwrap();
    let page_url = lines
        .last()
        .unwrap()
        .strip_prefix("open ")
        .unwrap()
        .to_owned();
    let page = within(reqwest::get(&page_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let streams: Vec<&str> = page
        .split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(streams.len(), 3, "{page}");
    for stream in streams {
        let mut viewer = open(stream).await;
        next_jpeg(&mut viewer).await;
    }

    let status = within(tokio::task::spawn_blocking(move || launcher.interrupt()))
        .await
        .unwrap();
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

/// The launcher process; interrupted (as by Ctrl-C, so it stops its
/// children and broker) when the test ends, even by a panic.
struct Launcher(std::process::Child);

impl Launcher {
    /// Sends SIGINT and waits up to 10 s for the exit status.
    fn interrupt(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.0.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            return None;
        }
        for _ in 0..1000 {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            if self.interrupt().is_none() {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
    }
}
