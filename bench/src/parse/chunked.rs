//! `Transfer-Encoding: chunked`, decoded without copying the data.

use super::{ParseError, err};

/// `Transfer-Encoding: chunked` decoder that hands out borrowed data slices.
#[derive(Debug)]
pub(super) struct Chunked {
    state: ChunkState,
    size: u64,
    digits: u32,
    pub(super) done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Ext,
    SizeLf,
    Data(u64),
    DataCr,
    DataLf,
    Trailer,
}

impl Chunked {
    pub(super) fn new() -> Self {
        Self {
            state: ChunkState::Size,
            size: 0,
            digits: 0,
            done: false,
        }
    }

    /// Consumes framing bytes from `input` and returns the next data slice,
    /// or `None` once `input` is used up.
    pub(super) fn next<'a>(
        &mut self,
        input: &mut &'a [u8],
    ) -> Result<Option<&'a [u8]>, ParseError> {
        while let Some(&b) = input.first() {
            match self.state {
                ChunkState::Data(rest) => {
                    let n = usize::try_from(rest).unwrap_or(usize::MAX).min(input.len());
                    let (piece, tail) = input.split_at(n);
                    *input = tail;
                    let rest = rest - n as u64;
                    self.state = if rest == 0 {
                        ChunkState::DataCr
                    } else {
                        ChunkState::Data(rest)
                    };
                    return Ok(Some(piece));
                }
                ChunkState::Size => {
                    *input = &input[1..];
                    match b {
                        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                            let digit = (b as char).to_digit(16).unwrap_or(0);
                            self.size = self.size * 16 + u64::from(digit);
                            self.digits += 1;
                            if self.digits > 15 {
                                return err("chunk size too large");
                            }
                        }
                        b';' | b' ' | b'\t' => self.state = ChunkState::Ext,
                        b'\r' => self.state = ChunkState::SizeLf,
                        _ => return err(format!("bad chunk size byte {b:#04x}")),
                    }
                }
                ChunkState::Ext => {
                    *input = &input[1..];
                    if b == b'\r' {
                        self.state = ChunkState::SizeLf;
                    }
                }
                ChunkState::SizeLf => {
                    *input = &input[1..];
                    if b != b'\n' || self.digits == 0 {
                        return err("bad chunk size line");
                    }
                    if self.size == 0 {
                        self.state = ChunkState::Trailer;
                        self.done = true;
                    } else {
                        self.state = ChunkState::Data(self.size);
                    }
                    self.size = 0;
                    self.digits = 0;
                }
                ChunkState::DataCr => {
                    *input = &input[1..];
                    if b != b'\r' {
                        return err("chunk data not followed by CRLF");
                    }
                    self.state = ChunkState::DataLf;
                }
                ChunkState::DataLf => {
                    *input = &input[1..];
                    if b != b'\n' {
                        return err("chunk data not followed by CRLF");
                    }
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailer => {
                    // Ignore trailers and anything after the last chunk.
                    *input = &[];
                }
            }
        }
        Ok(None)
    }
}
