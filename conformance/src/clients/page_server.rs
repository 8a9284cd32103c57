//! Serves the viewer page and takes its report: a tiny axum app on its own
//! loopback port, so the backends under test serve only their scenario routes.
//!
//! The page reads the stream's pixels, so the image must be same-origin or
//! CORS-approved; WebKitGTK fails a cross-origin multipart image loaded with
//! `crossorigin` (an `error` event, nothing drawn) even with
//! `Access-Control-Allow-Origin: *`. So the page server passes the stream
//! through at `/stream` (chunk by chunk, bytes untouched) and every browser
//! watches it same-origin.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::mpsc;

use super::ClientError;
use super::page::{PageOptions, PageReport, html};

/// A running page server; stops when dropped.
#[derive(Debug)]
pub struct PageServer {
    url: String,
    reports: mpsc::Receiver<Bytes>,
    task: tokio::task::JoinHandle<()>,
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ClientError::Spawn("page server", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ClientError::Spawn("page server", e))?;
        let mut same_origin = options.clone();
        same_origin.stream_url = "/stream".into();
        // The report goes to another origin (`localhost`, the same server):
        // the streams may hold every connection the browser allows to this one.
        if same_origin.report_url.starts_with('/') {
            same_origin.report_url =
                format!("http://localhost:{}{}", addr.port(), same_origin.report_url);
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
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url: format!("http://{addr}/page"),
            reports,
            task,
        })
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
