//! The page in headless Chromium, driven through chromedriver (WebDriver):
//! before logging in its `<img>` stays undrawn because the stream answers
//! `401`; after `/login` the same page draws frames that change. Screenshots
//! of both states land in the temp directory.
//!
//! Skips with a message where Chromium or chromedriver is missing, unless
//! `CI=true`, where it fails instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use super::*;

/// What the conformance suite runs Chromium with, plus a window size.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--window-size=800,600",
];

/// The image's size, the HTTP status of its request once it finished, and
/// the colour of its centre pixel when drawn.
const PROBE: &str = r#"
const img = document.getElementById('camera');
const entry = performance.getEntriesByType('resource').find(e => e.name.endsWith('/camera/stream'));
let px = null;
if (img && img.naturalWidth > 0) {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  px = Array.from(g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data);
}
return { width: img ? img.naturalWidth : -1, status: entry ? entry.responseStatus : null, px };
"#;

fn find(name: &str) -> Option<PathBuf> {
    let usr = Path::new("/usr/bin").join(name);
    if usr.is_file() {
        return Some(usr);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A chromedriver child and one browser session in it.
struct Driver {
    http: reqwest::Client,
    session: String,
    base: String,
    _child: tokio::process::Child,
}

impl Driver {
    async fn start(driver: &Path, chromium: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            let ready = http.get(format!("{base}/status")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium, "args": FLAGS,
        }}}});
        let mut d = Driver {
            http,
            session: String::new(),
            base,
            _child: child,
        };
        let created = d.call(reqwest::Method::POST, "/session", caps).await;
        d.session = created["sessionId"].as_str().unwrap().to_owned();
        d
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, url);
        if !body.is_null() {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let res = req.send().await.unwrap().bytes().await.unwrap();
        let v: Value = serde_json::from_slice(&res).unwrap();
        assert!(v["value"]["error"].is_null(), "{path}: {v}");
        v["value"].clone()
    }

    async fn session(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body).await
    }

    async fn open(&self, url: &str) {
        self.session(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn run(&self, script: &str) -> Value {
        let body = json!({ "script": script, "args": [] });
        self.session(reqwest::Method::POST, "/execute/sync", body)
            .await
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .session(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

#[tokio::test]
async fn a_page_draws_the_camera_only_after_login() {
    let (Some(driver), Some(chromium)) = (find("chromedriver"), find("chromium")) else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI must have chromium and chromedriver"
        );
        eprintln!("skipped: chromium or chromedriver not installed");
        return;
    };
    let hub = FrameHub::new();
    tokio::spawn(camera::run(hub.clone()));
    let (addr, _stop, _serving) = start(hub.clone()).await;
    let page = format!("http://{addr}/");
    let browser = tokio::time::timeout(Duration::from_secs(30), Driver::start(&driver, &chromium))
        .await
        .expect("chromedriver did not start a session in 30 s");

    // Not logged in: the stream answers 401 and the image stays undrawn.
    browser.open(&page).await;
    let mut probe = Value::Null;
    for _ in 0..50 {
        probe = browser.run(PROBE).await;
        if !probe["status"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(probe["status"], 401, "{probe}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let probe = browser.run(PROBE).await;
    assert_eq!(probe["width"], 0, "drawn without a login: {probe}");
    let shot = browser
        .screenshot("existing-service-before-login.png")
        .await;
    eprintln!("before login: {}", shot.display());

    // Log in through the form: back on the page, frames are drawn and change.
    browser.open(&format!("http://{addr}/login")).await;
    browser
        .run("document.querySelector('input[name=token]').value = 'secret'; document.forms[0].submit();")
        .await;
    let mut colours = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let probe = browser.run(PROBE).await;
        if let Some(px) = probe["px"].as_array() {
            if !colours.contains(px) {
                colours.push(px.clone());
            }
        }
        if colours.len() >= 3 {
            break;
        }
    }
    assert!(
        colours.len() >= 3,
        "frames not drawn or not changing: {colours:?}"
    );
    let url = browser
        .session(reqwest::Method::GET, "/url", Value::Null)
        .await;
    assert_eq!(
        url,
        page.as_str(),
        "the login did not lead back to the page"
    );
    let cookies = browser
        .session(reqwest::Method::GET, "/cookie", Value::Null)
        .await;
    let cookie = cookies
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "camera_session")
        .unwrap_or_else(|| panic!("no session cookie in {cookies}"));
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");
    assert_eq!(cookie["path"], "/", "{cookie}");
    let shot = browser.screenshot("existing-service-after-login.png").await;
    eprintln!(
        "after login: {} ({} colours seen)",
        shot.display(),
        colours.len()
    );
    browser
        .session(reqwest::Method::DELETE, "", Value::Null)
        .await;
}
