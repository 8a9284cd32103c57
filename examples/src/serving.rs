//! What every binary's `main` does around its app: bind with a readable
//! error, print the address to open, stop on Ctrl-C, turn the end of
//! serving into an exit code.
//!
//! The order matters on Ctrl-C: [`stop_on_ctrl_c`] stops the hub first, so
//! viewers get the close delimiter, and only then lets the server shut down.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;

use mjpeg_tower::FrameHub;
use mjpeg_tower::server::Server;
use tokio::net::TcpListener;

/// Resolves on Ctrl-C (or never, if the signal cannot be listened for).
pub async fn ctrl_c() {
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("cannot listen for Ctrl-C: {err}");
        std::future::pending::<()>().await;
    }
}

/// Resolves on Ctrl-C after stopping `hub`; pass it to the server as its
/// shutdown signal, so viewers get the close delimiter before it stops.
pub async fn stop_on_ctrl_c(hub: FrameHub) {
    ctrl_c().await;
    println!("shutting down: closing streams");
    hub.stop();
}

/// Binds `addr` with `server`'s settings; `None` after saying why on stderr.
pub async fn bind(server: &Server, addr: SocketAddr) -> Option<TcpListener> {
    match server.bind(addr).await {
        Ok(listener) => Some(listener),
        Err(err) => {
            eprintln!("cannot listen on {addr}: {err}");
            None
        }
    }
}

/// Prints the page to open: the address actually bound (port 0 picks a free
/// one), or `addr` if it cannot be read.
pub fn announce(listener: &TcpListener, addr: SocketAddr) {
    let addr = listener.local_addr().unwrap_or(addr);
    println!("open http://{addr}/");
}

/// Success once the server has shut down, failure (said on stderr) if it failed.
pub fn exit_code(served: io::Result<()>) -> ExitCode {
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}
