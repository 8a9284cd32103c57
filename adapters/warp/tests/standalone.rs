//! The responders in warp filters served by `warp::serve`, with no
//! `MjpegLayer`: they stream with the default configuration.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use futures_util::stream;
use mjpeg_tower::decode::Decoder;
use mjpeg_warp::{Frame, FrameHub, Mjpeg};
use warp::Filter;

const BOUNDARY: &str = "mjpeg-tower-boundary-2f9c4e7a1d";

fn parts(body: &[u8]) -> Vec<Vec<u8>> {
    let mut decoder = Decoder::new(BOUNDARY).unwrap().strict(true);
    decoder.push(body);
    let mut parts = Vec::new();
    while let Some(part) = decoder.next_part().unwrap() {
        parts.push(part.body.to_vec());
    }
    assert!(decoder.is_closed(), "no close delimiter");
    parts
}

#[tokio::test]
async fn responders_stream_without_the_layer_on_warp_serve() {
    let hub = FrameHub::new();
    hub.publish(Frame::jpeg("latest"));
    let (h1, h2) = (hub.clone(), hub.clone());
    let routes = warp::path("finite")
        .map(|| Mjpeg::new(stream::iter(["a", "b"])))
        .or(warp::path("stream").map(move || h1.subscribe()))
        .or(warp::path("snapshot").map(move || h2.snapshot()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(routes).incoming(listener).run());

    let res = reqwest::get(format!("http://{addr}/finite")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        format!("multipart/x-mixed-replace; boundary={BOUNDARY}").as_str()
    );
    let body = res.bytes().await.unwrap();
    assert_eq!(parts(&body), [b"a".to_vec(), b"b".to_vec(), b"b".to_vec()]);

    let snap = reqwest::get(format!("http://{addr}/snapshot"))
        .await
        .unwrap();
    assert_eq!(snap.status(), 200);
    assert_eq!(snap.headers()["content-type"], "image/jpeg");
    assert_eq!(snap.headers()["content-length"], "6");
    assert_eq!(snap.bytes().await.unwrap(), "latest");

    let live = reqwest::get(format!("http://{addr}/stream")).await.unwrap();
    assert_eq!(live.status(), 200);
    let waiting = tokio::spawn(live.bytes());
    for _ in 0..1000 {
        if hub.viewers() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(hub.viewers(), 1);
    hub.stop();
    let body = waiting.await.unwrap().unwrap();
    assert_eq!(parts(&body), [b"latest".to_vec(), b"latest".to_vec()]);
}
