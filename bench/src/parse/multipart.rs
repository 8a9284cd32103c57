//! The multipart layer: header blocks, then payloads counted by
//! `Content-Length` or scanned for the next delimiter.

use memchr::memmem;

use super::block::{Block, parse_block};
use super::{MAX_BLOCK, ParseError, Part, err};
use crate::stamp::{self, STAMP_LEN};

/// The multipart layer.
#[derive(Debug)]
pub(super) struct Multipart {
    /// `--boundary`
    dash_boundary: Vec<u8>,
    /// `\r\n--boundary`: what ends a part without `Content-Length`.
    finder: memmem::Finder<'static>,
    state: MpState,
    /// Delimiter line plus header block being collected.
    block: Vec<u8>,
    /// Body bytes held back while scanning (may begin a delimiter).
    carry: Vec<u8>,
    /// The first payload bytes of the part being read: its stamp, if any.
    prefix: [u8; STAMP_LEN],
    prefix_len: usize,
    pub(super) closed: bool,
}

#[derive(Debug, Clone, Copy)]
enum MpState {
    Block,
    Body { rest: usize, part: Part },
    Scan { part: Part },
}

impl Multipart {
    pub(super) fn new(boundary: &str) -> Self {
        let mut dash_boundary = b"--".to_vec();
        dash_boundary.extend_from_slice(boundary.as_bytes());
        let mut delim = b"\r\n".to_vec();
        delim.extend_from_slice(&dash_boundary);
        Self {
            dash_boundary,
            finder: memmem::Finder::new(&delim).into_owned(),
            state: MpState::Block,
            block: Vec::with_capacity(256),
            carry: Vec::new(),
            prefix: [0; STAMP_LEN],
            prefix_len: 0,
            closed: false,
        }
    }

    pub(super) fn feed(
        &mut self,
        mut data: &[u8],
        on_part: &mut impl FnMut(Part),
    ) -> Result<(), ParseError> {
        while !data.is_empty() && !self.closed {
            match &mut self.state {
                MpState::Body { rest, part } => {
                    let n = (*rest).min(data.len());
                    *rest -= n;
                    let done = (*rest == 0).then_some(*part);
                    self.peek(&data[..n]);
                    data = &data[n..];
                    if let Some(part) = done {
                        on_part(self.with_stamp(part));
                        self.state = MpState::Block;
                    }
                }
                MpState::Scan { part } => {
                    let part = *part;
                    data = self.scan(part, data, on_part);
                }
                MpState::Block => {
                    // Take a little at a time so a big payload is never copied.
                    let take = data.len().min(1024);
                    let before = self.block.len();
                    self.block.extend_from_slice(&data[..take]);
                    match parse_block(&self.block, &self.dash_boundary)? {
                        Block::NeedMore => {
                            if self.block.len() > MAX_BLOCK {
                                return err("part header block too large");
                            }
                            data = &data[take..];
                        }
                        Block::Closed => {
                            self.closed = true;
                            return Ok(());
                        }
                        Block::Empty { used } => {
                            data = self.after_block(used, before, data);
                            let leftover = std::mem::take(&mut self.carry);
                            self.feed(&leftover, on_part)?;
                        }
                        Block::Part { used, part, sized } => {
                            data = self.after_block(used, before, data);
                            let leftover = std::mem::take(&mut self.carry);
                            self.block.clear();
                            self.prefix_len = 0;
                            self.state = if sized && part.len == 0 {
                                on_part(part);
                                MpState::Block
                            } else if sized {
                                MpState::Body {
                                    rest: part.len,
                                    part,
                                }
                            } else {
                                MpState::Scan { part }
                            };
                            self.feed(&leftover, on_part)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A header block ended `used` bytes into `block`, of which the first
    /// `before` were there before `data` was appended: returns the rest of
    /// `data`, and leaves in `carry` block bytes that belong after the block.
    fn after_block<'a>(&mut self, used: usize, before: usize, data: &'a [u8]) -> &'a [u8] {
        let rest = if used >= before {
            self.carry.clear();
            &data[used - before..]
        } else {
            // Bytes held back while deciding: they come before all of `data`.
            self.carry = self.block[used..before].to_vec();
            data
        };
        self.block.clear();
        rest
    }

    /// Body without `Content-Length`: counts bytes up to the next `\r\n--boundary`.
    fn scan<'a>(
        &mut self,
        mut part: Part,
        data: &'a [u8],
        on_part: &mut impl FnMut(Part),
    ) -> &'a [u8] {
        // Every byte of `data` comes after those already seen, so until the
        // payload's end is found they are its next bytes (a payload shorter
        // than a stamp is never read as stamped: see `with_stamp`).
        self.peek(data);
        let dlen = self.finder.needle().len();
        // A delimiter that starts in the carried bytes and ends in `data`.
        if !self.carry.is_empty() {
            let mut window = self.carry.clone();
            window.extend_from_slice(&data[..data.len().min(dlen - 1)]);
            if let Some(i) = self.finder.find(&window)
                && i < self.carry.len()
            {
                part.len += i;
                let rest = self.carry.split_off(i);
                self.carry.clear();
                self.finish_scan(part, on_part);
                self.block = rest;
                return data;
            }
        }
        if let Some(j) = self.finder.find(data) {
            part.len += self.carry.len() + j;
            self.carry.clear();
            self.finish_scan(part, on_part);
            return &data[j..];
        }
        // No delimiter: keep the last dlen-1 bytes, count the rest.
        let total = self.carry.len() + data.len();
        let keep = total.min(dlen - 1);
        part.len += total - keep;
        if data.len() >= keep {
            self.carry.clear();
            self.carry.extend_from_slice(&data[data.len() - keep..]);
        } else {
            let drop = self.carry.len() - (keep - data.len());
            self.carry.drain(..drop);
            self.carry.extend_from_slice(data);
        }
        self.state = MpState::Scan { part };
        &[]
    }

    fn finish_scan(&mut self, part: Part, on_part: &mut impl FnMut(Part)) {
        // Parts without a body (e.g. before a close delimiter) are not frames.
        if part.len > 0 {
            on_part(self.with_stamp(part));
        }
        self.state = MpState::Block;
    }

    /// Keeps the first [`STAMP_LEN`] payload bytes of the current part.
    fn peek(&mut self, data: &[u8]) {
        let n = (STAMP_LEN - self.prefix_len).min(data.len());
        self.prefix[self.prefix_len..self.prefix_len + n].copy_from_slice(&data[..n]);
        self.prefix_len += n;
    }

    /// `part` with the sequence number and time of its payload's stamp, unless
    /// part headers already gave them.
    fn with_stamp(&self, mut part: Part) -> Part {
        if part.len >= STAMP_LEN
            && self.prefix_len == STAMP_LEN
            && let Some((seq, ts)) = stamp::read(&self.prefix)
        {
            part.seq = part.seq.or(Some(seq));
            part.ts = part.ts.or(Some(ts));
        }
        part
    }
}
