//! Response headers: content type, boundary, caching, overrides, passthrough, HEAD.

use http::{HeaderName, HeaderValue};
use mjpeg_tower::MjpegLayer;
use mjpeg_tower::server::Server;

use crate::backend::{self, Backend, PLAIN};
use crate::client::{
    CheckResult, Context, Outcome, content_type, get, headers_but_date, parts, wait_until,
};
use crate::ensure;

pub(super) async fn status_and_content_type_with_boundary(b: Backend) -> CheckResult {
    let running = backend::start(
        b,
        MjpegLayer::new().boundary("frame").context("boundary")?,
        Server::new(),
    )
    .await
    .context("start")?;
    let res = get(&running.url("/finite")).await?;
    ensure!(res.status() == 200, "status {}", res.status());
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("?").to_string());
    ensure!(
        ct.as_deref() == Some("multipart/x-mixed-replace; boundary=frame"),
        "content-type {ct:?}"
    );
    ensure!(
        res.headers().get("content-length").is_none(),
        "content-length on an endless body"
    );
    Ok(Outcome::Pass(format!("200, {}", ct.unwrap_or_default())))
}

pub(super) async fn boundary_unquoted_and_valid(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    let ct = content_type(&get(&running.url("/live")).await?)?;
    let boundary = ct
        .strip_prefix("multipart/x-mixed-replace; boundary=")
        .ok_or(format!("unexpected content-type {ct}"))?;
    ensure!(
        !boundary.contains('"'),
        "quoted boundary {boundary} (freezes Safari)"
    );
    // RFC 2046 bchars that may stand unquoted (RFC 2045 token), 1 to 70 of
    // them: checked here, not with the library's own validator.
    let unquoted_bchar = |c: char| c.is_ascii_alphanumeric() || "'+_-.".contains(c);
    ensure!(
        (1..=70).contains(&boundary.len()) && boundary.chars().all(unquoted_bchar),
        "boundary {boundary:?} is not 1-70 unquoted RFC 2046 chars"
    );
    ensure!(
        !boundary.starts_with("--"),
        "boundary {boundary:?} starts with --"
    );
    Ok(Outcome::Pass(format!("boundary={boundary}")))
}

pub(super) async fn no_cache_defaults(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    let res = get(&running.url("/finite")).await?;
    let want = [
        (
            "cache-control",
            "no-cache, no-store, max-age=0, must-revalidate",
        ),
        ("pragma", "no-cache"),
        ("expires", "0"),
        ("x-accel-buffering", "no"),
    ];
    for (name, value) in want {
        let got = res.headers().get(name);
        ensure!(
            got.is_some_and(|v| v == value),
            "{name}: {got:?}, want {value:?}"
        );
    }
    Ok(Outcome::Pass(
        "cache-control, pragma, expires, x-accel-buffering".into(),
    ))
}

pub(super) async fn user_header_overrides(b: Backend) -> CheckResult {
    let layer = MjpegLayer::new()
        .header(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        )
        .header(
            HeaderName::from_static("x-camera"),
            HeaderValue::from_static("porch"),
        )
        .remove_header(http::header::PRAGMA)
        .part_header(
            HeaderName::from_static("x-part"),
            HeaderValue::from_static("yes"),
        )
        .part_header(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("image/x-test"),
        );
    let running = backend::start(b, layer, Server::new())
        .await
        .context("start")?;
    let res = get(&running.url("/finite")).await?;
    let h = res.headers().clone();
    let cache = h.get("cache-control");
    ensure!(
        cache.is_some_and(|v| v == "private, no-store"),
        "cache-control {cache:?}"
    );
    let camera = h.get("x-camera");
    ensure!(camera.is_some_and(|v| v == "porch"), "x-camera {camera:?}");
    ensure!(h.get("pragma").is_none(), "removed pragma is still sent");
    let first = parts(res, 1).await?.remove(0);
    // Frame::jpeg sets its own content type: it wins over the part default.
    ensure!(
        first.content_type() == Some("image/jpeg"),
        "part content-type {:?}",
        first.content_type()
    );
    ensure!(
        first.headers.get("x-part").is_some_and(|v| v == "yes"),
        "part header missing: {:?}",
        first.headers
    );
    Ok(Outcome::Pass("global add/replace/remove, part add".into()))
}

pub(super) async fn passthrough_routes_unchanged(b: Backend) -> CheckResult {
    let running = backend::start(b, MjpegLayer::new(), Server::new())
        .await
        .context("start")?;
    let res = get(&running.url("/")).await?;
    ensure!(res.status() == 200, "status {}", res.status());
    for name in ["x-accel-buffering", "pragma", "expires"] {
        ensure!(
            res.headers().get(name).is_none(),
            "layer header {name} added to a plain route"
        );
    }
    let body = res.text().await.context("body")?;
    ensure!(body == PLAIN, "body changed: {body:?}");
    Ok(Outcome::Pass("status, headers, body untouched".into()))
}

pub(super) async fn head_request_answered(b: Backend) -> CheckResult {
    let layer = MjpegLayer::new();
    let running = backend::start(b, layer.clone(), Server::new())
        .await
        .context("start")?;
    running.hub.publish(mjpeg_tower::Frame::jpeg(&b"frame"[..]));
    let client = reqwest::Client::new();
    let get = client
        .get(running.url("/live"))
        .send()
        .await
        .context("GET")?;
    let want = headers_but_date(get.headers());
    drop(get);
    wait_until("the GET viewer to leave", || layer.stats().active == 0).await?;
    let before = layer.stats().total_connections;
    let res = client
        .head(running.url("/live"))
        .send()
        .await
        .context("HEAD")?;
    ensure!(res.status() == 200, "status {}", res.status());
    // A HEAD answers what GET would: an endless stream has no length.
    let len = res.headers().get("content-length");
    ensure!(
        len.is_none(),
        "HEAD says content-length {len:?}; GET has none"
    );
    let got: Vec<_> = headers_but_date(res.headers())
        .into_iter()
        .filter(|(n, _)| n != "transfer-encoding")
        .collect();
    let want: Vec<_> = want
        .into_iter()
        .filter(|(n, _)| n != "transfer-encoding")
        .collect();
    ensure!(got == want, "HEAD headers {got:?}, GET's {want:?}");
    let body = res.bytes().await.context("body")?;
    ensure!(body.is_empty(), "HEAD got {} body bytes", body.len());
    ensure!(
        layer.stats().total_connections == before,
        "HEAD opened a stream"
    );
    Ok(Outcome::Pass(
        "200 with GET's headers, no content-length, no body, no viewer".into(),
    ))
}

pub(super) async fn head_when_full_answers_503(b: Backend) -> CheckResult {
    let layer = MjpegLayer::new().max_clients(Some(1));
    let running = backend::start(b, layer.clone(), Server::new())
        .await
        .context("start")?;
    running.hub.publish(mjpeg_tower::Frame::jpeg(&b"frame"[..]));
    let client = reqwest::Client::new();
    let first = client
        .get(running.url("/live"))
        .send()
        .await
        .context("GET")?;
    ensure!(first.status() == 200, "first viewer got {}", first.status());
    let get = client
        .get(running.url("/live"))
        .send()
        .await
        .context("GET")?;
    let head = client
        .head(running.url("/live"))
        .send()
        .await
        .context("HEAD")?;
    ensure!(
        get.status() == 503,
        "a second GET got {}, want 503",
        get.status()
    );
    ensure!(
        head.status() == get.status(),
        "HEAD got {} while GET gets {} (max_clients full)",
        head.status(),
        get.status()
    );
    ensure!(
        head.headers().get("retry-after") == get.headers().get("retry-after"),
        "HEAD retry-after {:?}, GET's {:?}",
        head.headers().get("retry-after"),
        get.headers().get("retry-after")
    );
    drop(first);
    Ok(Outcome::Pass("503 + Retry-After, as GET".into()))
}
