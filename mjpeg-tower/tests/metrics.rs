//! The `metrics` feature: a viewer's counters, gauges and latency, labelled
//! with its hub's name, as a recorder sees them. One test: the recorder is
//! process-global.
#![allow(clippy::unwrap_used)] // tests fail loudly

mod support;

use std::collections::HashMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use support::{RawClient, wait_until};

/// Every value of `stream`'s metrics so far, by name (and reason).
///
/// The debugging recorder's snapshots reset counters and gauges (and drain
/// histograms), so readings are added up; the layer only increments and
/// decrements gauges, so the sums are their values.
#[derive(Default)]
struct Totals(HashMap<String, DebugValue>);

impl Totals {
    fn read(&mut self, snapshotter: &Snapshotter, stream: &str) -> &HashMap<String, DebugValue> {
        for (name, value) in read(snapshotter, stream) {
            let total = self.0.entry(name).or_insert_with(|| match &value {
                DebugValue::Counter(_) => DebugValue::Counter(0),
                DebugValue::Gauge(_) => DebugValue::Gauge(0.0.into()),
                DebugValue::Histogram(_) => DebugValue::Histogram(Vec::new()),
            });
            match (total, value) {
                (DebugValue::Counter(t), DebugValue::Counter(n)) => *t += n,
                (DebugValue::Gauge(t), DebugValue::Gauge(g)) => {
                    *t = (t.into_inner() + g.into_inner()).into()
                }
                (DebugValue::Histogram(t), DebugValue::Histogram(h)) => t.extend(h),
                _ => panic!("a metric changed kind"),
            }
        }
        &self.0
    }
}

/// Each metric of `stream` by name (and reason), with its value since the last snapshot.
fn read(snapshotter: &Snapshotter, stream: &str) -> HashMap<String, DebugValue> {
    let mut out = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: HashMap<_, _> = key.labels().map(|l| (l.key(), l.value())).collect();
        if labels.get("stream") != Some(&stream) {
            continue;
        }
        let name = match labels.get("reason") {
            Some(reason) => format!("{}{{{reason}}}", key.name()),
            None => key.name().to_owned(),
        };
        out.insert(name, value);
    }
    out
}

fn counter(m: &HashMap<String, DebugValue>, name: &str) -> u64 {
    match m.get(name) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name}: {other:?}"),
    }
}

fn gauge(m: &HashMap<String, DebugValue>, name: &str) -> f64 {
    match m.get(name) {
        Some(DebugValue::Gauge(g)) => g.into_inner(),
        other => panic!("{name}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_is_measured_under_its_hubs_name() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let hub = FrameHub::builder().name("door").build();
    let h = hub.clone();
    let addr = support::serve(MjpegLayer::new(), Server::new(), move |_| {
        h.subscribe().into_http_response()
    })
    .await;
    let mut totals = Totals::default();
    let mut viewer = RawClient::get(addr, "/").await;
    wait_until(|| hub.viewers() == 1).await;
    assert_eq!(
        gauge(totals.read(&snapshotter, "door"), "mjpeg_viewers"),
        1.0
    );
    for n in 0..5u8 {
        hub.publish(Frame::jpeg(vec![0xFF, 0xD8, n, 0xFF, 0xD9]));
        let want = u64::from(n) + 1;
        viewer
            .read_body_until(|b| b.windows(2).filter(|w| w == &[0xFF, 0xD8]).count() as u64 >= want)
            .await;
    }

    let m = totals.read(&snapshotter, "door");
    assert_eq!(counter(m, "mjpeg_frames_published_total"), 5);
    assert!(counter(m, "mjpeg_frames_sent_total") >= 5, "{m:?}");
    assert!(counter(m, "mjpeg_bytes_sent_total") > 25, "{m:?}");
    match m.get("mjpeg_frame_latency_seconds") {
        Some(DebugValue::Histogram(samples)) => assert!(samples.len() >= 5, "{samples:?}"),
        other => panic!("latency: {other:?}"),
    }

    drop(viewer);
    wait_until(|| hub.viewers() == 0).await;
    wait_until(|| {
        totals
            .read(&snapshotter, "door")
            .contains_key("mjpeg_disconnects_total{client_closed}")
    })
    .await;
    let m = totals.read(&snapshotter, "door");
    assert_eq!(counter(m, "mjpeg_disconnects_total{client_closed}"), 1);
    assert_eq!(gauge(m, "mjpeg_viewers"), 0.0);
    assert_eq!(gauge(m, "mjpeg_queued_bytes"), 0.0);
}
