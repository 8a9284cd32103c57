//! `serve_with` and a `Server` with TLS: warp routes over HTTPS, HTTP/1.1
//! and HTTP/2 chosen by ALPN.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mjpeg_tower::server::TlsConfig;
use mjpeg_warp::{Frame, FrameHub, MjpegLayer, Server};
use rustls::pki_types::ServerName;
use warp::Filter;

#[tokio::test]
async fn warp_routes_stream_over_https_in_both_protocols() {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let tls = TlsConfig::from_pem(
        made.cert.pem().as_bytes(),
        made.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let hub = FrameHub::new();
    let h = hub.clone();
    let routes = warp::path("stream").map(move || h.subscribe());
    let server = Server::new().tls(Some(tls));
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mjpeg_warp::serve_with(
        server,
        listener,
        warp::service(routes),
        MjpegLayer::new(),
        std::future::pending(),
    ));
    let publisher = hub.clone();
    tokio::spawn(async move {
        for _ in 0..2000 {
            publisher.publish(Frame::jpeg(vec![0xAB; 10_000]));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    for alpn in [&b"http/1.1"[..], b"h2"] {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(made.cert.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
        let req = http::Request::get("https://localhost/stream")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let res = if alpn == b"h2" {
            let (mut send, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            send.send_request(req).await.unwrap()
        } else {
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .unwrap();
            tokio::spawn(conn);
            send.send_request(req).await.unwrap()
        };
        assert_eq!(res.status(), 200);
        let mut body = res.into_body();
        let mut jpegs = 0;
        tokio::time::timeout(Duration::from_secs(10), async {
            while jpegs < 3 {
                let frame = body.frame().await.expect("stream ended").unwrap();
                if let Ok(data) = frame.into_data() {
                    jpegs += data.windows(10).filter(|w| w == b"image/jpeg").count();
                }
            }
        })
        .await
        .expect("3 parts within 10 s");
    }
}
