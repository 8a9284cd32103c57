//! Scenery for the examples: **none of this is needed for streaming.**
//!
//! The examples need pictures to stream and pages to show them on. A real
//! service has a camera instead of [`sine`] and [`lights`], and its own
//! pages; copy an example's `main.rs` and replace the calls into this crate
//! with yours.
//!
//! - [`canvas`]: drawing into a reused pixmap and encoding it as JPEG;
//! - [`sine`]: the moving sine wave, and [`render_loop`], which renders it
//!   into a hub only while someone watches;
//! - [`lights`]: the traffic lights' three pictures;
//! - [`page`] and [`stats`]: the HTML page at `/` and the JSON at `/stats`;
//! - [`testing`]: what the examples' tests share to read streams over HTTP.
#![forbid(unsafe_code)]

pub mod canvas;
pub mod lights;
pub mod page;
pub mod render_loop;
pub mod sine;
pub mod stats;
pub mod testing;
