#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};

use super::*;

/// A TLS client trusting `cert` only, offering `h2`.
async fn connect(
    addr: SocketAddr,
    cert: CertificateDer<'static>,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_page_and_every_camera_stream_over_https_h2() {
    // What main does without --cert, with the certificate kept for the client.
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let tls = TlsConfig::from_pem(
        made.cert.pem().as_bytes(),
        made.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let (addr, _serving) = start("127.0.0.1:0".parse().unwrap(), 16, tls)
        .await
        .unwrap();

    let stream = connect(addr, made.cert.der().clone()).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let get = |path: &str| {
        http::Request::get(format!("https://localhost{path}"))
            .body(Empty::<Bytes>::new())
            .unwrap()
    };

    let page = send.clone().send_request(get("/")).await.unwrap();
    let page = page.into_body().collect().await.unwrap().to_bytes();
    let page = String::from_utf8_lossy(&page);
    assert_eq!(page.matches("<img ").count(), 16);

    let mut cameras = Vec::new();
    for n in 0..16 {
        let mut send = send.clone();
        let req = get(&format!("/camera/{n}"));
        cameras.push(tokio::spawn(async move {
            let res = send.send_request(req).await.unwrap();
            assert_eq!(res.status(), 200);
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("multipart/x-mixed-replace")
            );
            let mut body = res.into_body();
            let mut jpegs = 0;
            tokio::time::timeout(Duration::from_secs(10), async {
                while jpegs < 3 {
                    let frame = body.frame().await.expect("stream ended").unwrap();
                    if let Ok(data) = frame.into_data() {
                        jpegs += data.windows(2).filter(|w| w == &[0xFF, 0xD8]).count();
                    }
                }
            })
            .await
            .expect("3 frames within 10 s");
        }));
    }
    for camera in cameras {
        camera.await.unwrap();
    }
    let missing = send.clone().send_request(get("/camera/16")).await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[test]
fn a_self_signed_certificate_is_made_at_start() {
    self_signed().unwrap();
}

#[test]
fn cert_and_key_go_together() {
    assert!(Args::try_parse_from(["https", "--cert", "c.pem"]).is_err());
    let args = Args::try_parse_from(["https", "--addr", "0.0.0.0:443"]).unwrap();
    assert_eq!(args.addr.port(), 443);
    assert_eq!(args.cameras, 16);
}
