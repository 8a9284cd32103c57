//! Frames from a pipe: whole JPEGs cut from concatenated JPEG bytes, such as
//! a child process's stdout (`ffmpeg -i <input> -f mjpeg -`).
//!
//! [`PipeSource`] reads any [`AsyncRead`](tokio::io::AsyncRead) and yields
//! whole frames; [`JpegSplitter`] is its pure, synchronous core. Frames are
//! cut by following the JPEG structure (SOI, marker segments by their
//! lengths, scan data to EOI), not by searching for `FF D9`, so an EXIF
//! thumbnail inside a frame does not split it. Truncated, broken and
//! oversize frames and garbage between frames are skipped and counted in
//! [`PipeStats`], never yielded.
//!
//! ```
//! use mjpeg_tower::FrameHub;
//! use mjpeg_tower::pipe::PipeSource;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! // Two tiny JPEG-shaped frames with garbage between them; with ffmpeg it
//! // would be `PipeSource::new(child.stdout.take().unwrap())`.
//! let input: &[u8] = b"\xFF\xD8\xFF\xDA\x00\x02one\xFF\xD9junk\xFF\xD8\xFF\xDA\x00\x02two\xFF\xD9";
//! let hub = FrameHub::new();
//! let stats = PipeSource::new(input).publish_to(&hub).await?;
//! assert_eq!(stats.frames, 2);
//! assert_eq!(stats.garbage_bytes, 4);
//! assert_eq!(hub.latest().unwrap().data().as_ref(), b"\xFF\xD8\xFF\xDA\x00\x02two\xFF\xD9");
//! # Ok(()) }
//! ```

mod source;
mod splitter;
mod stats;

#[cfg(test)]
mod tests;

pub use self::source::PipeSource;
pub use self::splitter::{DEFAULT_MAX_FRAME_SIZE, JpegSplitter};
pub use self::stats::PipeStats;
