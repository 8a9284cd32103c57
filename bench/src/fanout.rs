//! `bench fanout [--viewers N] [--frames N] [--size BYTES]`: the cost of
//! `FrameHub::publish` itself, in process, with no sockets.
//!
//! N viewers are real responses of the layer whose bodies are drained by
//! tasks (what hyper would do). Each publish is timed on its own (it is
//! synchronous: a queue push and a wakeup per viewer), then the run waits
//! until every viewer took the frame. The process CPU time over the run,
//! divided by the frames delivered, gives the whole in-process cost of
//! handing one frame to one viewer (publish, wakeup, pop, chunks), without
//! the kernel.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use tower::{ServiceBuilder, ServiceExt, service_fn};

use crate::args::Args;
use crate::sys::cpu_seconds;

pub(crate) fn main(args: &[String]) -> i32 {
    let parsed = Args::parse(args, &[]).and_then(|a| {
        Ok((
            a.get("viewers", 1000usize)?,
            a.get("frames", 200usize)?,
            a.get("size", 50_000usize)?,
        ))
    });
    let (viewers, frames, size) = match parsed {
        Ok(values) => values,
        Err(err) => {
            eprintln!("{err}; usage: bench fanout [--viewers N] [--frames N] [--size BYTES]");
            return 2;
        }
    };
    let runtime = match crate::child::runtime() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{err}");
            return 1;
        }
    };
    runtime.block_on(run(viewers, frames, size))
}

async fn run(viewers: usize, frames: usize, size: usize) -> i32 {
    let hub = FrameHub::new();
    let h = hub.clone();
    let layer = MjpegLayer::new();
    let svc = ServiceBuilder::new()
        .layer(layer.clone())
        .service(service_fn(move |_: Request<()>| {
            let res = h.subscribe().into_http_response();
            async move { Ok::<Response<_>, Infallible>(res) }
        }));
    for _ in 0..viewers {
        let Ok(res) = svc.clone().oneshot(Request::new(())).await;
        tokio::spawn(async move {
            let mut body = res.into_body();
            while let Some(Ok(_)) = body.frame().await {}
        });
    }
    let payload = Bytes::from(vec![0xA5u8; size]);
    let mut publish = Vec::with_capacity(frames);
    let pid = std::process::id();
    let cpu_before = cpu_seconds(pid).unwrap_or(0.0);
    let started = Instant::now();
    for n in 0..frames {
        let frame = Frame::jpeg(payload.clone());
        let t = Instant::now();
        hub.publish(frame);
        publish.push(t.elapsed());
        let want = ((n + 1) * viewers) as u64;
        // The layer's counter is a few atomics; hub.stats() would lock every
        // viewer's queue, inside the window being measured.
        while layer.stats().frames_sent < want {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    let wall = started.elapsed();
    let cpu = cpu_seconds(pid).unwrap_or(0.0) - cpu_before;
    publish.sort();
    let at = |q: f64| publish[((publish.len() - 1) as f64 * q) as usize];
    let delivered = (frames * viewers) as f64;
    println!(
        "fanout: {viewers} viewers, {frames} frames of {} KB: publish() p50 {:?}, p99 {:?}, max {:?}; \
         process CPU {:.2} s over {:.2} s = {:.2} us per frame per viewer (includes the 200 us wait loop)",
        size / 1000,
        at(0.5),
        at(0.99),
        at(1.0),
        cpu,
        wall.as_secs_f64(),
        cpu * 1e6 / delivered,
    );
    hub.stop();
    0
}
