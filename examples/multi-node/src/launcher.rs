//! Process handling for the launcher (not needed for streaming): start a
//! broker if none is given, the origin and the edges as children of this
//! binary, and serve a page showing every edge.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use axum::serve::Listener as _;
use mjpeg_nats::{EdgeStats, LocalBroker};

use crate::Args;

/// Starts the broker (without `--nats`), the origin and the edges, serves
/// the page, and stops them all on Ctrl-C.
pub(crate) async fn launch(args: &Args) -> Result<(), String> {
    let (_broker, url) = match &args.nats {
        Some(url) => (None, url.clone()),
        None => {
            let broker = LocalBroker::start().map_err(|e| e.to_string())?;
            let url = broker.url();
            println!("started nats-server at {url}");
            (Some(broker), url)
        }
    };
    let listener = mjpeg_axum::listener(args.addr).await;
    let listener = listener.map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut children = Children(Vec::new());
    let (fps, size) = (args.render.fps.to_string(), args.render.size.to_string());
    children.spawn(
        &me,
        &["origin", "--nats", &url, "--fps", &fps, "--size", &size],
    )?;
    let mut edges = Vec::new();
    for i in 1..=args.edges {
        // Port 0: every edge takes a free port and says which.
        let port = match args.addr.port() {
            0 => 0,
            port => port.wrapping_add(i),
        };
        let addr = SocketAddr::new(args.addr.ip(), port).to_string();
        let stdout = children.spawn_piped(&me, &["edge", "--nats", &url, "--addr", &addr])?;
        edges.push(announced(stdout)?);
    }
    println!(
        "open http://{}/",
        listener.local_addr().unwrap_or(args.addr)
    );
    let html = page(&edges);
    let app = Router::new().route("/", get(move || std::future::ready(Html(html.clone()))));
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    drop(children);
    served.map_err(|e| format!("server failed: {e}"))
}

/// The launcher's page: every edge's stream side by side.
pub(crate) fn page(edges: &[SocketAddr]) -> String {
    let tiles: String = edges
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            format!(
                "<figure><img src=\"http://{addr}/stream\" alt=\"edge {n}\" width=\"400\">\
                 <figcaption><a href=\"http://{addr}/\">edge {n}</a> ({addr})</figcaption></figure>\n",
                n = i + 1
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>mjpeg-tower: multi-node</title>\
         <style>body{{font-family:sans-serif;background:#111;color:#ddd}}\
         figure{{display:inline-block;margin:8px}}a{{color:#8cf}}</style></head>\n<body>\n\
         <h1>One origin, {count} edges, one NATS subject</h1>\n\
         <p>Each picture comes from a different edge process; each edge gets \
         every frame once from NATS and serves its own viewers.</p>\n{tiles}</body>\n</html>\n",
        count = edges.len()
    )
}

/// An edge's bridge counters as JSON.
pub(crate) fn edge_json(stats: &EdgeStats) -> serde_json::Value {
    serde_json::json!({
        "frames_received": stats.frames_received,
        "frames_published": stats.frames_published,
        "latest_fetched": stats.latest_fetched,
        "incomplete": stats.incomplete,
        "slow_consumer": stats.slow_consumer,
        "connected": stats.connected,
        "disconnects": stats.disconnects,
        "reconnects": stats.reconnects,
        "last_latency_us": stats.last_latency.map(|d| d.as_micros() as u64),
        "last_error": stats.last_error,
    })
}

/// Child processes, killed and reaped when dropped.
struct Children(Vec<Child>);

impl Children {
    fn spawn(&mut self, program: &Path, args: &[&str]) -> Result<(), String> {
        let child = Command::new(program)
            .args(args)
            .spawn()
            .map_err(|e| format!("cannot start {} {}: {e}", program.display(), args.join(" ")))?;
        self.0.push(child);
        Ok(())
    }

    /// Starts a child whose standard output this process reads.
    fn spawn_piped(&mut self, program: &Path, args: &[&str]) -> Result<ChildStdout, String> {
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
