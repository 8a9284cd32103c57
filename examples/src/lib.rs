//! Runnable examples for [`mjpeg_tower`], one binary per scenario:
//!
//! | binary | shows | run with |
//! |---|---|---|
//! | `sine` | broadcast from a [`FrameHub`](mjpeg_tower::FrameHub), rendering only while someone watches (axum) | `cargo run --release -p mjpeg-examples --bin sine` |
//! | `sine-warp` | the same endpoints through warp | `cargo run --release -p mjpeg-examples --bin sine-warp` |
//! | `traffic-lights` | a finite per-request stream ([`Mjpeg`](mjpeg_tower::Mjpeg)) where every frame arrives | `cargo run -p mjpeg-examples --bin traffic-lights` |
//! | `multi-node` | one origin and three edge processes fed over NATS ([`mjpeg_nats`]), a page showing all three | `cargo run --release -p mjpeg-examples --bin multi-node` |
//! | `relay` | re-publishing another MJPEG stream, reconnecting with backoff | `cargo run -p mjpeg-examples --bin relay -- --upstream http://127.0.0.1:8080/stream` |
//!
//! Each binary takes `--help`. The binaries are thin: routers are built by
//! the `app` functions here, so the tests serve exactly what the
//! binaries serve, on port 0; what their `main` functions share (binding,
//! stopping on Ctrl-C, the exit code) is in [`serving`].
#![forbid(unsafe_code)]

pub mod args;
pub mod backoff;
pub mod broadcast;
pub mod multi_node;
pub mod page;
pub mod producer;
pub mod relay;
pub mod render;
pub mod serving;
pub mod sine;
pub mod sine_warp;
pub mod stats;
pub mod traffic;
