#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::sync::Arc;
use std::time::Duration;

use mjpeg_example_scenery::testing::{jpeg, next_part, open, serve, text};

use super::{TrafficLights, app};

async fn start(loops: u32, interval_ms: u64) -> String {
    let lights = TrafficLights {
        frames: Arc::new(mjpeg_example_scenery::lights::render().unwrap()),
        loops,
        interval: Duration::from_millis(interval_ms),
    };
    format!("http://{}", serve(app(lights)).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_loop_delivers_three_lights_then_closes() {
    let url = start(1, 20).await;
    let mut parts = open(&format!("{url}/lights")).await;
    let mut frames = Vec::new();
    while let Some(part) = next_part(&mut parts).await {
        frames.push(jpeg(&part));
    }
    assert!(parts.decoder().is_closed(), "no close delimiter");
    // Red, yellow, green; then green again, filling the part announced
    // after it, so it stays on screen in every browser.
    assert_eq!(frames.len(), 4, "{} frames", frames.len());
    assert_ne!(frames[0], frames[1]);
    assert_ne!(frames[1], frames[2]);
    assert_ne!(frames[0], frames[2]);
    assert_eq!(frames[3], frames[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_viewer_gets_the_whole_stream() {
    let url = format!("{}/lights", start(2, 10).await);
    let (mut a, mut b) = (open(&url).await, open(&url).await);
    let (mut count_a, mut count_b) = (0, 0);
    while next_part(&mut a).await.is_some() {
        count_a += 1;
    }
    while next_part(&mut b).await.is_some() {
        count_b += 1;
    }
    assert_eq!((count_a, count_b), (7, 7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_page_shows_the_lights() {
    let url = start(1, 20).await;
    assert!(
        text(&format!("{url}/"))
            .await
            .contains(r#"<img src="/lights""#)
    );
}

#[test]
fn the_command_line_is_checked() {
    use clap::Parser;
    let args = super::Args::try_parse_from(["t", "--loops", "2", "--interval-ms", "20"]).unwrap();
    assert_eq!((args.loops, args.interval_ms), (2, 20));
    assert!(super::Args::try_parse_from(["t", "--loops", "0"]).is_err());
}
