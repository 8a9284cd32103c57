//! Shared by the integration tests: an event recorder, a bounded wait, and a
//! raw HTTP/1.1 client that can stop reading on purpose.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::convert::Infallible;

use bytes::{Buf, Bytes, BytesMut};
use http::{Request, Response};
use http_body_util::BodyExt;
use mjpeg_tower::server::RequestBody;
use mjpeg_tower::server::Server;
use mjpeg_tower::{DisconnectReason, MjpegBody, MjpegLayer, ResponderBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::{Service, ServiceBuilder, service_fn};

/// One lifecycle event as the callbacks saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Connect {
        id: u64,
        active: usize,
    },
    Disconnect {
        id: u64,
        reason: DisconnectReason,
        active: usize,
        frames: u64,
        dropped: u64,
        error: Option<String>,
    },
    Idle,
}

impl Event {
    /// A disconnect's reason and the count left, `None` for other events.
    pub fn reason(&self) -> Option<(DisconnectReason, usize)> {
        match self {
            Event::Disconnect { reason, active, .. } => Some((*reason, *active)),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Recorder(Arc<Mutex<Vec<Event>>>);

impl Recorder {
    pub fn attach(&self, layer: MjpegLayer) -> MjpegLayer {
        let (a, b, c) = (self.clone(), self.clone(), self.clone());
        layer
            .on_connect(move |e| {
                a.push(Event::Connect {
                    id: e.info.id(),
                    active: e.active,
                })
            })
            .on_disconnect(move |e| {
                b.push(Event::Disconnect {
                    id: e.info.id(),
                    reason: e.reason,
                    active: e.active,
                    frames: e.stats.frames_sent,
                    dropped: e.stats.frames_dropped,
                    error: e.error.map(|e| e.to_string()),
                })
            })
            .on_idle(move || c.push(Event::Idle))
    }

    fn push(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    pub fn disconnects(&self) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| matches!(e, Event::Disconnect { .. }))
            .collect()
    }

    /// Waits (bounded, 10 s) until `n` disconnects were recorded.
    pub async fn wait_disconnects(&self, n: usize) -> Vec<Event> {
        wait_until(|| self.disconnects().len() >= n).await;
        self.disconnects()
    }
}

/// Polls `cond` every 5 ms for up to 10 s; panics on timeout.
pub async fn wait_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition not met within 10 s");
}

/// A raw HTTP/1.1 client: sends one GET and reads the de-chunked body on demand.
pub struct RawClient {
    stream: TcpStream,
    buf: BytesMut,
    pub head: String,
    body: BytesMut,
    chunked: bool,
    chunk_left: usize,
    pub ended: bool,
}

impl RawClient {
    /// Connects with a small receive buffer and sends the request; does not read.
    pub async fn send(addr: SocketAddr, path: &str) -> RawClient {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(16 * 1024).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        RawClient {
            stream,
            buf: BytesMut::new(),
            head: String::new(),
            body: BytesMut::new(),
            chunked: false,
            chunk_left: 0,
            ended: false,
        }
    }

    pub async fn get(addr: SocketAddr, path: &str) -> RawClient {
        let mut c = Self::send(addr, path).await;
        c.read_head().await;
        c
    }

    async fn fill(&mut self) -> bool {
        let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read_buf(&mut self.buf))
            .await
            .expect("read timed out")
            .unwrap_or(0);
        n > 0
    }

    pub async fn read_head(&mut self) {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = self.buf.split_to(end + 4);
                self.head = String::from_utf8_lossy(&head).into_owned();
                self.chunked = self
                    .head
                    .to_ascii_lowercase()
                    .contains("transfer-encoding: chunked");
                return;
            }
            assert!(
                self.fill().await,
                "connection closed before the response head"
            );
        }
    }

    pub fn status(&self) -> u16 {
        self.head[9..12].parse().unwrap()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// Moves de-chunked bytes from `buf` into `body`.
    fn dechunk(&mut self) {
        if !self.chunked {
            let all = self.buf.split();
            self.body.extend_from_slice(&all);
            return;
        }
        loop {
            if self.chunk_left > 0 {
                let n = self.chunk_left.min(self.buf.len());
                let data = self.buf.split_to(n);
                self.body.extend_from_slice(&data);
                self.chunk_left -= n;
                if self.chunk_left > 0 {
                    return;
                }
                continue;
            }
            // Expect [CRLF] size CRLF.
            while self.buf.starts_with(b"\r\n") {
                self.buf.advance(2);
            }
            let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap().trim(), 16)
                .expect("chunk size");
            self.buf.advance(end + 2);
            if size == 0 {
                self.ended = true;
                return;
            }
            self.chunk_left = size;
        }
    }

    /// Reads until the body holds at least `n` bytes or the response ends.
    pub async fn read_body_until(&mut self, mut done: impl FnMut(&[u8]) -> bool) -> bool {
        loop {
            self.dechunk();
            if done(&self.body) {
                return true;
            }
            if self.ended || !self.fill().await {
                self.dechunk();
                return done(&self.body);
            }
        }
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Counts non-overlapping occurrences of `needle`.
pub fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

type Handler = Arc<dyn Fn(&Request<()>) -> Response<ResponderBody> + Send + Sync>;

/// A service answering with `handler`'s response, behind `layer`.
pub fn app(
    layer: MjpegLayer,
    handler: impl Fn(&Request<()>) -> Response<ResponderBody> + Send + Sync + 'static,
) -> impl Service<
    Request<()>,
    Response = Response<MjpegBody<ResponderBody>>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send {
    let handler: Handler = Arc::new(handler);
    ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(move |req: Request<()>| {
            let res = handler(&req);
            async move { Ok::<_, Infallible>(res) }
        }))
}

pub async fn body_string<B>(res: Response<B>) -> String
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// The next data chunk of `body` as text (panics at the end of the body).
pub async fn next_chunk<B>(body: &mut B) -> String
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let frame = body.frame().await.expect("body ended").unwrap();
    String::from_utf8_lossy(&frame.into_data().unwrap()).into_owned()
}

/// Serves `route(path)` behind `layer` on a fresh loopback port.
pub async fn serve(
    layer: MjpegLayer,
    server: Server,
    route: impl Fn(&str) -> Response<ResponderBody> + Send + Sync + 'static,
) -> SocketAddr {
    let route = Arc::new(route);
    let svc =
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(move |req: Request<RequestBody>| {
                let res = route(req.uri().path());
                async move { Ok::<_, Infallible>(res) }
            }));
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener, svc));
    addr
}
