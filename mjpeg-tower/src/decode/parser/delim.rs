//! Finding delimiter lines in the decoder's buffer.

use super::Decoder;

/// Result of matching a delimiter at a line start.
pub(super) enum Match {
    No,
    /// Not enough bytes to see the whole delimiter text.
    Partial,
    /// The delimiter text is there but the byte(s) after it are missing.
    Pending(usize),
    Yes(usize),
}

/// Result of searching for a delimiter at a line start.
pub(super) enum Scan {
    /// Body ends at `end`, the delimiter text starts at `start`.
    Found { end: usize, start: usize },
    /// Nothing found yet; resume the search at `resume`.
    Wait { resume: usize },
}

impl Decoder {
    /// Searches line starts from `from` (position 0 counts as a line start) for a
    /// delimiter. With `require_cr` only CRLF line breaks count.
    pub(super) fn scan_for_delim(&self, from: usize, require_cr: bool) -> Scan {
        if from == 0 {
            match self.delim_at(0) {
                Match::Yes(_) => return Scan::Found { end: 0, start: 0 },
                Match::Pending(_) if self.eof => return Scan::Found { end: 0, start: 0 },
                Match::Partial | Match::Pending(_) if !self.eof => return Scan::Wait { resume: 0 },
                _ => {}
            }
        }
        let buf = &self.buf[..];
        let mut pos = from;
        while let Some(off) = buf
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            let nl = pos + off;
            pos = nl + 1;
            let has_cr = nl > 0 && buf[nl - 1] == b'\r';
            if require_cr && !has_cr {
                continue;
            }
            let end = if has_cr { nl - 1 } else { nl };
            match self.delim_at(nl + 1) {
                Match::Yes(_) => return Scan::Found { end, start: nl + 1 },
                Match::Pending(_) if self.eof => return Scan::Found { end, start: nl + 1 },
                Match::Partial | Match::Pending(_) if !self.eof => {
                    return Scan::Wait { resume: nl };
                }
                _ => {}
            }
        }
        Scan::Wait { resume: buf.len() }
    }

    /// Checks whether a delimiter starts at `pos`: the delimiter text followed by
    /// `--`, a space, a tab, CR or LF.
    pub(super) fn delim_at(&self, pos: usize) -> Match {
        let avail = self.buf.get(pos..).unwrap_or_default();
        let mut partial = false;
        for delim in &self.delims {
            let Some(after) = avail.strip_prefix(&**delim) else {
                partial |= avail.len() < delim.len() && delim.starts_with(avail);
                continue;
            };
            match after {
                [] | [b'-'] => return Match::Pending(delim.len()),
                [b' ' | b'\t' | b'\r' | b'\n', ..] | [b'-', b'-', ..] => {
                    return Match::Yes(delim.len());
                }
                _ => {}
            }
        }
        if partial { Match::Partial } else { Match::No }
    }
}
