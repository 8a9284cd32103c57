//! The backends are interchangeable on the wire: the client matrix runs on
//! one of them only because this check proves the others send the same bytes.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, Framing, MjpegLayer};

use crate::backend::{self, Backend};
use crate::client::{CheckResult, Context, Outcome, get, headers_but_date, wait_until, whole};
use crate::ensure;

const BOUNDARY: &str = "same-bytes";

/// Frames covering every scenario's shape: plain, own headers, the delimiter
/// in the payload, one byte, large.
fn frames() -> Vec<Frame> {
    let stamp = HeaderName::from_static("x-timestamp");
    let mut delimiter = b"\xFF\xD8 before\r\n--".to_vec();
    delimiter.extend_from_slice(BOUNDARY.as_bytes());
    delimiter.extend_from_slice(b"\r\nafter \xFF\xD9");
    vec![
        Frame::jpeg(&b"\xFF\xD8 plain \xFF\xD9"[..]),
        Frame::jpeg(&b"\xFF\xD8 stamped \xFF\xD9"[..])
            .with_header(stamp, HeaderValue::from_static("1700000000000")),
        Frame::jpeg(delimiter),
        Frame::jpeg(&b"x"[..]),
        Frame::jpeg(vec![7u8; 300_000]),
        Frame::jpeg(&b"\xFF\xD8 last \xFF\xD9"[..]),
    ]
}

/// Everything a client gets for the per-request stream and for the hub
/// (publish, stop), in `framing`: status and headers but `date`, and bodies.
async fn capture(b: Backend, framing: Framing) -> Result<Vec<String>, String> {
    let layer = MjpegLayer::new()
        .framing(framing)
        .boundary(BOUNDARY)
        .context("boundary")?;
    let running = backend::start(b, layer, Server::new())
        .await
        .context("start")?;
    running
        .script
        .set(frames().into_iter().map(|f| (Duration::ZERO, f)).collect());
    let mut out = Vec::new();
    let res = get(&running.url("/play")).await?;
    out.push(format!(
        "{} {:?}",
        res.status(),
        headers_but_date(res.headers())
    ));
    out.push(format!("{:?}", whole(res).await?.body));
    let mut frames = frames().into_iter();
    if let Some(first) = frames.next() {
        running.hub.publish(first);
    }
    let res = get(&running.url("/live")).await?;
    wait_until("the viewer", || running.hub.viewers() == 1).await?;
    for frame in frames {
        running.hub.publish(frame);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    running.hub.stop();
    out.push(format!(
        "{} {:?}",
        res.status(),
        headers_but_date(res.headers())
    ));
    out.push(format!("{:?}", whole(res).await?.body));
    Ok(out)
}

/// `b` against the bare tower service (for tower itself: a second run).
pub(super) async fn backends_send_identical_bytes(b: Backend) -> CheckResult {
    let what = ["/play head", "/play body", "/live head", "/live body"];
    for framing in [Framing::AdvanceHeaders, Framing::Standard] {
        let (got, reference) = (
            capture(b, framing).await?,
            capture(Backend::Tower, framing).await?,
        );
        for ((g, r), what) in got.iter().zip(&reference).zip(what) {
            ensure!(
                g == r,
                "{framing:?} {what} differs from tower's: {} vs {} chars (e.g. {:?})",
                g.len(),
                r.len(),
                g.chars()
                    .zip(r.chars())
                    .skip_while(|(a, b)| a == b)
                    .take(40)
                    .map(|p| p.0)
                    .collect::<String>()
            );
        }
    }
    Ok(Outcome::Pass(format!(
        "same status, headers and body bytes as tower in both framings ({} frame shapes, per-request and hub)",
        frames().len()
    )))
}
