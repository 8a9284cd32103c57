//! Authentication in front of the stream: tower-http's
//! `ValidateRequestHeaderLayer` (bearer and basic) guarding `/live` and
//! `/snapshot`, with the layer both inside and outside `MjpegLayer`.
//!
//! Both orders work, and a `401` is never turned into a stream: the layer
//! only streams responses that carry a responder, and a refusal carries none.
//! - Auth inside MJPEG (axum `route_layer` on the camera routes under a
//!   router-wide `MjpegLayer`): the `401` passes through the layer as it is.
//! - Auth outside MJPEG: the refusal never reaches the layer. axum re-boxes
//!   the body between layers, so it composes as is; a bare tower stack needs
//!   the body boxed between the two (`ValidateRequestHeaderLayer` wants a
//!   `Default` response body, and `MjpegBody` has none).
//!
//! tower-http deprecated its `bearer`/`basic` constructors in 0.6.7 ("too
//! basic to be useful in real applications"); they are what users reach for
//! first, so they are what is checked here.
#![allow(deprecated)]

use std::convert::Infallible;

use axum::extract::State;
use axum::routing::get;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use mjpeg_tower::server::{RequestBody, Server};
use mjpeg_tower::{BoxError, Frame, FrameHub, MjpegLayer};
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tower_http::validate_request::ValidateRequestHeaderLayer;

use crate::Backend;
use crate::backend::PLAIN;
use crate::client::{CheckResult, Context, Outcome, PATIENCE, content_type, parts};
use crate::ensure;

const TOKEN: &str = "conformance-token";
const USER: &str = "viewer";
const PASSWORD: &str = "conformance-password";
/// What `/private`, a plain route behind the auth layer, answers.
const PRIVATE: &str = "private plain route";

#[derive(Clone, Copy, Debug)]
enum Scheme {
    Bearer,
    Basic,
}

#[derive(Clone, Copy, Debug)]
enum Order {
    /// The auth layer wraps the routes, `MjpegLayer` wraps both.
    AuthInsideMjpeg,
    /// The auth layer wraps `MjpegLayer`, which wraps the routes.
    AuthOutsideMjpeg,
}

/// A guarded server and the frames it publishes; both stop on drop.
struct Guarded {
    base: String,
    hub: FrameHub,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    producer: tokio::task::JoinHandle<()>,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.hub.stop();
        self.task.abort();
        self.producer.abort();
    }
}

type Boxed = UnsyncBoxBody<Bytes, BoxError>;

fn boxed<B>(res: Response<B>) -> Response<Boxed>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    res.map(|b| b.map_err(Into::into).boxed_unsync())
}

fn text(s: &'static str) -> Response<Boxed> {
    boxed(Response::new(http_body_util::Full::new(Bytes::from(s))))
}

/// Routes: `/` public; `/private` (plain), `/live` (the hub) and
/// `/snapshot` behind `scheme`, in `order`.
async fn start(backend: Backend, scheme: Scheme, order: Order) -> Result<Guarded, String> {
    let hub = FrameHub::new();
    let server = Server::new();
    let listener = server
        .bind(([127, 0, 0, 1], 0).into())
        .await
        .context("bind")?;
    let addr = listener.local_addr().context("local addr")?;
    // The two schemes are different types: build the app once per scheme.
    macro_rules! with_auth {
        (|$auth:ident| $build:expr) => {
            match scheme {
                Scheme::Bearer => {
                    let $auth = ValidateRequestHeaderLayer::bearer(TOKEN);
                    $build
                }
                Scheme::Basic => {
                    let $auth = ValidateRequestHeaderLayer::basic(USER, PASSWORD);
                    $build
                }
            }
        };
    }
    let task = match backend {
        Backend::Axum => {
            let public = axum::Router::new().route("/", get(|| async { PLAIN }));
            let guarded = axum::Router::new()
                .route("/private", get(|| async { PRIVATE }))
                .route(
                    "/live",
                    get(|State(h): State<FrameHub>| async move { h.subscribe() }),
                )
                .route(
                    "/snapshot",
                    get(|State(h): State<FrameHub>| async move { h.snapshot() }),
                )
                .with_state(hub.clone());
            let app = with_auth!(|auth| match order {
                Order::AuthInsideMjpeg => public
                    .merge(guarded.route_layer(auth))
                    .layer(MjpegLayer::new()),
                Order::AuthOutsideMjpeg => public
                    .layer(MjpegLayer::new())
                    .merge(guarded.layer(MjpegLayer::new()).route_layer(auth)),
            });
            tokio::spawn(server.serve(listener, app))
        }
        Backend::Tower => {
            let h = hub.clone();
            let routes = service_fn(move |req: Request<RequestBody>| {
                let res = match req.uri().path() {
                    "/private" => text(PRIVATE),
                    "/live" => boxed(h.subscribe().into_http_response()),
                    "/snapshot" => boxed(h.snapshot().into_http_response()),
                    _ => {
                        let mut res = text("not found");
                        *res.status_mut() = StatusCode::NOT_FOUND;
                        res
                    }
                };
                async move { Ok::<_, Infallible>(res) }
            });
            let guarded = with_auth!(|auth| match order {
                Order::AuthInsideMjpeg => ServiceBuilder::new()
                    .layer(MjpegLayer::new())
                    .layer(auth)
                    .service(routes)
                    .map_response(boxed)
                    .boxed_clone(),
                // `ValidateRequestHeaderLayer` needs a `Default` body: box
                // `MjpegBody` between the two.
                Order::AuthOutsideMjpeg => ServiceBuilder::new()
                    .layer(auth)
                    .map_response(boxed)
                    .layer(MjpegLayer::new())
                    .service(routes)
                    .boxed_clone(),
            });
            let app = service_fn(move |req: Request<RequestBody>| {
                let guarded = guarded.clone();
                async move {
                    if req.uri().path() == "/" {
                        Ok(text(PLAIN))
                    } else {
                        guarded.oneshot(req).await
                    }
                }
            });
            tokio::spawn(server.serve(listener, app))
        }
        Backend::Warp => return Err("warp guards routes with its own filters".into()),
    };
    let publishing = hub.clone();
    let producer = tokio::spawn(async move {
        for n in 0..2000u32 {
            publishing.publish(Frame::jpeg(format!("frame {n}").into_bytes()));
            tokio::time::sleep(std::time::Duration::from_millis(33)).await;
        }
    });
    Ok(Guarded {
        base: format!("http://{addr}"),
        hub,
        task,
        producer,
    })
}

/// The credentials a request carries.
#[derive(Clone, Copy)]
enum Creds {
    None,
    Wrong,
    Right,
}

async fn send(scheme: Scheme, url: &str, creds: Creds) -> Result<reqwest::Response, String> {
    let req = reqwest::Client::new().get(url);
    let req = match (scheme, creds) {
        (_, Creds::None) => req,
        (Scheme::Bearer, Creds::Wrong) => req.bearer_auth("not-the-token"),
        (Scheme::Bearer, Creds::Right) => req.bearer_auth(TOKEN),
        (Scheme::Basic, Creds::Wrong) => req.basic_auth(USER, Some("not-the-password")),
        (Scheme::Basic, Creds::Right) => req.basic_auth(USER, Some(PASSWORD)),
    };
    tokio::time::timeout(PATIENCE, req.send())
        .await
        .context("GET timed out")?
        .context("GET failed")
}

/// Checks that `path` refuses `creds` with a complete `401`, not a stream.
async fn refused(scheme: Scheme, g: &Guarded, path: &str, creds: Creds) -> Result<(), String> {
    let res = send(scheme, &format!("{}{path}", g.base), creds).await?;
    ensure!(res.status() == 401, "{path}: status {}", res.status());
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    ensure!(
        !ct.as_deref().unwrap_or("").contains("multipart"),
        "{path}: a 401 with content-type {ct:?}"
    );
    let challenge = res.headers().get(header::WWW_AUTHENTICATE).cloned();
    if let Scheme::Basic = scheme {
        ensure!(
            challenge.as_ref().is_some_and(|v| v == "Basic"),
            "{path}: 401 without `WWW-Authenticate: Basic` ({challenge:?}): a browser would not ask"
        );
    }
    // A refusal is complete: a stream would never end.
    let body = tokio::time::timeout(PATIENCE, res.bytes())
        .await
        .context("the 401 body did not end")?
        .context("401 body")?;
    ensure!(body.len() < 1024, "{path}: a {}-byte 401 body", body.len());
    Ok(())
}

async fn guards(backend: Backend, scheme: Scheme) -> CheckResult {
    if backend == Backend::Warp {
        return Ok(Outcome::NotApplicable(
            "warp guards routes with its own filters, not tower-http layers".into(),
        ));
    }
    for order in [Order::AuthInsideMjpeg, Order::AuthOutsideMjpeg] {
        let g = start(backend, scheme, order).await?;
        let fail = |e: String| format!("{order:?}: {e}");
        for path in ["/live", "/snapshot", "/private"] {
            for creds in [Creds::None, Creds::Wrong] {
                refused(scheme, &g, path, creds).await.map_err(fail)?;
            }
        }
        let live = send(scheme, &format!("{}/live", g.base), Creds::Right).await?;
        ensure!(
            live.status() == 200,
            "{order:?}: /live with credentials: {}",
            live.status()
        );
        let ct = content_type(&live)?;
        ensure!(
            ct.starts_with("multipart/x-mixed-replace"),
            "{order:?}: /live with credentials: content-type {ct:?}"
        );
        let got = parts(live, 3).await.map_err(fail)?;
        ensure!(
            got.iter().all(|p| p.body.starts_with(b"frame ")),
            "{order:?}: /live parts are not the published frames"
        );
        let snap = send(scheme, &format!("{}/snapshot", g.base), Creds::Right).await?;
        ensure!(
            snap.status() == 200,
            "{order:?}: /snapshot: {}",
            snap.status()
        );
        ensure!(
            content_type(&snap)? == "image/jpeg",
            "{order:?}: /snapshot content-type {:?}",
            content_type(&snap)
        );
        let private = send(scheme, &format!("{}/private", g.base), Creds::Right).await?;
        ensure!(
            private.status() == 200,
            "{order:?}: /private: {}",
            private.status()
        );
        ensure!(
            private.text().await.context("/private")? == PRIVATE,
            "{order:?}: /private changed"
        );
        let public = send(scheme, &format!("{}/", g.base), Creds::None).await?;
        ensure!(public.status() == 200, "{order:?}: /: {}", public.status());
        ensure!(
            public.text().await.context("/")? == PLAIN,
            "{order:?}: / changed"
        );
    }
    Ok(Outcome::Pass(format!(
        "{scheme:?}, auth inside and outside MjpegLayer: /live, /snapshot, /private 401 without or with wrong \
         credentials (complete, not multipart{}); stream, snapshot and text with them; / public",
        if let Scheme::Basic = scheme {
            ", WWW-Authenticate: Basic"
        } else {
            ""
        }
    )))
}

pub(super) async fn bearer_guards_stream_and_snapshot(b: Backend) -> CheckResult {
    guards(b, Scheme::Bearer).await
}

pub(super) async fn basic_guards_and_challenges(b: Backend) -> CheckResult {
    guards(b, Scheme::Basic).await
}
