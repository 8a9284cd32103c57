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
    let program = firefox_path().ok_or(ClientError::NotInstalled(PROGRAM))?;
    let profile = Scratch::create("firefox").map_err(|e| ClientError::Spawn(PROGRAM, e))?;
    std::fs::write(profile.dir().join("user.js"), USER_JS)
        .map_err(|e| ClientError::Spawn(PROGRAM, e))?;
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
