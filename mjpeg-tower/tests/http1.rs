//! `Server`'s own HTTP/1.1 loop on real sockets: keep-alive and pipelined
//! viewer requests, the hand-over to hyper (a request body, an upgrade) on
//! the same connection, refusals, `connection: close`, a client leaving
//! while the service works, and the header timeout on the next request.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use mjpeg_tower::server::{RequestBody, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::service_fn;

/// Set when the `/slow` service future is dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// `/slow` never answers; `POST /echo` answers its body; an `upgrade`
/// request is switched and echoes what follows; anything else answers its
/// own path and query.
async fn serve(server: Server) -> (SocketAddr, Arc<AtomicBool>) {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let svc = service_fn(move |mut req: Request<RequestBody>| {
        let flag = flag.clone();
        async move {
            if req.uri().path() == "/slow" {
                let _guard = DropFlag(flag);
                std::future::pending::<()>().await;
            }
            if req.headers().contains_key(header::UPGRADE) {
                let upgrade = hyper::upgrade::on(&mut req);
                tokio::spawn(async move {
                    let mut io = TokioIo::new(upgrade.await.unwrap());
                    let mut buf = [0; 4];
                    io.read_exact(&mut buf).await.unwrap();
                    io.write_all(&buf).await.unwrap();
                });
                let res = Response::builder()
                    .status(StatusCode::SWITCHING_PROTOCOLS)
                    .header(header::CONNECTION, "upgrade")
                    .header(header::UPGRADE, "echo")
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                return Ok::<_, Infallible>(res);
            }
            // Responses the loop must frame as hyper would.
            let odd = match req.uri().path() {
                "/status/103" => Some(
                    Response::builder()
                        .status(StatusCode::EARLY_HINTS)
                        .body(Full::new(Bytes::from_static(b"early")))
                        .unwrap(),
                ),
                "/length/plus" => Some(
                    Response::builder()
                        .header(header::CONTENT_LENGTH, "+3")
                        .body(Full::new(Bytes::from_static(b"abc")))
                        .unwrap(),
                ),
                "/keep" => Some(
                    Response::builder()
                        .header(header::CONNECTION, "keep-alive")
                        .body(Full::new(Bytes::from_static(b"kept")))
                        .unwrap(),
                ),
                _ => None,
            };
            if let Some(res) = odd {
                return Ok(res);
            }
            let text = if req.method() == Method::POST {
                req.into_body().collect().await.unwrap().to_bytes()
            } else {
                Bytes::from(req.uri().to_string())
            };
            Ok(Response::new(Full::new(text)))
        }
    });
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener, svc));
    (addr, dropped)
}

/// Reads until `got` holds `n` complete responses with a `content-length`
/// body (or the connection closes); returns their bodies.
async fn responses(tcp: &mut TcpStream, n: usize) -> (Vec<String>, Vec<String>) {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let (heads, bodies) = split(&got);
        if bodies.len() >= n {
            return (heads, bodies);
        }
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .expect("nothing arrived for 5 s")
            .unwrap();
        if read == 0 {
            return split(&got);
        }
        got.extend_from_slice(&buf[..read]);
    }
}

/// The complete `content-length` responses at the start of `bytes`.
fn split(mut bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut heads, mut bodies) = (Vec::new(), Vec::new());
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map_or(0, |v| v.trim().parse().unwrap());
        let Some(body) = bytes.get(end + 4..end + 4 + len) else {
            break;
        };
        heads.push(head);
        bodies.push(String::from_utf8_lossy(body).into_owned());
        bytes = &bytes[end + 4 + len..];
    }
    (heads, bodies)
}

#[tokio::test]
async fn pipelined_and_keep_alive_requests_are_answered_in_order() {
    let (addr, _) = serve(Server::new()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /a?1 HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (heads, bodies) = responses(&mut tcp, 2).await;
    assert_eq!(bodies, ["/a?1", "/b"]);
    assert!(heads[0].starts_with("http/1.1 200 ok\r\n"), "{}", heads[0]);
    assert!(heads[0].contains("\r\ndate: "), "{}", heads[0]);
    // The same connection, later: the head arrives in pieces.
    tokio::time::sleep(Duration::from_millis(100)).await;
    tcp.write_all(b"GET /c HTTP/1.1\r\nHo").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    tcp.write_all(b"st: x\r\n\r\n").await.unwrap();
    let (_, bodies) = responses(&mut tcp, 1).await;
    assert_eq!(bodies, ["/c"]);
}

#[tokio::test]
async fn a_request_body_after_a_viewer_request_is_served_by_hyper() {
    let (addr, _) = serve(Server::new()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
          GET /after HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    let (_, bodies) = responses(&mut tcp, 3).await;
    assert_eq!(bodies, ["/first", "hello", "/after"]);
}

#[tokio::test]
async fn an_upgrade_is_switched_by_hyper() {
    let (addr, _) = serve(Server::new()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
        .await
        .unwrap();
    let (heads, _) = responses(&mut tcp, 1).await;
    assert!(heads[0].starts_with("http/1.1 101 "), "{}", heads[0]);
    tcp.write_all(b"ping").await.unwrap();
    let mut echo = [0; 4];
    tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut echo))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&echo, b"ping");
}

#[tokio::test]
async fn malformed_and_oversized_heads_are_refused_and_closed() {
    let (addr, _) = serve(Server::new()).await;
    let mut long = b"GET / HTTP/1.1\r\nx-long: ".to_vec();
    long.resize(70 * 1024, b'a');
    for (head, status) in [
        (&b"GET / HTTP/1.1\r\nno colon here\r\n\r\n"[..], "400"),
        (b"GET /\x01 HTTP/1.1\r\n\r\n", "400"),
        (&long, "431"),
    ] {
        let got = exchange(addr, head).await;
        assert!(got.starts_with(&format!("HTTP/1.1 {status} ")), "{got}");
    }
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let (addr, _) = serve(Server::new()).await;
    let got = exchange(
        addr,
        b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (heads, bodies) = split(got.as_bytes());
    assert_eq!(bodies, ["/bye"]);
    assert!(heads[0].contains("\r\nconnection: close"), "{}", heads[0]);
}

#[tokio::test]
async fn a_client_gone_while_the_service_works_drops_its_future() {
    let (addr, dropped) = serve(Server::new()).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !dropped.load(Ordering::SeqCst),
        "dropped while the client waits"
    );
    drop(tcp);
    let start = Instant::now();
    while !dropped.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the service future outlived its client"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_header_timeout_applies_to_the_next_keep_alive_request() {
    let server = Server::new()
        .header_read_timeout(Some(Duration::from_millis(500)))
        .idle_timeout(None);
    let (addr, _) = serve(server).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (_, bodies) = responses(&mut tcp, 1).await;
    assert_eq!(bodies, ["/one"]);
    let start = Instant::now();
    tcp.write_all(b"GET /two HTTP/1.1\r\nHost").await.unwrap();
    let rest = read_to_close(&mut tcp).await;
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "closed early: {:?}",
        start.elapsed()
    );
}

/// Sends `request` alone on a new connection and reads until it closes. A
/// write cut short (a refused head is not read to its end) is not an error.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let _ = tcp.write_all(request).await;
    String::from_utf8_lossy(&read_to_close(&mut tcp).await).into_owned()
}

/// What arrives until the server closes `tcp` (a reset ends it too);
/// fails if it stays open for 5 s.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut got))
        .await
        .expect("the connection stayed open")
        .ok();
    got
}

#[tokio::test]
async fn a_1xx_final_response_becomes_a_500_and_closes_as_with_hyper() {
    // A 1xx is interim: a client that gets one waits for the final
    // response, which would never come. hyper answers 500 and closes.
    let (addr, _) = serve(Server::new()).await;
    let got = exchange(addr, b"GET /status/103 HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(got.starts_with("HTTP/1.1 500 "), "{got}");
    let (heads, bodies) = split(got.as_bytes());
    assert_eq!(bodies, [""], "{got}");
    assert!(heads[0].contains("\r\ncontent-length: 0"), "{got}");
}

#[tokio::test]
async fn a_content_length_that_is_not_digits_is_not_written() {
    // `u64::from_str` takes a leading `+`; RFC 9110 allows digits only,
    // and clients and proxies disagree on what `+3` means.
    let (addr, _) = serve(Server::new()).await;
    let got = exchange(
        addr,
        b"GET /length/plus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(!got.contains("+3"), "{got}");
    let (heads, bodies) = split(got.as_bytes());
    assert_eq!(bodies, ["abc"], "{got}");
    assert!(heads[0].contains("\r\ncontent-length: 3\r\n"), "{got}");
}

#[tokio::test]
async fn a_closing_connection_says_close_whatever_the_app_put() {
    // The app's `connection: keep-alive` must not hide that the server
    // closes after this response (hyper appends `close`).
    let (addr, _) = serve(Server::new()).await;
    let got = exchange(
        addr,
        b"GET /keep HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (heads, bodies) = split(got.as_bytes());
    assert_eq!(bodies, ["kept"], "{got}");
    let tokens: Vec<&str> = heads[0]
        .lines()
        .filter_map(|l| l.strip_prefix("connection:"))
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    assert!(tokens.contains(&"close"), "{got}");
}

#[tokio::test]
async fn a_response_written_while_the_server_stops_says_close() {
    // The server closes after it: the client must not send another request.
    let release = Arc::new(tokio::sync::Notify::new());
    let wait = release.clone();
    let svc = service_fn(move |_req: Request<RequestBody>| {
        let wait = wait.clone();
        async move {
            wait.notified().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"last"))))
        }
    });
    let listener = Server::new()
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        Server::new().serve_with_shutdown(listener, svc, async move {
            let _ = stopped.await;
        }),
    );
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    // The listener closes just before the connections are told to stop.
    let start = Instant::now();
    while TcpStream::connect(addr).await.is_ok() {
        assert!(start.elapsed() < Duration::from_secs(5), "still accepting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    release.notify_one();
    let got = read_to_close(&mut tcp).await;
    let (heads, bodies) = split(&got);
    assert_eq!(bodies, ["last"]);
    assert!(heads[0].contains("\r\nconnection: close"), "{}", heads[0]);
}
