//! Serves the viewer page and takes its report: a tiny axum app on its own
//! loopback port, so the backends under test serve only their scenario routes.
//!
//! The page reads the stream's pixels, so the image must be same-origin or
//! CORS-approved; WebKitGTK fails a cross-origin multipart image loaded with
//! `crossorigin` (an `error` event, nothing drawn) even with
//! `Access-Control-Allow-Origin: *`. So the page server passes the stream
//! through at `/stream` (chunk by chunk, bytes untouched) and every browser
//! watches it same-origin.
//!
//! With [`PageOptions::https`] the page server speaks HTTPS (ALPN `h2` and
//! `http/1.1`) with a certificate for `localhost` and `127.0.0.1` signed by
//! a CA made for the run ([`PageServer::ca_pem`]), so a browser can trust it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use mjpeg_axum::{Server, TlsConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::sync::mpsc;

use super::ClientError;
use super::page::{PageOptions, PageReport, html};

/// A running page server; stops when dropped.
#[derive(Debug)]
pub struct PageServer {
    url: String,
    reports: mpsc::Receiver<Bytes>,
    task: tokio::task::JoinHandle<()>,
    ca_pem: Option<String>,
}

impl PageServer {
    /// Serves a page that watches `stream_url` for `duration`.
    ///
    /// # Errors
    /// [`ClientError::Spawn`] if no loopback port can be bound.
    pub async fn start(stream_url: &str, duration: Duration) -> Result<Self, ClientError> {
        Self::with_options(&PageOptions::new(stream_url, duration)).await
    }

    /// Serves the page `options` describe.
    ///
    /// # Errors
    /// [`ClientError::Spawn`] if no loopback port can be bound.
    pub async fn with_options(options: &PageOptions) -> Result<Self, ClientError> {
        let spawn_error = |e| ClientError::Spawn("page server", e);
        let plain = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(spawn_error)?;
        let addr = plain.local_addr().map_err(spawn_error)?;
        let (scheme, tls) = if options.https {
            let (tls, ca) = test_tls().map_err(|e| ClientError::BadOutput("page server", e))?;
            ("https", Some((tls, ca)))
        } else {
            ("http", None)
        };
        let mut same_origin = options.clone();
        same_origin.stream_url = "/stream".into();
        // The report goes to another origin (`localhost`, the same server):
        // the streams may hold every connection the browser allows to this one.
        if same_origin.report_url.starts_with('/') {
            same_origin.report_url = format!(
                "{scheme}://localhost:{}{}",
                addr.port(),
                same_origin.report_url
            );
        }
        let page = Arc::new(html(&same_origin));
        let upstream = Arc::new(options.stream_url.clone());
        let (tx, reports) = mpsc::channel(4);
        let app = Router::new()
            .route(
                "/page",
                get(move || async move { Html(page.as_str().to_owned()) }),
            )
            .route(
                "/stream",
                get(move |uri: Uri| pass_through(upstream.clone(), uri)),
            )
            .route(
                "/report",
                post(
                    |State(tx): State<mpsc::Sender<Bytes>>, body: Bytes| async move {
                        let _ = tx.send(body).await;
                    },
                ),
            )
            .with_state(tx);
        let (task, ca_pem) = match tls {
            None => (
                tokio::spawn(async move {
                    let _ = axum::serve(plain, app).await;
                }),
                None,
            ),
            Some((tls, ca)) => {
                let server = Server::new().tls(Some(tls));
                let listener = mjpeg_axum::MjpegListener::new(plain, server);
                let task = tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                });
                (task, Some(ca))
            }
        };
        Ok(Self {
            url: format!("{scheme}://{addr}/page"),
            reports,
            task,
            ca_pem,
        })
    }

    /// The PEM of the CA that signed an HTTPS page server's certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The page's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits for the page's report.
    ///
    /// # Errors
    /// [`ClientError::BadOutput`] if the report is malformed or never came.
    pub async fn report(&mut self) -> Result<PageReport, ClientError> {
        let body = self
            .reports
            .recv()
            .await
            .ok_or(ClientError::BadOutput("viewer page", "no report".into()))?;
        PageReport::parse(&body)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TLS configuration for `localhost` and `127.0.0.1`, and the PEM of the
/// CA made for it.
fn test_tls() -> Result<(TlsConfig, String), String> {
    let err = |e: rcgen::Error| e.to_string();
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "mjpeg-conformance test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(err)?).map_err(err)?;
    let key = KeyPair::generate().map_err(err)?;
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(err)?
        .signed_by(&key, &ca)
        .map_err(err)?;
    let chain = format!("{}{}", leaf.pem(), ca.pem());
    let tls = TlsConfig::from_pem(chain.as_bytes(), key.serialize_pem().as_bytes())
        .map_err(|e| e.to_string())?;
    Ok((tls, ca.pem()))
}

/// GETs the upstream stream (with the request's query appended) and passes
/// status, content type and body through as they come.
async fn pass_through(upstream: Arc<String>, uri: Uri) -> Response {
    let url = match uri.query() {
        Some(q) if upstream.contains('?') => format!("{upstream}&{q}"),
        Some(q) => format!("{upstream}?{q}"),
        None => upstream.as_str().to_owned(),
    };
    let client = reqwest::Client::builder().no_proxy().build();
    let res = match client {
        Ok(client) => client.get(&url).send().await,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let res = match res {
        Ok(res) => res,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let mut out = Response::builder().status(res.status().as_u16());
    for name in ["content-type", "cache-control", "retry-after"] {
        if let Some(v) = res.headers().get(name) {
            out = out.header(name, v.as_bytes());
        }
    }
    out.body(axum::body::Body::from_stream(res.bytes_stream()))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}
