//! One header block: the delimiter line (or the close delimiter), then the
//! part headers up to the blank line.

use super::{ParseError, Part, err};

/// What [`parse_block`] found.
pub(super) enum Block {
    NeedMore,
    Closed,
    /// Header block complete after this many bytes of `block`.
    Part {
        used: usize,
        part: Part,
        sized: bool,
    },
    /// A part without headers or body, `used` bytes long.
    Empty {
        used: usize,
    },
}

/// Parses `[CRLF...]--boundary[--]<ws>CRLF headers CRLF` from `b`, the
/// bytes collected so far; `db` is `--boundary`.
pub(super) fn parse_block(b: &[u8], db: &[u8]) -> Result<Block, ParseError> {
    let mut i = 0;
    while i < b.len() && (b[i] == b'\r' || b[i] == b'\n') {
        i += 1;
    }
    let avail = &b[i..];
    let n = avail.len().min(db.len());
    if avail[..n] != db[..n] {
        return err(format!(
            "expected a delimiter, got {:?}",
            String::from_utf8_lossy(&avail[..avail.len().min(40)])
        ));
    }
    if avail.len() < db.len() + 2 {
        return Ok(Block::NeedMore);
    }
    if &avail[db.len()..db.len() + 2] == b"--" {
        return Ok(Block::Closed);
    }
    // The rest of the delimiter line.
    let Some(eol) = memchr::memchr(b'\n', &avail[db.len()..]) else {
        return Ok(Block::NeedMore);
    };
    let mut pos = i + db.len() + eol + 1;
    let mut part = Part {
        len: 0,
        seq: None,
        ts: None,
    };
    let mut sized = false;
    loop {
        let Some(eol) = memchr::memchr(b'\n', &b[pos..]) else {
            return Ok(Block::NeedMore);
        };
        let line = &b[pos..pos + eol];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += eol + 1;
        if line.is_empty() {
            if !sized {
                // `--B CRLF CRLF --B`: an empty part (how a stream is closed
                // after a delimiter); its blank line took the CRLF.
                let rest = &b[pos..];
                let n = rest.len().min(db.len());
                if rest[..n] == db[..n] {
                    if n < db.len() {
                        return Ok(Block::NeedMore);
                    }
                    return Ok(Block::Empty { used: pos });
                }
            }
            return Ok(Block::Part {
                used: pos,
                part,
                sized,
            });
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return err("part header line without a colon");
        };
        let name = &line[..colon];
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") {
            part.len = parse_u64(value)
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(|| ParseError("bad part Content-Length".into()))?;
            sized = true;
        } else if name.eq_ignore_ascii_case(b"x-seq") {
            part.seq = parse_u64(value);
        } else if name.eq_ignore_ascii_case(b"x-ts") {
            part.ts = parse_u64(value);
        }
    }
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}
