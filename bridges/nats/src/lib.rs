//! Fan out [`mjpeg_tower`] streams across machines over [NATS](https://nats.io).
//!
//! One process serves about 1,000 viewers at 30 fps with 50 KB frames on one
//! core. Past that, or to put viewers close to where they are, run edges:
//!
//! ```text
//!  camera -> origin --publish once--> nats-server --> edge 1 (FrameHub) -> viewers
//!                                                 \--> edge 2 (FrameHub) -> viewers
//!                                                  \-> edge 3 (FrameHub) -> viewers
//! ```
//!
//! - [`NatsOrigin`] publishes each frame once to the stream's subject
//!   (`mjpeg.<name>`), content type and part headers as NATS message
//!   headers. It never waits for the broker or an edge.
//! - [`NatsEdge`] subscribes and publishes into a local
//!   [`FrameHub`](mjpeg_tower::FrameHub), which the edge serves through the
//!   ordinary [`MjpegLayer`](mjpeg_tower::MjpegLayer).
//!
//! ```no_run
//! use mjpeg_nats::{NatsEdge, NatsOrigin};
//! use mjpeg_tower::{Frame, FrameHub};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let url = "nats://127.0.0.1:4222";
//! // On the camera's machine:
//! let origin = NatsOrigin::builder("cam1")?.connect(url).await?;
//! origin.publish(Frame::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9]));
//!
//! // On each edge machine:
//! let hub = FrameHub::new();
//! let edge = NatsEdge::builder("cam1")?.connect(url, hub.clone()).await?;
//! // ... serve `hub.subscribe()` behind `MjpegLayer`, as on one machine.
//! # Ok(()) }
//! ```
//!
//! # Behaviour
//! - **Late joiners**: a fresh edge (and an edge after a reconnect) asks the
//!   origin for its latest frame on `<subject>.latest`; a viewer of a fresh
//!   edge gets the current frame at once even when frames are rare. The
//!   broker stores nothing: no JetStream needed.
//! - **Broker restarts**: origin and edges reconnect by themselves, retrying
//!   every 250 ms at most. An edge's hub keeps its latest frame, so viewers
//!   stay connected (use [`MjpegLayer::heartbeat`](mjpeg_tower::MjpegLayer::heartbeat)
//!   to keep repeating it); the origin drops frames while the connection is
//!   down instead of queueing stale ones. [`OriginStats`] and [`EdgeStats`]
//!   count disconnects, reconnects and drops.
//! - **Large frames**: a frame larger than one message may be (the broker's
//!   `max_payload`, 1 MB by default, headers included) travels in pieces and
//!   is joined again on the edge; a lost piece drops that frame only.
//! - **Isolation**: an edge that dies affects only its own viewers; the
//!   broker's slow-consumer handling protects the origin and other edges.
//!
//! # Wire format
//! Every message carries `Mjpeg-Frame: <origin id>.<sequence>` and
//! `Mjpeg-Chunk: <index>/<count>`; the first piece of a frame also carries its
//! `Content-Type`, its part headers and `Mjpeg-Sent` (the origin's clock in
//! microseconds). Part headers named like these are not forwarded. A message
//! without them (say, from `nats pub`) is taken as a whole frame, its headers
//! as part headers.
//!
//! # Tests and examples
//! [`LocalBroker`] starts Debian's `nats-server` on a free loopback port.
//! The example `latest_choice` measures the two ways of serving late joiners
//! (asking the origin, or a JetStream stream).
#![forbid(unsafe_code)]

mod broker;
mod edge;
mod error;
mod link;
mod origin;
mod subject;
mod wire;

pub use self::broker::{BrokerError, LocalBroker};
pub use self::edge::{EdgeBuilder, EdgeStats, NatsEdge};
pub use self::error::{ConnectError, EdgeError, NameError};
pub use self::origin::{NatsOrigin, OriginBuilder, OriginStats};
pub use self::subject::{DEFAULT_PREFIX, subject};
