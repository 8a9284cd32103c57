//! Serves the viewer page and takes its report: a tiny axum app on its own
//! loopback port, so the backends under test serve only their scenario routes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Html;
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
        let page = Arc::new(html(&PageOptions::new(stream_url, duration)));
        let (tx, reports) = mpsc::channel(4);
        let app = Router::new()
            .route(
                "/page",
                get(move || async move { Html(page.as_str().to_owned()) }),
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ClientError::Spawn("page server", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ClientError::Spawn("page server", e))?;
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
