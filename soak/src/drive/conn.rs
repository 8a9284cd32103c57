//! Where a viewer connects: plain HTTP/1.0, or HTTPS with HTTP/1.1 or h2
//! (ALPN), trusting only the certificate the server made at start.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::http::{self, Head};

/// How long a TLS handshake may take before the driver gives up.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(5);

/// The HTTPS side of the server: its address and a client for each protocol.
#[derive(Clone)]
pub(super) struct Tls {
    pub(super) addr: SocketAddr,
    h1: TlsConnector,
    h2: TlsConnector,
    /// A rustls client config, for clients that drive the handshake by hand.
    pub(super) config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("addr", &self.addr).finish()
    }
}

impl Tls {
    /// A client of `addr` trusting only `cert` (DER).
    pub(super) fn new(addr: SocketAddr, cert: Vec<u8>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(cert))
            .map_err(|e| format!("the server's certificate: {e}"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS client: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let with_alpn = |alpn: &[u8]| {
            let mut config = config.clone();
            config.alpn_protocols = vec![alpn.to_vec()];
            TlsConnector::from(Arc::new(config))
        };
        Ok(Self {
            addr,
            h1: with_alpn(b"http/1.1"),
            h2: with_alpn(b"h2"),
            config: Arc::new(config),
        })
    }

    /// Connects and handshakes, offering `h2` or `http/1.1`.
    pub(super) async fn connect(&self, h2: bool) -> io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(self.addr).await?;
        let connector = if h2 { &self.h2 } else { &self.h1 };
        let name = ServerName::try_from("localhost").map_err(io::Error::other)?;
        timeout(HANDSHAKE_LIMIT, connector.connect(name, tcp))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
    }
}

/// Where a viewer gets its stream.
#[derive(Clone, Debug)]
pub(super) enum Target {
    Plain(SocketAddr),
    TlsH1(Tls),
    TlsH2(Tls),
}

/// An open response body, read chunk by chunk.
pub(super) enum Body {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// The stream's body, and the connection's task, aborted when dropped.
    H2 {
        body: h2::RecvStream,
        _task: AbortOnDrop,
    },
}

/// Aborts the h2 connection task when the viewer goes.
pub(super) struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Body {
    /// The next bytes of the body; empty at its end.
    pub(super) async fn chunk(&mut self) -> io::Result<Bytes> {
        let mut buf = vec![0u8; 64 * 1024];
        let n = match self {
            Self::Plain(s) => s.read(&mut buf).await?,
            Self::Tls(s) => match s.read(&mut buf).await {
                // A TLS peer that closes without close_notify: the end all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                other => other?,
            },
            Self::H2 { body, .. } => {
                return match body.data().await {
                    None => Ok(Bytes::new()),
                    Some(Ok(data)) => {
                        let _ = body.flow_control().release_capacity(data.len());
                        Ok(data)
                    }
                    Some(Err(e)) => Err(io::Error::other(e)),
                };
            }
        };
        buf.truncate(n);
        Ok(Bytes::from(buf))
    }
}

/// `GET path` on `target`: the status, content type, the body bytes read
/// with the head, and the rest of the body.
pub(super) async fn open(target: &Target, path: &str) -> io::Result<(Head, Vec<u8>, Body)> {
    match target {
        Target::Plain(addr) => {
            let (socket, head, rest) = http::open(*addr, path).await?;
            Ok((head, rest, Body::Plain(socket)))
        }
        Target::TlsH1(tls) => {
            let stream = tls.connect(false).await?;
            let (stream, head, rest) = http::request(stream, path).await?;
            Ok((head, rest, Body::Tls(Box::new(stream))))
        }
        Target::TlsH2(tls) => open_h2(tls, path).await,
    }
}

async fn open_h2(tls: &Tls, path: &str) -> io::Result<(Head, Vec<u8>, Body)> {
    let stream = tls.connect(true).await?;
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err(io::Error::other("the server did not choose h2"));
    }
    let (send, conn) = h2::client::handshake(stream)
        .await
        .map_err(io::Error::other)?;
    let task = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    let mut send = send.ready().await.map_err(io::Error::other)?;
    let request = ::http::Request::get(format!("https://localhost{path}"))
        .body(())
        .map_err(io::Error::other)?;
    let (response, _) = send.send_request(request, true).map_err(io::Error::other)?;
    let response = timeout(Duration::from_secs(10), response)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no h2 response head"))?
        .map_err(io::Error::other)?;
    let head = Head {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get(::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        retry_after: None,
    };
    let body = Body::H2 {
        body: response.into_body(),
        _task: task,
    };
    Ok((head, Vec::new(), body))
}
