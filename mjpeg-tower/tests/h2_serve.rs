//! HTTP/2 (h2c) as `Server` serves it with the `h2` crate: what hyper did
//! for us (date, connection headers, content-length, request bodies), a
//! client's `RST_STREAM`, and graceful shutdown.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use mjpeg_tower::ingest::Ingest;
use mjpeg_tower::server::{RequestBody, Server};
use mjpeg_tower::{DisconnectReason, Frame, FrameHub, MjpegLayer};
use support::Recorder;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceBuilder;
use tower::service_fn;

const FRAME: usize = 50_000;

async fn client(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    client.ready().await.unwrap()
}

async fn get(client: &mut h2::client::SendRequest<Bytes>, path: &str) -> Response<h2::RecvStream> {
    let req = Request::get(format!("http://x{path}")).body(()).unwrap();
    let (response, _) = client.send_request(req, true).unwrap();
    response.await.unwrap()
}

async fn listener(server: &Server) -> (TcpListener, SocketAddr) {
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

#[tokio::test]
async fn responses_get_a_date_a_length_and_no_connection_headers() {
    let server = Server::new();
    let (listener, addr) = listener(&server).await;
    let svc = service_fn(|req: Request<RequestBody>| async move {
        let res = match req.uri().path() {
            "/empty" => Response::new(Full::new(Bytes::new())),
            _ => Response::builder()
                .header("connection", "keep-alive, x-hop")
                .header("x-hop", "1")
                .header("keep-alive", "timeout=5")
                .header("content-type", "text/plain")
                .body(Full::new(Bytes::from_static(b"hello")))
                .unwrap(),
        };
        Ok::<_, Infallible>(res)
    });
    tokio::spawn(server.serve(listener, svc));
    let mut client = client(addr).await;
    let res = get(&mut client, "/text").await;
    let headers = res.headers();
    assert!(headers.get("date").is_some(), "no date: {headers:?}");
    assert_eq!(headers["content-length"], "5");
    for name in ["connection", "keep-alive", "x-hop"] {
        assert!(headers.get(name).is_none(), "{name} sent: {headers:?}");
    }
    let mut body = res.into_body();
    assert_eq!(body.data().await.unwrap().unwrap(), "hello");
    // An empty body ends the stream with the head.
    let res = get(&mut client, "/empty").await;
    assert!(res.body().is_end_stream());
    assert!(res.headers().get("date").is_some());
}

fn part(body: &[u8]) -> Vec<u8> {
    let head = format!(
        "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body, b"\r\n"].concat()
}

#[tokio::test]
async fn an_ingest_post_larger_than_the_stream_window_arrives_whole() {
    let hub = FrameHub::new();
    let h = hub.clone();
    let server = Server::new();
    let (listener, addr) = listener(&server).await;
    let svc = service_fn(move |req: Request<RequestBody>| {
        let h = h.clone();
        async move {
            let res = match Ingest::new().request(req, &h).await {
                Ok(summary) => summary.into_http_response(),
                Err(err) => err.into_http_response(),
            };
            Ok::<_, Infallible>(res.map(Full::new))
        }
    });
    tokio::spawn(server.serve(listener, svc));
    // 40 frames of 100 KB: four times the server's 1 MiB stream window, so
    // it arrives only if the body releases capacity as it is read.
    let mut jpeg = vec![0xAB; 100_000];
    jpeg[..2].copy_from_slice(&[0xFF, 0xD8]);
    jpeg[100_000 - 2..].copy_from_slice(&[0xFF, 0xD9]);
    let mut input: Vec<u8> = (0..40).flat_map(|_| part(&jpeg)).collect();
    input.extend_from_slice(b"--frame--\r\n");
    let mut client = client(addr).await;
    let req = Request::post("http://x/ingest")
        .header("content-type", "multipart/x-mixed-replace; boundary=frame")
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(req, false).unwrap();
    let mut input = Bytes::from(input);
    let upload = async {
        while !input.is_empty() {
            send.reserve_capacity(input.len());
            let capacity = std::future::poll_fn(|cx| send.poll_capacity(cx))
                .await
                .unwrap()
                .unwrap();
            let piece = input.split_to(capacity.min(input.len()));
            send.send_data(piece, input.is_empty()).unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(10), upload)
        .await
        .expect("the server stopped taking the body");
    let res = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("the POST never got an answer")
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();
    let text = body.data().await.unwrap().unwrap();
    assert_eq!(text, "published 40 frames (4000000 bytes), skipped 0\n");
    assert_eq!(hub.stats().published, 40);
}

/// `/stream` at 30 fps; `/quiet` from a hub that never publishes.
async fn serve_live(rec: &Recorder, server: Server) -> (SocketAddr, FrameHub) {
    let hub = FrameHub::new();
    let quiet = FrameHub::new();
    let h = hub.clone();
    let addr = support::serve(rec.attach(MjpegLayer::new()), server, move |path| {
        if path == "/quiet" {
            quiet.subscribe().into_http_response()
        } else {
            h.subscribe().into_http_response()
        }
    })
    .await;
    let publisher = hub.clone();
    tokio::spawn(async move {
        for _ in 0..30 * 20 {
            publisher.publish(Frame::jpeg(vec![0xAB; FRAME]));
            tokio::time::sleep(Duration::from_millis(33)).await;
        }
    });
    (addr, hub)
}

#[tokio::test]
async fn a_client_reset_frees_the_viewer_at_once_even_while_its_window_is_spent() {
    let rec = Recorder::default();
    // No stall timeout: only the client's reset can end these streams.
    let server = Server::new().write_stall_timeout(None);
    let (addr, hub) = serve_live(&rec, server).await;
    let mut client = client(addr).await;
    // One stream read, then reset; one never read (its 64 KiB window spent,
    // the server waiting for capacity), then reset; one waiting for a frame
    // that never comes, then reset.
    let mut read = get(&mut client, "/stream").await.into_body();
    read.data().await.unwrap().unwrap();
    let unread = get(&mut client, "/stream").await.into_body();
    let quiet = get(&mut client, "/quiet").await.into_body();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(hub.viewers(), 2);
    let reset = Instant::now();
    drop(read); // the h2 client resets a stream it no longer holds
    drop(unread);
    drop(quiet);
    let events = rec.wait_disconnects(3).await;
    let took = reset.elapsed();
    assert!(took < Duration::from_secs(1), "freed after {took:?}");
    for event in events {
        assert_eq!(event.reason().unwrap().0, DisconnectReason::ClientClosed);
    }
    assert_eq!(hub.viewers(), 0);
}

#[tokio::test]
async fn graceful_shutdown_sends_goaway_and_lets_open_h2_streams_finish() {
    let rec = Recorder::default();
    let hub = FrameHub::new();
    let h = hub.clone();
    let server = Server::new().shutdown_grace(Duration::from_secs(10));
    let (listener, addr) = listener(&server).await;
    let svc = ServiceBuilder::new()
        .layer(rec.attach(MjpegLayer::new()))
        .service(service_fn(move |_req: Request<RequestBody>| {
            let res = h.subscribe().into_http_response();
            async move { Ok::<_, Infallible>(res) }
        }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_with_shutdown(listener, svc, async move {
        let _ = stopped.await;
    }));
    hub.publish(Frame::jpeg(vec![0xAB; 1000]));
    let mut client = client(addr).await;
    let mut body = get(&mut client, "/stream").await.into_body();
    body.data().await.unwrap().unwrap();
    stop.send(()).unwrap();
    // GOAWAY: the client may open no new stream.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = match client.clone().ready().await {
        Err(_) => true,
        Ok(mut ready) => {
            let req = Request::get("http://x/stream").body(()).unwrap();
            match ready.send_request(req, true) {
                Err(_) => true,
                Ok((response, _)) => response.await.is_err(),
            }
        }
    };
    assert!(refused, "a new stream was served after GOAWAY");
    // The open stream still runs; stopping the hub ends it cleanly and the
    // serve future returns well before the grace period.
    assert_eq!(hub.viewers(), 1);
    let stopped_at = Instant::now();
    hub.stop();
    while let Some(data) = body.data().await {
        data.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("serve did not return after its connections closed")
        .unwrap()
        .unwrap();
    assert!(stopped_at.elapsed() < Duration::from_secs(5));
    let events = rec.wait_disconnects(1).await;
    assert_eq!(events[0].reason().unwrap().0, DisconnectReason::Stopped);
}
