//! Firefox ESR, headless, as a plain child process with a fresh profile.
//!
//! There is no geckodriver in Debian, so no WebDriver session: like
//! Chromium, Firefox opens the viewer page, which reports what it drew to
//! the page server.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;

use super::process::{Scratch, run_browser};
use super::{ClientError, find_program};

const PROGRAM: &str = "firefox-esr";

/// Preferences of the fresh profile: no first-run pages, no background
/// traffic (only loopback is ever contacted).
const USER_JS: &str = r#"user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.normandy.enabled", false);
user_pref("app.update.auto", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
"#;

/// Creates the profile's certificate database and adds `ca_pem` as a
/// trusted CA for web sites.
async fn trust(profile: &std::path::Path, ca_pem: &str) -> Result<(), ClientError> {
    const CERTUTIL: &str = "certutil (libnss3-tools)";
    let certutil =
        find_program("/usr/bin/certutil", "certutil").ok_or(ClientError::NotInstalled(CERTUTIL))?;
    let ca = profile.join("test-ca.pem");
    std::fs::write(&ca, ca_pem).map_err(|e| ClientError::Spawn(CERTUTIL, e))?;
    let db = format!("sql:{}", profile.display());
    let steps: [&[&str]; 2] = [
        &["-N", "-d", &db, "--empty-password"],
        &[
            "-A",
            "-n",
            "mjpeg-conformance-ca",
            "-t",
            "C,,",
            "-d",
            &db,
            "-i",
        ],
    ];
    for (n, args) in steps.iter().enumerate() {
        let mut command = Command::new(&certutil);
        command.args(*args);
        if n == 1 {
            command.arg(&ca);
        }
        let out = command
            .output()
            .await
            .map_err(|e| ClientError::Spawn(CERTUTIL, e))?;
        if !out.status.success() {
            return Err(ClientError::BadOutput(
                CERTUTIL,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
    }
    Ok(())
}

/// `/usr/bin/firefox-esr`, else `firefox-esr` on `PATH`.
pub fn firefox_path() -> Option<PathBuf> {
    find_program("/usr/bin/firefox-esr", PROGRAM)
}

/// Opens `url` in headless Firefox ESR with a fresh profile and waits for
/// `done`, at most `timeout`; the browser's process group and profile are
/// gone when this returns.
///
/// # Errors
/// [`ClientError::NotInstalled`], [`ClientError::Spawn`],
/// [`ClientError::TimedOut`], and [`ClientError::BadOutput`] if Firefox
/// exited first.
pub async fn run_page<F: Future>(
    url: &str,
    timeout: Duration,
    done: F,
) -> Result<F::Output, ClientError> {
    run_page_trusting(url, None, timeout, done).await
}

/// Like [`run_page`], with the profile trusting the CA in `ca_pem` (added to
/// its certificate database with NSS's `certutil`, from `libnss3-tools`).
///
/// # Errors
/// As [`run_page`]; [`ClientError::NotInstalled`] without `certutil`.
pub async fn run_page_trusting<F: Future>(
    url: &str,
    ca_pem: Option<&str>,
    timeout: Duration,
    done: F,
) -> Result<F::Output, ClientError> {
    let program = firefox_path().ok_or(ClientError::NotInstalled(PROGRAM))?;
    let profile = Scratch::create("firefox").map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    std::fs::write(profile.dir().join("user.js"), USER_JS)
        .map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    if let Some(ca) = ca_pem {
        trust(profile.dir(), ca).await?;
    }
    let mut command = Command::new(program);
    command
        .args(["--headless", "--no-remote", "--profile"])
        .arg(profile.dir())
        .arg(url)
        // No accessibility bus or desktop session to look for.
        .env("MOZ_HEADLESS", "1")
        .env_remove("DISPLAY");
    run_browser(PROGRAM, command, profile, timeout, done).await
}
