//! WebKitGTK: `WebKitWebDriver` under `xvfb-run`, driving MiniBrowser
//! through a W3C WebDriver session (plain JSON over reqwest).
//!
//! The session only opens the viewer page; the page reports what it drew to
//! the page server, as in the other browsers. Page load strategy `none`: a
//! page with a live `<img>` never finishes loading.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use super::process::{Scratch, kill_group};
use super::{ClientError, find_program};

const PROGRAM: &str = "WebKitWebDriver";

/// `/usr/bin/WebKitWebDriver`, else on `PATH`.
pub fn driver_path() -> Option<PathBuf> {
    find_program("/usr/bin/WebKitWebDriver", PROGRAM)
}

/// `/usr/bin/xvfb-run`, else on `PATH`.
pub fn xvfb_run_path() -> Option<PathBuf> {
    find_program("/usr/bin/xvfb-run", "xvfb-run")
}

/// MiniBrowser from the `libwebkit2gtk-4.1` package:
/// `/usr/lib/<multiarch>/webkit2gtk-4.1/MiniBrowser`.
pub fn minibrowser_path() -> Option<PathBuf> {
    let in_dir = |dir: &Path| {
        let p = dir.join("webkit2gtk-4.1").join("MiniBrowser");
        p.is_file().then_some(p)
    };
    in_dir(Path::new("/usr/libexec")).or_else(|| {
        std::fs::read_dir("/usr/lib")
            .ok()?
            .flatten()
            .find_map(|entry| in_dir(&entry.path()))
    })
}

/// What is missing to run WebKitGTK here, if anything.
pub fn missing() -> Option<&'static str> {
    if driver_path().is_none() {
        Some("WebKitWebDriver (webkit2gtk-driver) not installed")
    } else if xvfb_run_path().is_none() {
        Some("xvfb-run (xvfb) not installed")
    } else if minibrowser_path().is_none() {
        Some("MiniBrowser (libwebkit2gtk-4.1) not found")
    } else {
        None
    }
}

/// The new-session body: MiniBrowser in automation mode, page load
/// strategy `none`.
fn capabilities(minibrowser: &Path) -> Value {
    json!({ "capabilities": { "alwaysMatch": {
        "browserName": "MiniBrowser",
        "pageLoadStrategy": "none",
        "webkitgtk:browserOptions": {
            "binary": minibrowser.to_string_lossy(),
            "args": ["--automation"],
        },
    } } })
}

/// Opens `url` in MiniBrowser through a fresh WebDriver session and waits
/// for `done`, at most `timeout`. The session, the driver, MiniBrowser and
/// Xvfb (one process group) are gone when this returns.
///
/// # Errors
/// [`ClientError::NotInstalled`], [`ClientError::Spawn`],
/// [`ClientError::TimedOut`], and [`ClientError::BadOutput`] if the driver
/// refused the session or exited first.
pub async fn run_page<F: Future>(
    url: &str,
    timeout: Duration,
    done: F,
) -> Result<F::Output, ClientError> {
    let (Some(driver), Some(xvfb_run), Some(minibrowser)) =
        (driver_path(), xvfb_run_path(), minibrowser_path())
    else {
        return Err(ClientError::NotInstalled(PROGRAM));
    };
    let scratch = Scratch::create("webkit").map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let log = std::fs::File::create(scratch.log()).map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let port = free_port().map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let mut child = Command::new(xvfb_run)
        .arg("-a")
        .arg(driver)
        .arg(format!("--port={port}"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| ClientError::BadOutput(PROGRAM, e.to_string()))?;
    let session = async {
        wait_ready(&http, &base).await?;
        let created = call(
            &http,
            "POST",
            &format!("{base}/session"),
            capabilities(&minibrowser),
        )
        .await?;
        let id = created["sessionId"]
            .as_str()
            .ok_or_else(|| bad(format!("no session id in {created}")))?
            .to_owned();
        call(
            &http,
            "POST",
            &format!("{base}/session/{id}/url"),
            json!({ "url": url }),
        )
        .await?;
        Ok::<_, ClientError>(id)
    };
    let mut session_id = None;
    let outcome = tokio::select! {
        out = async {
            let id = session.await?;
            session_id = Some(id.clone());
            let out = done.await;
            Ok((id, out))
        } => out,
        status = child.wait() => Err(bad(format!(
            "exited ({status:?}) before the page finished: {}",
            scratch.log_tail(&["dbus", "Gtk-WARNING"])
        ))),
        () = tokio::time::sleep(timeout) => Err(ClientError::TimedOut(PROGRAM, timeout)),
    };
    let outcome = match (outcome, session_id) {
        (Err(ClientError::TimedOut(..)), Some(id)) => {
            // What was the page doing? A hung web process answers nothing.
            let url = format!("{base}/session/{id}/execute/sync");
            let script =
                json!({ "script": "return JSON.stringify(window.mjpegState || null)", "args": [] });
            let state =
                tokio::time::timeout(Duration::from_secs(3), call(&http, "POST", &url, script))
                    .await;
            let state = match state {
                Ok(Ok(v)) => format!("page state {v}"),
                Ok(Err(e)) => format!("page state unavailable: {e}"),
                Err(_) => "the page does not answer the driver (web process hung)".into(),
            };
            Err(bad(format!("no report within {timeout:?}; {state}")))
        }
        (Ok((id, out)), _) => {
            // Best effort: the group is killed next anyway.
            let url = format!("{base}/session/{id}");
            let _ = tokio::time::timeout(Duration::from_secs(3), http.delete(url).send()).await;
            Ok(out)
        }
        (Err(e), _) => Err(e),
    };
    kill_group(&mut child).await;
    drop(scratch);
    outcome
}

fn bad(detail: String) -> ClientError {
    ClientError::BadOutput(PROGRAM, detail)
}

/// A loopback port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Polls `GET /status` until the driver answers (Xvfb starts first).
async fn wait_ready(http: &reqwest::Client, base: &str) -> Result<(), ClientError> {
    for _ in 0..100 {
        if let Ok(res) = http.get(format!("{base}/status")).send().await
            && res.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(bad("driver did not answer /status within 10 s".into()))
}

/// A WebDriver command: its `value`, or the error the driver sent.
async fn call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Value,
) -> Result<Value, ClientError> {
    let request = match method {
        "POST" => http.post(url),
        _ => http.get(url),
    };
    let res = request
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| bad(format!("{method} {url}: {e}")))?;
    let status = res.status();
    let bytes = res
        .bytes()
        .await
        .map_err(|e| bad(format!("{method} {url}: {e}")))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("{method} {url}: {e}")))?;
    if status.is_success() {
        Ok(value["value"].clone())
    } else {
        Err(bad(format!("{method} {url}: {status} {}", value["value"])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_asks_for_minibrowser_without_waiting_for_load() {
        let caps = capabilities(Path::new("/x/MiniBrowser"));
        let m = &caps["capabilities"]["alwaysMatch"];
        assert_eq!(m["browserName"], "MiniBrowser");
        assert_eq!(m["pageLoadStrategy"], "none");
        assert_eq!(m["webkitgtk:browserOptions"]["binary"], "/x/MiniBrowser");
        assert_eq!(m["webkitgtk:browserOptions"]["args"][0], "--automation");
    }
}
