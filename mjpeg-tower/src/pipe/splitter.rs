//! [`JpegSplitter`]: cuts concatenated JPEGs into whole frames, following
//! their marker structure.

use bytes::{Buf, Bytes, BytesMut};

use crate::pipe::stats::PipeStats;

/// The default largest frame, in bytes (16 MiB, like the decoder's part limit).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 * 1024 * 1024;

const MARKER: u8 = 0xFF;
const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Looking for the SOI marker that starts a frame.
    Seek,
    /// A marker is expected at `pos`.
    Marker,
    /// Skipping the rest of a marker segment; after SOS the scan data follows.
    Segment { remaining: usize, sos: bool },
    /// In entropy-coded data, where `FF 00` and RSTn are data.
    Entropy,
}

/// A push parser that cuts a byte stream of concatenated JPEGs into whole
/// frames.
///
/// It follows the JPEG structure rather than searching for `FF D9`: after SOI
/// each marker segment is skipped whole by its 2-byte length (so an EXIF
/// thumbnail, with its own SOI and EOI inside APP1, stays inside its frame),
/// and after SOS the entropy-coded data runs to EOI, with `FF 00` stuffing,
/// RSTn markers and fill bytes taken as data. A progressive JPEG's later
/// scans and tables are followed the same way.
///
/// Only whole frames come out. Bytes before an SOI, a frame cut short (by
/// a new SOI or the end of input), a frame whose structure is broken and a
/// frame larger than the maximum are skipped and counted in [`PipeStats`].
/// The buffer holds at most one frame of up to the maximum size plus the
/// bytes pushed since the last call.
#[derive(Debug)]
pub struct JpegSplitter {
    buf: BytesMut,
    /// Parse position in `buf`; the frame starts at 0 unless discarding.
    pos: usize,
    state: State,
    max_frame_size: usize,
    /// The frame is over the limit: parse on, dropping its bytes.
    discarding: bool,
    /// The frame has had an SOS.
    scanned: bool,
    /// Garbage is being skipped (one run counts once).
    in_garbage: bool,
    stats: PipeStats,
}

impl Default for JpegSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl JpegSplitter {
    /// A splitter with [`DEFAULT_MAX_FRAME_SIZE`].
    pub fn new() -> Self {
        Self {
            buf: BytesMut::new(),
            pos: 0,
            state: State::Seek,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            discarding: false,
            scanned: false,
            in_garbage: false,
            stats: PipeStats::default(),
        }
    }

    /// Sets the largest frame in bytes; larger frames are skipped and counted
    /// in [`PipeStats::oversize`].
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Appends input bytes; chunks may be split anywhere.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole frame, or `None` when more input is needed.
    pub fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            match self.state {
                State::Seek => self.seek()?,
                State::Marker => {
                    let (Some(&b0), Some(&m)) =
                        (self.buf.get(self.pos), self.buf.get(self.pos + 1))
                    else {
                        return self.need_more();
                    };
                    if b0 != MARKER {
                        self.corrupt();
                        continue;
                    }
                    match m {
                        MARKER => self.pos += 1, // a fill byte
                        SOI => self.cut_short(),
                        EOI => {
                            if let Some(frame) = self.end_of_image() {
                                return Some(frame);
                            }
                        }
                        0x01 | 0xD0..=0xD7 => self.pos += 2, // no length
                        0x00 => self.corrupt(),
                        _ => {
                            let (Some(&hi), Some(&lo)) =
                                (self.buf.get(self.pos + 2), self.buf.get(self.pos + 3))
                            else {
                                return self.need_more();
                            };
                            let len = usize::from(u16::from_be_bytes([hi, lo]));
                            if len < 2 {
                                self.corrupt();
                                continue;
                            }
                            self.pos += 4;
                            let sos = m == SOS;
                            self.state = State::Segment {
                                remaining: len - 2,
                                sos,
                            };
                        }
                    }
                }
                State::Segment { remaining, sos } => {
                    let n = remaining.min(self.buf.len() - self.pos);
                    self.pos += n;
                    if n < remaining {
                        self.state = State::Segment {
                            remaining: remaining - n,
                            sos,
                        };
                        return self.need_more();
                    }
                    self.scanned |= sos;
                    self.state = if sos { State::Entropy } else { State::Marker };
                }
                State::Entropy => {
                    let Some(off) = self.buf[self.pos..].iter().position(|&b| b == MARKER) else {
                        self.pos = self.buf.len();
                        return self.need_more();
                    };
                    self.pos += off;
                    let Some(&m) = self.buf.get(self.pos + 1) else {
                        return self.need_more();
                    };
                    match m {
                        0x00 | 0xD0..=0xD7 => self.pos += 2, // stuffing, restart markers
                        MARKER => self.pos += 1,             // a fill byte
                        EOI => {
                            if let Some(frame) = self.end_of_image() {
                                return Some(frame);
                            }
                        }
                        SOI => self.cut_short(),
                        _ => self.state = State::Marker, // tables or the next scan
                    }
                }
            }
        }
    }

    /// Marks the end of input: a frame in progress is counted as truncated,
    /// and the buffer is released.
    pub fn finish(&mut self) {
        if self.state != State::Seek && !self.discarding {
            self.stats.truncated += 1;
        } else if self.state == State::Seek && !self.buf.is_empty() {
            self.garbage(self.buf.len());
        }
        self.reset();
        self.buf = BytesMut::new();
    }

    /// The counters so far.
    pub fn stats(&self) -> PipeStats {
        self.stats
    }

    /// Bytes held now (at most one frame of the maximum size plus what was
    /// pushed since the last call).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Finds the next SOI, dropping what comes before it as garbage.
    fn seek(&mut self) -> Option<()> {
        let Some(at) = self.buf.windows(2).position(|w| w == [MARKER, SOI]) else {
            // Keep a trailing FF: it may start the next SOI.
            let keep = usize::from(self.buf.last() == Some(&MARKER));
            self.garbage(self.buf.len() - keep);
            return None;
        };
        self.garbage(at);
        self.in_garbage = false;
        self.pos = 2;
        self.scanned = false;
        self.state = State::Marker;
        Some(())
    }

    fn garbage(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        if !self.in_garbage {
            self.stats.garbage += 1;
            self.in_garbage = true;
        }
        self.stats.garbage_bytes += n as u64;
        self.buf.advance(n);
    }

    /// An EOI at `pos`: the frame, unless it is to be skipped.
    fn end_of_image(&mut self) -> Option<Bytes> {
        self.pos += 2;
        if self.discarding || self.pos > self.max_frame_size {
            if !self.discarding {
                self.stats.oversize += 1;
            }
            self.buf.advance(self.pos);
            self.reset();
            return None;
        }
        if !self.scanned {
            // Tables or metadata only: no picture to show.
            self.stats.corrupt += 1;
            self.buf.advance(self.pos);
            self.reset();
            return None;
        }
        let frame = self.buf.split_to(self.pos).freeze();
        self.reset();
        self.stats.frames += 1;
        self.stats.bytes += frame.len() as u64;
        Some(frame)
    }

    /// An SOI inside a frame: the frame was cut short; the new one starts here.
    fn cut_short(&mut self) {
        if !self.discarding {
            self.stats.truncated += 1;
        }
        self.buf.advance(self.pos);
        self.reset();
    }

    /// The structure is broken at `pos`: skip the frame and look for the next SOI.
    fn corrupt(&mut self) {
        self.stats.corrupt += 1;
        self.buf.advance(self.pos);
        self.reset();
        // What follows up to the next SOI belongs to the broken frame.
        self.in_garbage = true;
    }

    fn reset(&mut self) {
        self.pos = 0;
        self.state = State::Seek;
        self.discarding = false;
        self.scanned = false;
    }

    /// Before waiting for input: a frame past the limit is skipped from
    /// here on, so the buffer stays bounded.
    fn need_more(&mut self) -> Option<Bytes> {
        if !self.discarding && self.pos > self.max_frame_size {
            self.stats.oversize += 1;
            self.discarding = true;
        }
        if self.discarding {
            self.buf.advance(self.pos);
            self.pos = 0;
        }
        None
    }
}
