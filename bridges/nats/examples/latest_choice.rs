//! Measures the two ways a fresh edge can get the current frame, on a real
//! `nats-server`: asking the origin (`<subject>.latest`, what this crate
//! does) or a JetStream stream keeping the last message per subject.
//!
//! Run with `cargo run --release -p mjpeg-nats --example latest_choice`.
//! For each way it reports how long fetching the latest 50 KB frame takes,
//! and the broker's CPU while an origin publishes 30 fps to 3 edges for 5 s
//! (the JetStream stream stores every frame as it passes).

use std::error::Error;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mjpeg_nats::{LocalBroker, NatsEdge, NatsOrigin};
use mjpeg_tower::{Frame, FrameHub};

const FRAME: usize = 50_000;
const FETCHES: usize = 50;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    for jetstream in [false, true] {
        let dir = std::env::temp_dir().join(format!("mjpeg-nats-js-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let broker = if jetstream {
            LocalBroker::start_jetstream(&dir)?
        } else {
            LocalBroker::start()?
        };
        let result = measure(&broker, jetstream).await;
        drop(broker);
        std::fs::remove_dir_all(&dir)?;
        let (fetch, cpu) = result?;
        println!(
            "{:<44} fetch latest p50 {:>6.0} us, max {:>6.0} us; broker CPU {cpu:.1}% of a core at 30 fps x 50 KB, 3 edges",
            if jetstream {
                "JetStream (memory, 1 msg per subject):"
            } else {
                "request to the origin (<subject>.latest):"
            },
            fetch.0,
            fetch.1,
        );
    }
    Ok(())
}

async fn measure(
    broker: &LocalBroker,
    jetstream: bool,
) -> Result<((f64, f64), f64), Box<dyn Error>> {
    let client = async_nats::connect(broker.url()).await?;
    if jetstream {
        let config = r#"{"name":"MJPEG","subjects":["mjpeg.*"],"storage":"memory",
            "max_msgs_per_subject":1,"discard":"old","allow_direct":true,"num_replicas":1}"#;
        let reply = client
            .request(
                "$JS.API.STREAM.CREATE.MJPEG",
                Bytes::from_static(config.as_bytes()),
            )
            .await?;
        let text = String::from_utf8_lossy(&reply.payload);
        if text.contains("\"error\"") {
            return Err(format!("stream not created: {text}").into());
        }
    }
    let origin = NatsOrigin::builder("cam")?.connect(&broker.url()).await?;
    let mut edges = Vec::new();
    for _ in 0..3 {
        let hub = FrameHub::new();
        edges.push((
            NatsEdge::builder("cam")?
                .connect(&broker.url(), hub.clone())
                .await?,
            hub,
        ));
    }
    let payload = Bytes::from(vec![0x5Au8; FRAME]);
    let cpu0 = cpu_seconds(broker.pid().unwrap_or(0));
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / 30);
    while started.elapsed() < Duration::from_secs(5) {
        tick.tick().await;
        origin.publish(Frame::jpeg(payload.clone()));
    }
    let cpu = (cpu_seconds(broker.pid().unwrap_or(0)) - cpu0) / started.elapsed().as_secs_f64();

    let mut times = Vec::new();
    for _ in 0..FETCHES {
        let t = Instant::now();
        let reply = if jetstream {
            client
                .request(
                    "$JS.API.DIRECT.GET.MJPEG",
                    Bytes::from_static(br#"{"last_by_subj":"mjpeg.cam"}"#),
                )
                .await?
        } else {
            client.request("mjpeg.cam.latest", Bytes::new()).await?
        };
        times.push(t.elapsed().as_secs_f64() * 1e6);
        if reply.payload.len() != FRAME {
            return Err(format!(
                "latest frame has {} bytes, not {FRAME}",
                reply.payload.len()
            )
            .into());
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(((times[FETCHES / 2], times[FETCHES - 1]), cpu * 100.0))
}

/// User + system CPU seconds of `pid`, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some(end) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = stat[end + 2..].split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
