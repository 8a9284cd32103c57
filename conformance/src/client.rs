//! What the checks use to talk to a backend: reqwest with the strict
//! decoder, a raw socket that can stop reading, and a lifecycle recorder.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use mjpeg_tower::decode::{Decoder, Part, PartStream};
use mjpeg_tower::{DisconnectReason, MjpegLayer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// How long any single wait in a check may take.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A check's verdict when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The property holds; the text says what was seen.
    Pass(String),
    /// The check could not run here (a real client is missing): a failure
    /// under `--require-clients`.
    Skip(String),
    /// The check does not apply to this target or client (e.g. lifecycle
    /// hooks of a server that is not ours): never a failure.
    NotApplicable(String),
}

/// What a check returns: `Err` is a failure, with the detail.
pub type CheckResult = Result<Outcome, String>;

/// Fails the check with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Turns any error into a check failure with context.
pub trait Context<T> {
    /// Fails with `what: error`.
    fn context(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// GET `url` with a fresh client (HTTP/1.1).
pub async fn get(url: &str) -> Result<reqwest::Response, String> {
    tokio::time::timeout(PATIENCE, reqwest::get(url))
        .await
        .context("GET timed out")?
        .context("GET failed")
}

/// Reads `n` parts of a live response with the strict decoder.
pub async fn parts(res: reqwest::Response, n: usize) -> Result<Vec<Part>, String> {
    let decoder = decoder_for(&res)?;
    let stream = PartStream::new(decoder, res.bytes_stream())
        .take(n)
        .collect::<Vec<_>>();
    let parts = tokio::time::timeout(PATIENCE, stream)
        .await
        .context("parts did not arrive")?;
    let parts = parts
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .context("invalid part")?;
    ensure!(
        parts.len() == n,
        "stream ended after {} of {n} parts",
        parts.len()
    );
    Ok(parts)
}

/// Reads a whole finite response; returns its parts and whether the close delimiter came.
pub async fn all_parts(res: reqwest::Response) -> Result<(Vec<Part>, bool), String> {
    let got = whole(res).await?;
    Ok((got.parts, got.closed))
}

/// The frames a closed stream carried. A stream ends on its last frame
/// twice: the part left open after it is filled with it (an empty part would
/// show as a broken or blank image). That repeat is left out.
pub fn frames_of(mut parts: Vec<Part>) -> Vec<Part> {
    if let [.., a, b] = &parts[..] {
        if a.body == b.body {
            parts.pop();
        }
    }
    parts
}

fn decoder_for(res: &reqwest::Response) -> Result<Decoder, String> {
    let ct = content_type(res)?;
    Ok(Decoder::from_content_type(&ct)
        .context("content-type")?
        .strict(true))
}

/// The response's `Content-Type`, or a failure saying it is missing.
pub fn content_type(res: &reqwest::Response) -> Result<String, String> {
    let value = res.headers().get("content-type").ok_or("no content-type")?;
    Ok(value.to_str().context("content-type")?.to_string())
}

/// A client that sends a GET and then reads nothing.
pub async fn silent_client(addr: std::net::SocketAddr, path: &str) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(addr).await.context("connect")?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .context("send request")?;
    Ok(stream)
}

/// Polls `cond` every 5 ms until it holds or [`PATIENCE`] runs out.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !cond() {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Records every `on_disconnect` (reason, active count) of a layer.
#[derive(Clone, Debug, Default)]
pub struct Disconnects(Arc<Mutex<Vec<(DisconnectReason, usize)>>>);

impl Disconnects {
    /// `layer`, reporting to this recorder.
    pub fn attach(&self, layer: MjpegLayer) -> MjpegLayer {
        let seen = self.0.clone();
        layer.on_disconnect(move |e| {
            if let Ok(mut seen) = seen.lock() {
                seen.push((e.reason, e.active));
            }
        })
    }

    /// Waits for `on_disconnect`, then checks it fired exactly once, with
    /// `reason` and no stream left open.
    pub async fn expect_one(&self, reason: DisconnectReason) -> Result<(), String> {
        wait_until("on_disconnect", || !self.seen().is_empty()).await?;
        // A second event would be a bug: give it a moment to show.
        tokio::time::sleep(Duration::from_millis(50)).await;
        ensure!(
            self.seen() == [(reason, 0)],
            "events {:?}, want one {reason:?} with 0 open",
            self.seen()
        );
        Ok(())
    }

    /// What was recorded so far.
    pub fn seen(&self) -> Vec<(DisconnectReason, usize)> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// A whole finite response, read with the tolerant decoder.
#[derive(Debug)]
pub struct Whole {
    /// The non-empty parts, in order.
    pub parts: Vec<Part>,
    /// Whether the close delimiter came.
    pub closed: bool,
    /// Parts with an empty body (Chromium commits one as a broken image).
    pub empty: u64,
    /// The raw body.
    pub body: bytes::Bytes,
}

/// Reads a whole finite response, counting empty parts.
pub async fn whole(res: reqwest::Response) -> Result<Whole, String> {
    let mut decoder = decoder_for(&res)?;
    let body = tokio::time::timeout(PATIENCE, res.bytes())
        .await
        .context("body did not end")?
        .context("body failed")?;
    decoder.push(&body);
    let mut parts = Vec::new();
    while let Some(part) = decoder.next_part().context("invalid part")? {
        parts.push(part);
    }
    while let Some(part) = decoder.finish().context("invalid end")? {
        parts.push(part);
    }
    Ok(Whole {
        parts,
        closed: decoder.is_closed(),
        empty: decoder.empty_parts_skipped(),
        body,
    })
}

/// The response headers but `date` (which differs from one second to the next).
pub fn headers_but_date(h: &http::HeaderMap) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = h
        .iter()
        .filter(|(n, _)| *n != http::header::DATE)
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The body of the part the close delimiter ends (`None`: no close
/// delimiter, or no part before it). Read from the raw bytes, not the
/// decoder: a delimiter followed straight by the close delimiter is an
/// empty part to a browser, whatever a tolerant parser makes of it.
pub fn last_part_body<'a>(body: &'a [u8], boundary: &str) -> Option<&'a [u8]> {
    let find_last =
        |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).rposition(|w| w == needle);
    let close = format!("--{boundary}--");
    let close_at = find_last(body, close.as_bytes())?;
    let open = format!("--{boundary}\r\n");
    let open_at = find_last(&body[..close_at], open.as_bytes())?;
    let part = &body[open_at + open.len()..close_at];
    let body = if let Some(rest) = part.strip_prefix(b"\r\n") {
        rest // no headers
    } else {
        let end = part.windows(4).position(|w| w == b"\r\n\r\n")?;
        &part[end + 4..]
    };
    // The CRLF before the close delimiter belongs to the delimiter.
    let body = body.strip_suffix(b"\r\n").unwrap_or(body);
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_part_before_the_close_delimiter() {
        let ok = b"--B\r\nContent-Type: a\r\n\r\nhi\r\n--B--\r\n";
        assert_eq!(last_part_body(ok, "B"), Some(&b"hi"[..]));
        let empty_advance = b"--B\r\nA: 1\r\n\r\nhi\r\n--B\r\nA: 1\r\n\r\n\r\n--B--\r\n";
        assert_eq!(last_part_body(empty_advance, "B"), Some(&b""[..]));
        let empty_standard = b"--B\r\nA: 1\r\n\r\nhi\r\n--B\r\n\r\n--B--\r\n";
        assert_eq!(last_part_body(empty_standard, "B"), Some(&b""[..]));
        assert_eq!(last_part_body(b"--B\r\n\r\nhi\r\n", "B"), None);
    }
}
