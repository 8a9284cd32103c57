//! [`PipeStats`]: what a pipe source has read and skipped.

/// Counters of a [`JpegSplitter`](crate::pipe::JpegSplitter) or
/// [`PipeSource`](crate::pipe::PipeSource).
///
/// Skipped input is never yielded: only whole frames are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipeStats {
    /// Whole frames yielded.
    pub frames: u64,
    /// Bytes of the frames yielded.
    pub bytes: u64,
    /// Frames skipped for being larger than the maximum frame size.
    pub oversize: u64,
    /// Frames cut short by a new SOI or by the end of input.
    pub truncated: u64,
    /// Frames skipped for broken structure: a byte where a marker belongs, a
    /// segment length under 2, or an EOI before any scan data.
    pub corrupt: u64,
    /// Runs of bytes outside any frame (before an SOI), each counted once.
    pub garbage: u64,
    /// Bytes skipped outside any frame, including the rest of broken frames.
    pub garbage_bytes: u64,
}

impl PipeStats {
    /// Everything skipped, counted once per frame or garbage run.
    pub fn errors(&self) -> u64 {
        self.oversize + self.truncated + self.corrupt + self.garbage
    }
}
