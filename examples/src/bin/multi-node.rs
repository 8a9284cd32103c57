//! One origin and several edge processes, fed over NATS.
//!
//! Run with `cargo run --release -p mjpeg-examples --bin multi-node -- [--nats nats://127.0.0.1:4222] [--addr 127.0.0.1:8080] [--edges 3]`
//! and open <http://127.0.0.1:8080/>. Without `--nats`, a local
//! `nats-server` is started on a free port. The launcher runs this same
//! binary as `multi-node origin ...` and `multi-node edge ...` children;
//! Ctrl-C stops them all. Edges listen on the ports after `--addr`'s; with
//! port 0 every process takes a free port.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};

use mjpeg_axum::Server;
use mjpeg_examples::args::{Args, in_range, unknown};
use mjpeg_examples::multi_node::{self, STREAM, USAGE};
use mjpeg_examples::render::Size;
use mjpeg_examples::serving;
use mjpeg_nats::{LocalBroker, NatsOrigin};
use mjpeg_tower::FrameHub;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let role = match args.first().map(String::as_str) {
        Some("origin" | "edge") => Some(args.remove(0)),
        _ => None,
    };
    let args = Args::new(args);
    let done = match role.as_deref() {
        Some("origin") => origin(args).await,
        Some("edge") => edge(args).await,
        _ => launch(args).await,
    };
    done.unwrap_or_else(|e| {
        eprintln!("multi-node: {e}");
        ExitCode::FAILURE
    })
}

struct Options {
    nats: Option<String>,
    addr: SocketAddr,
    edges: u16,
    fps: u32,
    size: Size,
    quality: u8,
}

fn parse(mut args: Args, addr: SocketAddr) -> Options {
    let mut o = Options {
        nats: None,
        addr,
        edges: 3,
        fps: 30,
        size: Size {
            width: 640,
            height: 480,
        },
        quality: 80,
    };
    let result = (|| {
        while let Some(flag) = args.next_flag()? {
            match flag.as_str() {
                "--nats" => o.nats = Some(args.value(&flag)?),
                "--addr" => o.addr = args.value(&flag)?,
                "--edges" => o.edges = in_range(&flag, args.value(&flag)?, 1, 16)?,
                "--fps" => o.fps = in_range(&flag, args.value(&flag)?, 1, 120)?,
                "--size" => o.size = args.value(&flag)?,
                "--quality" => o.quality = in_range(&flag, args.value(&flag)?, 1, 100)?,
                _ => return Err(unknown(&flag)),
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        e.exit(USAGE);
    }
    o
}

async fn origin(args: Args) -> Result<ExitCode, String> {
    let o = parse(args, SocketAddr::from(([127, 0, 0, 1], 0)));
    let url = o.nats.ok_or("origin needs --nats URL")?;
    let origin = NatsOrigin::builder(STREAM)
        .map_err(|e| e.to_string())?
        .connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    println!("origin: publishing to {} on {url}", origin.subject());
    let renderer = multi_node::origin(origin, o.fps, o.size, o.quality);
    serving::ctrl_c().await;
    renderer.abort();
    Ok(ExitCode::SUCCESS)
}

async fn edge(args: Args) -> Result<ExitCode, String> {
    let o = parse(args, SocketAddr::from(([127, 0, 0, 1], 8081)));
    let url = o.nats.ok_or("edge needs --nats URL")?;
    let Some(listener) = serving::bind(&Server::new(), o.addr).await else {
        return Ok(ExitCode::FAILURE);
    };
    let hub = FrameHub::new();
    let edge = multi_node::edge(&url, hub.clone()).await?;
    serving::announce(&listener, o.addr);
    let app = multi_node::edge_app(hub.clone(), edge, &format!("edge {}", o.addr));
    let served = mjpeg_axum::serve_with_shutdown(listener, app, serving::stop_on_ctrl_c(hub)).await;
    Ok(serving::exit_code(served))
}

async fn launch(args: Args) -> Result<ExitCode, String> {
    let o = parse(args, SocketAddr::from(([127, 0, 0, 1], 8080)));
    let (_broker, url) = match o.nats {
        Some(url) => (None, url),
        None => {
            let broker = LocalBroker::start().map_err(|e| e.to_string())?;
            let url = broker.url();
            println!("started nats-server at {url}");
            (Some(broker), url)
        }
    };
    let Some(listener) = serving::bind(&Server::new(), o.addr).await else {
        return Ok(ExitCode::FAILURE);
    };
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut children = Children(Vec::new());
    let size = o.size.to_string();
    let fps = o.fps.to_string();
    let origin = ["origin", "--nats", &url, "--fps", &fps, "--size", &size];
    children.spawn(&me, &origin)?;
    let mut edges = Vec::new();
    for i in 1..=o.edges {
        // Port 0: every edge takes a free port and says which.
        let port = match o.addr.port() {
            0 => 0,
            port => port.wrapping_add(i),
        };
        let addr = SocketAddr::new(o.addr.ip(), port).to_string();
        let stdout = children.spawn_piped(&me, &["edge", "--nats", &url, "--addr", &addr])?;
        edges.push(announced(stdout)?);
    }
    serving::announce(&listener, o.addr);
    let app = multi_node::launcher_app(&edges);
    let served = mjpeg_axum::serve_with_shutdown(listener, app, serving::ctrl_c()).await;
    drop(children);
    Ok(serving::exit_code(served))
}

/// Child processes, killed and reaped when dropped.
struct Children(Vec<Child>);

impl Children {
    fn spawn(&mut self, program: &std::path::Path, args: &[&str]) -> Result<(), String> {
        let child = Command::new(program)
            .args(args)
            .spawn()
            .map_err(|e| format!("cannot start {} {}: {e}", program.display(), args.join(" ")))?;
        self.0.push(child);
        Ok(())
    }

    /// Starts a child whose standard output this process reads.
    fn spawn_piped(
        &mut self,
        program: &std::path::Path,
        args: &[&str],
    ) -> Result<ChildStdout, String> {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {} {}: {e}", program.display(), args.join(" ")))?;
        let stdout = child.stdout.take();
        self.0.push(child);
        stdout.ok_or_else(|| "a child's output cannot be read".to_owned())
    }
}

/// The address an edge announced (`open http://ADDR/`), echoing its lines.
fn announced(stdout: ChildStdout) -> Result<SocketAddr, String> {
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        println!("{line}");
        if let Some(addr) = line.strip_prefix("open http://") {
            let addr = addr.trim_end_matches('/');
            return addr
                .parse()
                .map_err(|e| format!("an edge announced {addr:?}, not an address: {e}"));
        }
    }
    Err("an edge exited before announcing its address (see above)".to_owned())
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
