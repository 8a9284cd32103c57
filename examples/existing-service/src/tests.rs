//! The service on a real port: its own routes still compressed and
//! authenticated, the camera streaming uncompressed, shutdown stopping cleanly.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::time::Duration;

use super::*;

mod browser;

async fn start(
    hub: FrameHub,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = mjpeg_axum::listener("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = axum::serve::Listener::local_addr(&listener).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stopping = hub.clone();
    let serving = tokio::spawn(
        axum::serve(
            listener,
            app(hub, "secret").into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
            stopping.stop();
        })
        .into_future(),
    );
    (addr, stop, serving)
}

#[tokio::test]
async fn the_service_keeps_its_layers_and_gains_a_camera() {
    let hub = FrameHub::new();
    tokio::spawn(camera::run(hub.clone()));
    let (addr, stop, serving) = start(hub.clone()).await;
    let client = reqwest::Client::new();

    // Its own routes: ConnectInfo works, compression still applies.
    let page = client
        .get(format!("http://{addr}/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["content-encoding"], "gzip");
    let who = client
        .get(format!("http://{addr}/api/whoami"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(who.starts_with("\"127.0.0.1:"), "{who}");

    // The camera: 401 without the token, an uncompressed stream with it.
    let denied = client
        .get(format!("http://{addr}/camera/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    let snap = client
        .get(format!("http://{addr}/camera/snapshot"))
        .bearer_auth("secret")
        .send()
        .await
        .unwrap();
    assert_eq!(snap.status(), 200);
    assert_eq!(snap.headers()["content-type"], "image/jpeg");
    let mut live = client
        .get(format!("http://{addr}/camera/stream"))
        .header("accept-encoding", "gzip")
        .bearer_auth("secret")
        .send()
        .await
        .unwrap();
    assert!(live.headers().get("content-encoding").is_none());
    assert!(
        live.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/x-mixed-replace")
    );
    let mut seen = Vec::new();
    while seen.windows(2).filter(|w| w == &[0xFF, 0xD8]).count() < 2 {
        seen.extend_from_slice(&live.chunk().await.unwrap().unwrap());
    }

    // Shutdown stops the hub first: the viewer gets the close delimiter and
    // the server finishes.
    stop.send(()).unwrap();
    let mut rest = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), live.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        rest.extend_from_slice(&chunk);
    }
    assert!(rest.ends_with(b"--\r\n"), "no close delimiter");
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn login_sets_a_session_cookie_that_opens_the_camera() {
    let hub = FrameHub::new();
    tokio::spawn(camera::run(hub.clone()));
    let (addr, _stop, _serving) = start(hub).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |token: &'static str| {
        client
            .post(format!("http://{addr}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
    };
    let wrong = login("guess").await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    let right = login("secret").await.unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], "/");
    let cookie = right.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Path=/"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let stream = |cookie: String| {
        client
            .get(format!("http://{addr}/camera/stream"))
            .header("cookie", cookie)
            .send()
    };
    assert_eq!(
        stream("camera_session=forged".into())
            .await
            .unwrap()
            .status(),
        401
    );
    let mut live = stream(format!("theme=dark; {session}")).await.unwrap();
    assert_eq!(live.status(), 200);
    assert!(live.chunk().await.unwrap().is_some());
}
