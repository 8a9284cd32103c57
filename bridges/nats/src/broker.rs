//! [`LocalBroker`]: a `nats-server` child process on a loopback port, for
//! tests, examples and benchmarks on one machine.
//!
//! Production brokers are run and configured by their operators; this only
//! starts Debian's `nats-server` (or the binary named by `NATS_SERVER`) with
//! its defaults on `127.0.0.1`.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started broker may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where `nats-server` is looked for when it is not on `PATH`.
const KNOWN_PLACES: &[&str] = &["/usr/sbin/nats-server", "/usr/bin/nats-server"];

/// A `nats-server` process on `127.0.0.1`, killed when dropped.
///
/// ```no_run
/// let broker = mjpeg_nats::LocalBroker::start()?;
/// println!("connect to {}", broker.url());
/// # Ok::<(), mjpeg_nats::BrokerError>(())
/// ```
pub struct LocalBroker {
    program: PathBuf,
    port: u16,
    /// JetStream's store directory, when enabled.
    jetstream: Option<PathBuf>,
    child: Option<Child>,
}

impl LocalBroker {
    /// The `nats-server` binary: `$NATS_SERVER`, else on `PATH`, else in `/usr/sbin`.
    ///
    /// # Errors
    /// When none is found; the error says how to install one.
    pub fn find() -> Result<PathBuf, BrokerError> {
        if let Some(path) = std::env::var_os("NATS_SERVER") {
            return Ok(path.into());
        }
        let on_path = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|dir| dir.join("nats-server"));
        on_path
            .chain(KNOWN_PLACES.iter().map(PathBuf::from))
            .find(|p| p.is_file())
            .ok_or(BrokerError::NotFound)
    }

    /// Starts a broker on a free loopback port and waits until it accepts
    /// connections.
    ///
    /// # Errors
    /// When `nats-server` is missing, cannot be started, or is not ready
    /// within 5 s.
    pub fn start() -> Result<Self, BrokerError> {
        let port = free_port().map_err(BrokerError::Io)?;
        Self::start_on(port)
    }

    /// Starts a broker on `127.0.0.1:port`.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_on(port: u16) -> Result<Self, BrokerError> {
        let mut broker = Self {
            program: Self::find()?,
            port,
            jetstream: None,
            child: None,
        };
        broker.spawn()?;
        Ok(broker)
    }

    /// Starts a broker with JetStream enabled (`-js`), storing under
    /// `store_dir` (which the caller creates and removes).
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_jetstream(store_dir: &Path) -> Result<Self, BrokerError> {
        let mut broker = Self {
            program: Self::find()?,
            port: free_port().map_err(BrokerError::Io)?,
            jetstream: Some(store_dir.to_owned()),
            child: None,
        };
        broker.spawn()?;
        Ok(broker)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the broker (as a crash would) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, after [`kill`](Self::kill).
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn restart(&mut self) -> Result<(), BrokerError> {
        self.kill();
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), BrokerError> {
        let mut command = Command::new(&self.program);
        command.args(["-a", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(dir) = &self.jetstream {
            command.arg("-js").arg("-sd").arg(dir);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BrokerError::Spawn(self.program.clone(), e))?;
        self.child = Some(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + READY_TIMEOUT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                self.kill();
                return Err(BrokerError::NotReady(self.port));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

impl Drop for LocalBroker {
    fn drop(&mut self) {
        self.kill();
    }
}

impl fmt::Debug for LocalBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalBroker")
            .field("program", &self.program)
            .field("port", &self.port)
            .field("pid", &self.pid())
            .finish()
    }
}

/// Why a local broker could not run.
#[derive(Debug)]
#[non_exhaustive]
pub enum BrokerError {
    /// No `nats-server` binary was found.
    NotFound,
    /// The binary could not be started.
    Spawn(PathBuf, io::Error),
    /// It did not accept connections on its port in time (or exited).
    NotReady(u16),
    /// No free port could be found.
    Io(io::Error),
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str(
                "nats-server not found on PATH or in /usr/sbin; install it \
                 (`apt-get install nats-server`) or set NATS_SERVER to its path",
            ),
            Self::Spawn(path, e) => write!(f, "cannot start {}: {e}", show(path)),
            Self::NotReady(port) => write!(
                f,
                "nats-server did not accept connections on 127.0.0.1:{port} within 5 s; \
                 is the port taken?"
            ),
            Self::Io(e) => write!(f, "cannot find a free loopback port: {e}"),
        }
    }
}

impl std::error::Error for BrokerError {}

fn show(path: &Path) -> String {
    path.display().to_string()
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}
