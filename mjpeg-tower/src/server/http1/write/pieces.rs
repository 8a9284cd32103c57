//! The pieces of a response still to be written, a frame's worth held
//! inline.
//!
//! A frame is four pieces (size line, part, tail, CRLF). In a `VecDeque`
//! they sat in a buffer of their own that walked round its ring, so a
//! frame touched three or four more cache lines, each a miss at 1,000
//! viewers (`cargo xtask bench misses`). Inline, they sit beside the
//! writer's other fields in the task; only a backlog spills to the heap.

use std::collections::VecDeque;
use std::mem;

use bytes::{Buf, Bytes};

/// Pieces held inline: a frame's size line, part, tail and CRLF.
const INLINE: usize = 4;

/// One piece of the bytes still to write; 32 bytes, two to a cache line
/// (a third variant would need a tag of its own: static bytes are `Bytes`).
#[derive(Debug)]
pub(super) enum Piece {
    Bytes(Bytes),
    /// A chunk-size line: hexadecimal digits and CRLF, from `start`.
    Size {
        line: [u8; 18],
        start: u8,
    },
}

impl Piece {
    pub(super) const fn from_static(bytes: &'static [u8]) -> Self {
        Self::Bytes(Bytes::from_static(bytes))
    }

    pub(super) fn size_line(len: usize) -> Self {
        // Right-aligned, so `start` is where the digits begin.
        let mut line = [0; 18];
        line[16..].copy_from_slice(b"\r\n");
        let (mut start, mut left) = (16, len);
        loop {
            start -= 1;
            line[start] = b"0123456789ABCDEF"[left & 0xf];
            left >>= 4;
            if left == 0 {
                break;
            }
        }
        Self::Size {
            line,
            start: u8::try_from(start).unwrap_or(0),
        }
    }

    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Self::Bytes(bytes) => bytes,
            Self::Size { line, start } => &line[usize::from(*start)..],
        }
    }

    /// Takes `n` bytes off the front: what is left of `n` once the piece
    /// is used up, or `None` when `n` ended inside it.
    fn consume(&mut self, n: usize) -> Option<usize> {
        let len = self.bytes().len();
        if n < len {
            self.advance(n);
            return None;
        }
        Some(n - len)
    }

    /// Drops the first `n` bytes (fewer than its length).
    fn advance(&mut self, n: usize) {
        match self {
            Self::Bytes(bytes) => bytes.advance(n),
            Self::Size { start, .. } => {
                *start = start.saturating_add(u8::try_from(n).unwrap_or(u8::MAX));
            }
        }
    }
}

/// A queue of pieces: the first [`INLINE`] in place, the rest spilled.
///
/// Inline slots `start..end` come first, then `spill`. Pushes go inline
/// until the slots run out, and to `spill` after that until everything
/// has been written: a frame's pushes and writes never read `spill`.
#[derive(Debug)]
#[repr(C)] // the slots' bounds first, beside the writer's other hot fields
pub(super) struct Pieces {
    start: u8,
    end: u8,
    /// `spill` holds pieces (then `end` is [`INLINE`]).
    spilled: bool,
    /// Pieces in all: kept here, as the compiler hoists a load of
    /// `spill`'s length (a cache line away) out of any branch on `spilled`.
    len: u32,
    inline: [Piece; INLINE],
    spill: VecDeque<Piece>,
}

impl Pieces {
    pub(super) fn new() -> Self {
        Self {
            start: 0,
            end: 0,
            spilled: false,
            len: 0,
            inline: [const { Piece::from_static(b"") }; INLINE],
            spill: VecDeque::new(),
        }
    }

    fn inline_len(&self) -> usize {
        usize::from(self.end - self.start)
    }

    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    pub(super) fn is_empty(&self) -> bool {
        self.start == self.end && !self.spilled
    }

    /// Reads the inline slots' tags, so that the lines a frame's pushes
    /// write start loading early (see `Streaming`); changes nothing.
    pub(super) fn touch(&self) {
        for piece in &self.inline {
            std::hint::black_box(matches!(piece, Piece::Bytes(_)));
        }
    }

    pub(super) fn push_back(&mut self, piece: Piece) {
        self.len += 1;
        let end = usize::from(self.end);
        if end < INLINE {
            self.inline[end] = piece;
            self.end += 1;
        } else {
            self.spill.push_back(piece);
            self.spilled = true;
        }
    }

    /// The `index`th piece from the front.
    pub(super) fn get_mut(&mut self, index: usize) -> Option<&mut Piece> {
        let inline = self.inline_len();
        if index < inline {
            self.inline.get_mut(usize::from(self.start) + index)
        } else {
            self.spill.get_mut(index - inline)
        }
    }

    /// In order, front first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Piece> {
        // Not `spill` itself unless it holds pieces: it is a line away.
        let spill = self.spilled.then(|| self.spill.iter());
        self.inline[usize::from(self.start)..usize::from(self.end)]
            .iter()
            .chain(spill.into_iter().flatten())
    }

    /// Drops the first `n` bytes (at most what is queued).
    pub(super) fn consume(&mut self, mut n: usize) {
        while self.start < self.end {
            let front = &mut self.inline[usize::from(self.start)];
            let Some(rest) = front.consume(n) else { return };
            n = rest;
            // Let go of the frame now, not when the slot is next used.
            drop(mem::replace(front, Piece::from_static(b"")));
            self.start += 1;
            self.len -= 1;
        }
        if self.spilled {
            while let Some(front) = self.spill.front_mut() {
                let Some(rest) = front.consume(n) else { return };
                n = rest;
                self.spill.pop_front();
                self.len -= 1;
            }
            self.spilled = false;
            if self.spill.capacity() > 16 {
                self.spill = VecDeque::new(); // after a burst, held per viewer
            }
        }
        // All written: the slots are free again.
        self.start = 0;
        self.end = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(pieces: &Pieces) -> Vec<u8> {
        pieces.iter().flat_map(|p| p.bytes().to_vec()).collect()
    }

    #[test]
    fn a_piece_is_32_bytes() {
        // Two to a cache line; a third variant would make it 40.
        assert_eq!(mem::size_of::<Piece>(), 32);
    }

    #[test]
    fn size_lines_are_hex_with_crlf() {
        for (len, line) in [
            (1, "1\r\n"),
            (15, "F\r\n"),
            (16, "10\r\n"),
            (46_000, "B3B0\r\n"),
            (usize::MAX, "FFFFFFFFFFFFFFFF\r\n"),
        ] {
            assert_eq!(Piece::size_line(len).bytes(), line.as_bytes());
        }
        let mut piece = Piece::size_line(0xabc);
        piece.advance(2);
        assert_eq!(piece.bytes(), b"C\r\n");
    }

    #[test]
    fn pieces_keep_their_order_past_the_inline_slots() {
        let mut pieces = Pieces::new();
        let words: [&'static [u8]; 7] = [b"a", b"bb", b"c", b"dd", b"e", b"ff", b"g"];
        for word in words {
            pieces.push_back(Piece::from_static(word));
        }
        assert_eq!(pieces.len(), 7);
        assert_eq!(contents(&pieces), b"abbcddeffg");
        // Half of the inline slots written: new pieces still go behind
        // the spilled ones.
        pieces.consume(4);
        pieces.push_back(Piece::from_static(b"h"));
        assert_eq!(contents(&pieces), b"ddeffgh");
        if let Some(piece) = pieces.get_mut(1) {
            *piece = Piece::from_static(b"E");
        }
        assert_eq!(contents(&pieces), b"ddEffgh");
        pieces.consume(6);
        assert_eq!(contents(&pieces), b"h");
        pieces.consume(1);
        assert!(pieces.is_empty());
        assert_eq!(pieces.len(), 0);
        // Empty again: the next frame uses the inline slots from the first.
        pieces.push_back(Piece::from_static(b"ij"));
        assert_eq!((pieces.start, pieces.end), (0, 1));
        pieces.consume(1);
        assert_eq!(contents(&pieces), b"j");
    }

    #[test]
    fn written_pieces_are_let_go_at_once() {
        let frame = Bytes::from(vec![7; 100]);
        let mut pieces = Pieces::new();
        pieces.push_back(Piece::Bytes(frame.clone()));
        pieces.push_back(Piece::from_static(b"\r\n"));
        pieces.consume(100);
        assert!(frame.is_unique(), "a written frame is still held");
    }
}
