//! Out of file descriptors, the server backs off instead of exiting or
//! spinning, and serves again as soon as descriptors are free. Alone in its
//! binary: it lowers this process's descriptor limit.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod support;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use mjpeg_tower::server::Server;
use mjpeg_tower::{Frame, FrameHub, MjpegLayer};
use support::RawClient;

/// Sets this process's soft descriptor limit with `prlimit` (no unsafe code).
fn set_soft_fd_limit(soft: u64) {
    let status = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={soft}:"),
        ])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed");
}

/// User plus system CPU time of this process, from /proc/self/stat (opened
/// before the table is full).
fn cpu_time(proc_stat: &mut File) -> Duration {
    proc_stat.seek(SeekFrom::Start(0)).unwrap();
    let mut stat = String::new();
    proc_stat.read_to_string(&mut stat).unwrap();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse().unwrap())
        .collect();
    Duration::from_millis((fields[0] + fields[1]) * 10) // 100 ticks per second
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_server_backs_off_and_recovers() {
    let hub = FrameHub::new();
    hub.publish(Frame::jpeg(vec![0xAB; 1000]));
    let h = hub.clone();
    let server = Server::new();
    let listener = server.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = tower::ServiceBuilder::new()
        .layer(MjpegLayer::new())
        .service(tower::service_fn(
            move |_req: http::Request<mjpeg_tower::server::RequestBody>| {
                let res = h.snapshot().into_http_response();
                async move { Ok::<_, std::convert::Infallible>(res) }
            },
        ));
    let serving = tokio::spawn(server.serve(listener, svc));

    let mut proc_stat = File::open("/proc/self/stat").unwrap();
    set_soft_fd_limit(256);
    let mut filler = Vec::new();
    for _ in 0..1024 {
        match File::open("/dev/null") {
            Ok(file) => filler.push(file),
            Err(err) => {
                assert_eq!(err.raw_os_error(), Some(24), "{err}"); // EMFILE
                break;
            }
        }
    }
    assert!(File::open("/dev/null").is_err(), "the table is not full");
    // One descriptor for the client; the server has none left to accept it.
    filler.pop();
    let mut client = RawClient::send(addr, "/snapshot").await;

    let cpu_before = cpu_time(&mut proc_stat);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu = cpu_time(&mut proc_stat) - cpu_before;
    assert!(
        !serving.is_finished(),
        "the server exited: {:?}",
        serving.await
    );
    assert!(
        cpu < Duration::from_millis(500),
        "spinning: {cpu:?} CPU in 1 s"
    );
    eprintln!("out of descriptors for 1 s: {cpu:?} CPU");

    drop(filler);
    client.read_head().await; // bounded by 10 s
    assert_eq!(client.status(), 200);
    let again = RawClient::get(addr, "/snapshot").await;
    assert_eq!(again.status(), 200);
    set_soft_fd_limit(4096);
}
