//! `--kind hyper` (diagnostics, not in the driver's plan): hyper's HTTP/1.1
//! server with its defaults and nothing of mjpeg-tower, streaming the raw
//! ceiling's part bytes (payload, then delimiter and next header block) from
//! a `tokio::sync::watch` channel as a chunked body. Between the raw ceiling
//! and the hub servers, it tells what hyper itself costs per frame.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream;
use http::{Request, Response};
use http_body_util::StreamBody;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::watch;

use mjpeg_tower::Boundary;

use super::raw::{BLOCK, RawPart, listen, produce};
use super::{Opts, StatsFn};

pub(super) async fn start_hyper(
    opts: &Opts,
    addr: SocketAddr,
    payloads: Vec<Bytes>,
    published: Arc<AtomicU64>,
) -> Result<(StatsFn, SocketAddr), String> {
    let (listener, local) = listen(addr)?;
    let period = Duration::from_secs_f64(1.0 / opts.fps);
    let rx = produce(payloads, Arc::clone(&published), period);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let rx = rx.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_: Request<Incoming>| {
                    let rx = rx.clone();
                    async move { Ok::<_, Infallible>(response(rx)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let stats: StatsFn = Arc::new(move || json!({ "published": published.load(Relaxed) }));
    Ok((stats, local))
}

type PartStream = stream::BoxStream<'static, Result<Frame<Bytes>, Infallible>>;

fn response(rx: watch::Receiver<Arc<RawPart>>) -> Response<StreamBody<PartStream>> {
    let opening = Bytes::from(format!("--{}\r\n{BLOCK}", Boundary::default()));
    let current = Arc::clone(&rx.borrow());
    let later = stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let part = Arc::clone(&rx.borrow_and_update());
        Some((part, rx))
    });
    let parts = stream::once(async move { current })
        .chain(later)
        .flat_map(|part| {
            stream::iter([
                Ok(Frame::data(part.payload.clone())),
                Ok(Frame::data(part.tail.clone())),
            ])
        });
    let body = stream::once(async move { Ok(Frame::data(opening)) })
        .chain(parts)
        .boxed();
    Response::builder()
        .header(
            http::header::CONTENT_TYPE,
            format!(
                "multipart/x-mixed-replace; boundary={}",
                Boundary::default()
            ),
        )
        .body(StreamBody::new(body))
        .unwrap_or_else(|_| Response::new(StreamBody::new(stream::empty().boxed())))
}
