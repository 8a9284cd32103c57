//! Checks that need nothing but a stream URL: they run on our backends (a
//! hub fed at ~30 fps on `/live`) and on any server given with `--url`.

use std::time::Duration;

use futures_util::StreamExt;
use mjpeg_tower::decode::Decoder;
use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, MjpegLayer};

use crate::Target;
use crate::backend::{self, Running};
use crate::client::{CheckResult, Context, Outcome, PATIENCE, content_type, get, headers_but_date};
use crate::ensure;

/// The stream to check, and what keeps it alive.
struct Stream {
    url: String,
    _running: Option<Running>,
    _producer: Option<Producer>,
}

/// Aborts the producer task on drop.
struct Producer(tokio::task::JoinHandle<()>);

impl Drop for Producer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn stream(target: Target) -> Result<Stream, String> {
    match target {
        Target::Url(url) => Ok(Stream {
            url,
            _running: None,
            _producer: None,
        }),
        Target::Backend(b) => {
            let running = backend::start(b, MjpegLayer::new(), Server::new())
                .await
                .context("start")?;
            let hub = running.hub.clone();
            let producer = tokio::spawn(async move {
                for n in 0..2000u32 {
                    hub.publish(Frame::jpeg(format!("frame {n}").into_bytes()));
                    tokio::time::sleep(Duration::from_millis(33)).await;
                }
            });
            Ok(Stream {
                url: running.url("/live"),
                _running: Some(running),
                _producer: Some(Producer(producer)),
            })
        }
    }
}

pub(super) async fn stream_status_and_multipart_type(t: Target) -> CheckResult {
    let s = stream(t).await?;
    let res = get(&s.url).await?;
    ensure!(res.status() == 200, "status {}", res.status());
    let ct = content_type(&res)?;
    ensure!(
        ct.to_ascii_lowercase()
            .starts_with("multipart/x-mixed-replace"),
        "content-type {ct:?}"
    );
    let decoder = Decoder::from_content_type(&ct).context("boundary")?;
    ensure!(
        res.headers().get("content-length").is_none(),
        "content-length on an endless stream"
    );
    Ok(Outcome::Pass(format!(
        "200, multipart/x-mixed-replace, boundary {:?}",
        decoder.boundary()
    )))
}

pub(super) async fn stream_parts_parse_strictly(t: Target) -> CheckResult {
    const N: usize = 5;
    let s = stream(t).await?;
    let res = get(&s.url).await?;
    let ct = content_type(&res)?;
    let mut decoder = Decoder::from_content_type(&ct)
        .context("content-type")?
        .strict(true);
    let mut body = res.bytes_stream();
    let mut parts = Vec::new();
    let read = async {
        while parts.len() < N {
            let Some(chunk) = body.next().await else {
                break;
            };
            decoder.push(&chunk.context("body")?);
            while let Some(part) = decoder.next_part().context("invalid part")? {
                parts.push(part);
            }
        }
        Ok::<_, String>(())
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .context("parts did not arrive")??;
    ensure!(!parts.is_empty(), "no part arrived");
    ensure!(
        decoder.empty_parts_skipped() == 0,
        "{} empty part(s) among the first {}: Chromium commits an empty part as a broken image",
        decoder.empty_parts_skipped(),
        parts.len()
    );
    for (n, part) in parts.iter().enumerate() {
        if let Some(len) = part.content_length() {
            ensure!(
                len == part.body.len(),
                "part {n}: content-length {len} for {} bytes",
                part.body.len()
            );
        }
    }
    let with_len = parts
        .iter()
        .filter(|p| p.content_length().is_some())
        .count();
    Ok(Outcome::Pass(format!(
        "{} parts parse strictly, none empty, {with_len} with an exact content-length",
        parts.len()
    )))
}

pub(super) async fn head_answers_what_get_would(t: Target) -> CheckResult {
    let s = stream(t).await?;
    let client = reqwest::Client::new();
    let get = client.get(&s.url).send().await.context("GET")?;
    let head = client.head(&s.url).send().await.context("HEAD")?;
    let (gs, hs) = (get.status(), head.status());
    let (gh, hh) = (get.headers().clone(), head.headers().clone());
    drop(get);
    ensure!(gs == hs, "HEAD {hs}, GET {gs}");
    // Transfer-Encoding is the connection's business, not the resource's.
    let strip = |h: &http::HeaderMap| -> Vec<(String, String)> {
        headers_but_date(h)
            .into_iter()
            .filter(|(n, _)| n != "transfer-encoding")
            .collect()
    };
    ensure!(
        strip(&gh) == strip(&hh),
        "HEAD headers {:?} differ from GET's {:?}",
        strip(&hh),
        strip(&gh)
    );
    let body = head.bytes().await.context("HEAD body")?;
    ensure!(body.is_empty(), "HEAD got {} body bytes", body.len());
    Ok(Outcome::Pass(format!(
        "{hs} with GET's {} headers, no body",
        strip(&hh).len()
    )))
}
