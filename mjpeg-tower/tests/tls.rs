//! HTTPS on real sockets: HTTP/1.1 and HTTP/2 (ALPN) over TLS with a
//! certificate made in the test, handshakes that do not hold up the accept
//! loop, and each configuration error.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mjpeg_tower::server::{Server, TlsConfig, TlsError};
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A test CA, and a leaf for `localhost` signed by it, in PEM.
struct Pki {
    ca: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
}

fn pki_with(edit: impl FnOnce(&mut CertificateParams)) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    edit(&mut params);
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca: ca.der().clone(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn pki() -> Pki {
    pki_with(|_| {})
}

/// Writes `text` to a fresh file under the temp dir.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mjpeg-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Serves a live MJPEG stream (a frame every 10 ms) over HTTPS.
async fn serve_https(server: Server, pki: &Pki, tag: &str) -> (SocketAddr, FrameHub) {
    let cert = file(&format!("{tag}-cert.pem"), &pki.cert_pem);
    let key = file(&format!("{tag}-key.pem"), &pki.key_pem);
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap();
    let hub = FrameHub::new();
    let h = hub.clone();
    let addr = support::serve(MjpegLayer::new(), server.tls(Some(tls)), move |_| {
        h.subscribe().into_http_response()
    })
    .await;
    let publisher = hub.clone();
    tokio::spawn(async move {
        for _ in 0..3000 {
            publisher.publish(Frame::jpeg(vec![0xAB; 20_000]));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    (addr, hub)
}

async fn connect(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
    alpn: &[u8],
) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}

fn get() -> Request<Empty<Bytes>> {
    Request::get("https://localhost/stream")
        .body(Empty::new())
        .unwrap()
}

/// Reads `body` until it holds `parts` MJPEG parts; bounded by 10 s.
async fn read_parts<B>(mut body: B, parts: usize)
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Debug,
{
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while support::count(&seen, b"Content-Type: image/jpeg") < parts {
            let frame = body.frame().await.expect("body ended").unwrap();
            if let Ok(data) = frame.into_data() {
                seen.extend_from_slice(&data);
            }
        }
    })
    .await
    .expect("parts did not arrive within 10 s");
}

#[tokio::test]
async fn http1_over_tls_streams_parts() {
    let pki = pki();
    let (addr, _hub) = serve_https(Server::new(), &pki, "h1").await;
    let tls = connect(addr, &pki.ca, b"http/1.1").await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let res = send.send_request(get()).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), http::Version::HTTP_11);
    read_parts(res.into_body(), 3).await;
}

#[tokio::test]
async fn http2_over_tls_carries_16_streams_on_one_connection() {
    let pki = pki();
    let (addr, hub) = serve_https(Server::new(), &pki, "h2").await;
    let tls = connect(addr, &pki.ca, b"h2").await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut streams = Vec::new();
    for _ in 0..16 {
        let mut send = send.clone();
        streams.push(tokio::spawn(async move {
            let res = send.send_request(get()).await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.version(), http::Version::HTTP_2);
            read_parts(res.into_body(), 3).await;
        }));
    }
    for stream in streams {
        stream.await.unwrap();
    }
    assert_eq!(hub.viewers(), 16, "all 16 on one connection");
}

#[tokio::test]
async fn a_silent_tls_client_neither_blocks_others_nor_stays_open() {
    let pki = pki();
    let server = Server::new().tls_handshake_timeout(Some(Duration::from_millis(300)));
    let (addr, _hub) = serve_https(server, &pki, "silent").await;
    // Connects and never sends a ClientHello.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let tls = connect(addr, &pki.ca, b"http/1.1").await;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let res = send.send_request(get()).await.unwrap();
    read_parts(res.into_body(), 2).await;
    // The handshake timeout closes the silent one.
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("silent client still open after 5 s");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

fn error(cert_pem: &str, key_pem: &str) -> TlsError {
    TlsConfig::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap_err()
}

#[test]
fn a_missing_file_names_its_path() {
    let pki = pki();
    let key = file("present-key.pem", &pki.key_pem);
    let missing = std::env::temp_dir().join("mjpeg-tls-no-such-dir/cert.pem");
    let err = TlsConfig::from_pem_files(&missing, &key).unwrap_err();
    assert!(
        matches!(&err, TlsError::Read { path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("mjpeg-tls-no-such-dir/cert.pem"),
        "{err}"
    );
}

#[test]
fn a_pem_without_certificate_or_key_says_which() {
    let pki = pki();
    assert!(matches!(
        error(&pki.key_pem, &pki.key_pem),
        TlsError::NoCertificate { .. }
    ));
    assert!(matches!(
        error(&pki.cert_pem, &pki.cert_pem),
        TlsError::NoKey { .. }
    ));
    let cert = file("only-cert.pem", &pki.cert_pem);
    let err = TlsConfig::from_pem_files(&cert, &cert).unwrap_err();
    assert!(
        matches!(&err, TlsError::NoKey { path: Some(p) } if *p == cert),
        "{err:?}"
    );
}

#[test]
fn a_key_of_another_certificate_is_a_mismatch() {
    let (a, b) = (pki(), pki());
    let err = error(&a.cert_pem, &b.key_pem);
    assert!(matches!(err, TlsError::KeyMismatch), "{err:?}");
    TlsConfig::from_pem(a.cert_pem.as_bytes(), a.key_pem.as_bytes()).unwrap();
}

#[test]
fn an_expired_or_future_certificate_is_refused() {
    let expired = pki_with(|p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let err = error(&expired.cert_pem, &expired.key_pem);
    assert!(matches!(err, TlsError::Expired { index: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("1609459200"), "{err}");
    let future = pki_with(|p| {
        p.not_before = rcgen::date_time_ymd(2090, 1, 1);
        p.not_after = rcgen::date_time_ymd(2091, 1, 1);
    });
    let err = error(&future.cert_pem, &future.key_pem);
    assert!(
        matches!(err, TlsError::NotYetValid { index: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn an_unparsable_certificate_is_refused() {
    let pki = pki();
    let garbage = "-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAA\n-----END CERTIFICATE-----\n";
    let err = error(garbage, &pki.key_pem);
    assert!(
        matches!(err, TlsError::BadCertificate { index: 0, .. }),
        "{err:?}"
    );
    let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let err = error(broken, &pki.key_pem);
    assert!(matches!(err, TlsError::Pem(_)), "{err:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_closes_with_close_notify() {
    // Closing without `close_notify` reads as a truncation attack to a TLS
    // client (rustls: UnexpectedEof; OpenSSL 3: "unexpected eof").
    let pki = pki();
    let cert = file("notify-cert.pem", &pki.cert_pem);
    let key = file("notify-key.pem", &pki.key_pem);
    let tls = TlsConfig::from_pem_files(&cert, &key).unwrap();
    let server = Server::new()
        .tls(Some(tls))
        .header_read_timeout(Some(Duration::from_secs(1)));
    let addr = support::serve(MjpegLayer::new(), server, |_| {
        http::Response::new("hello".into())
    })
    .await;
    let mut tls = connect(addr, &pki.ca, b"http/1.1").await;
    tls.write_all(b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    // tokio-rustls may keep what it was given until a flush.
    tls.flush().await.unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut got))
        .await
        .expect("the idle connection stayed open");
    assert!(
        String::from_utf8_lossy(&got).ends_with("hello"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    read.expect("closed without close_notify");
}
