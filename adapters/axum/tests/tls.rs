//! `axum::serve` over HTTPS with `listener_with(Server::new().tls(..))`:
//! ALPN `h2`, 16 MJPEG streams on one connection.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mjpeg_axum::{Frame, FrameHub, MjpegLayer, Server};
use mjpeg_tower::server::TlsConfig;
use rcgen::{CertificateParams, KeyPair};
use rustls::pki_types::ServerName;

#[tokio::test]
async fn axum_serves_16_streams_over_one_h2_tls_connection() {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let tls = TlsConfig::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    let hub = FrameHub::new();
    let app = Router::new()
        .route(
            "/stream",
            get(|State(hub): State<FrameHub>| async move { hub.subscribe() }),
        )
        .with_state(hub.clone())
        .layer(MjpegLayer::new());
    let listener =
        mjpeg_axum::listener_with(Server::new().tls(Some(tls)), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let publisher = hub.clone();
    tokio::spawn(async move {
        for _ in 0..3000 {
            publisher.publish(Frame::jpeg(vec![0xAB; 20_000]));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
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
            let req = http::Request::get("https://localhost/stream")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let res = send.send_request(req).await.unwrap();
            assert_eq!(res.status(), 200);
            let mut body = res.into_body();
            let mut parts = 0;
            tokio::time::timeout(Duration::from_secs(10), async {
                while parts < 3 {
                    let frame = body.frame().await.expect("body ended").unwrap();
                    if let Ok(data) = frame.into_data() {
                        parts += data.windows(10).filter(|w| w == b"image/jpeg").count();
                    }
                }
            })
            .await
            .expect("3 parts within 10 s");
        }));
    }
    for stream in streams {
        stream.await.unwrap();
    }
    assert_eq!(hub.viewers(), 16);
}
