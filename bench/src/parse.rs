//! The load generator's incremental parser: HTTP/1.1 response head, chunked or
//! identity body, then multipart parts.
//!
//! It never keeps a payload: with a part `Content-Length` (the benchmark's
//! `Framing::Standard`) the payload is only counted and skipped; without one
//! the next delimiter is searched with `memchr::memmem`, carrying at most a
//! delimiter's length over between reads. Per part it reports the payload
//! length and the `X-Seq` / `X-Ts` part headers.

use memchr::memmem;

/// Largest response head or part header block accepted.
const MAX_BLOCK: usize = 64 * 1024;

/// One complete part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    /// Payload bytes.
    pub(crate) len: usize,
    /// The `X-Seq` header: the server's publish sequence number.
    pub(crate) seq: Option<u64>,
    /// The `X-Ts` header: publish time, unix nanoseconds.
    pub(crate) ts: Option<u64>,
}

/// Why a stream could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// Parses one response: head, transfer coding, multipart body.
#[derive(Debug)]
pub(crate) struct StreamParser {
    head: Option<Vec<u8>>,
    chunks: Option<Chunked>,
    multipart: Option<Multipart>,
    /// Set once the close delimiter (or the last chunk) arrived.
    closed: bool,
}

impl Default for StreamParser {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamParser {
    pub(crate) fn new() -> Self {
        Self {
            head: Some(Vec::with_capacity(512)),
            chunks: None,
            multipart: None,
            closed: false,
        }
    }

    /// Whether the stream ended on purpose (close delimiter or final chunk).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed || self.multipart.as_ref().is_some_and(|m| m.closed)
    }

    /// Feeds the next bytes read from the socket; calls `on_part` for every
    /// part completed by them.
    pub(crate) fn feed(
        &mut self,
        mut data: &[u8],
        on_part: &mut impl FnMut(Part),
    ) -> Result<(), ParseError> {
        if let Some(head) = &mut self.head {
            // Append only what is needed: find the end of the head across reads.
            let start = head.len().saturating_sub(3);
            let take = data.len().min(MAX_BLOCK + 4 - head.len());
            head.extend_from_slice(&data[..take]);
            let Some(end) = memmem::find(&head[start..], b"\r\n\r\n").map(|i| start + i + 4) else {
                if head.len() > MAX_BLOCK {
                    return err("response head too large");
                }
                return Ok(());
            };
            let used_of_data = take - (head.len() - end);
            let (chunked, boundary) = parse_head(&head[..end])?;
            self.chunks = chunked.then(Chunked::new);
            self.multipart = Some(Multipart::new(&boundary));
            self.head = None;
            data = &data[used_of_data..];
        }
        let Some(mp) = &mut self.multipart else {
            return Ok(());
        };
        match &mut self.chunks {
            None => mp.feed(data, on_part),
            Some(chunks) => {
                while let Some(piece) = chunks.next(&mut data)? {
                    mp.feed(piece, on_part)?;
                }
                if chunks.done {
                    self.closed = true;
                }
                Ok(())
            }
        }
    }
}

/// Checks the status line and returns (chunked, boundary).
fn parse_head(head: &[u8]) -> Result<(bool, String), ParseError> {
    let text = std::str::from_utf8(head).map_err(|_| ParseError("non-UTF-8 head".into()))?;
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.") || code != "200" {
        return err(format!("unexpected status line {status:?}"));
    }
    let mut chunked = false;
    let mut boundary = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-type") {
            if !value
                .to_ascii_lowercase()
                .starts_with("multipart/x-mixed-replace")
            {
                return err(format!("unexpected content type {value:?}"));
            }
            for param in value.split(';').skip(1) {
                if let Some((k, v)) = param.trim().split_once('=')
                    && k.trim().eq_ignore_ascii_case("boundary")
                {
                    let v = v.trim().trim_matches('"');
                    boundary = Some(v.strip_prefix("--").unwrap_or(v).to_owned());
                }
            }
        }
    }
    match boundary {
        Some(b) if !b.is_empty() => Ok((chunked, b)),
        _ => err("no multipart boundary in the response head"),
    }
}

/// `Transfer-Encoding: chunked` decoder that hands out borrowed data slices.
#[derive(Debug)]
struct Chunked {
    state: ChunkState,
    size: u64,
    digits: u32,
    done: bool,
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
    fn new() -> Self {
        Self {
            state: ChunkState::Size,
            size: 0,
            digits: 0,
            done: false,
        }
    }

    /// Consumes framing bytes from `input` and returns the next data slice,
    /// or `None` once `input` is used up.
    fn next<'a>(&mut self, input: &mut &'a [u8]) -> Result<Option<&'a [u8]>, ParseError> {
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

/// The multipart layer.
#[derive(Debug)]
struct Multipart {
    /// `--boundary`
    dash_boundary: Vec<u8>,
    /// `\r\n--boundary`: what ends a part without `Content-Length`.
    finder: memmem::Finder<'static>,
    state: MpState,
    /// Delimiter line plus header block being collected.
    block: Vec<u8>,
    /// Body bytes held back while scanning (may begin a delimiter).
    carry: Vec<u8>,
    closed: bool,
}

#[derive(Debug, Clone, Copy)]
enum MpState {
    Block,
    Body { rest: usize, part: Part },
    Scan { part: Part },
}

enum Block {
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

impl Multipart {
    fn new(boundary: &str) -> Self {
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
            closed: false,
        }
    }

    fn feed(&mut self, mut data: &[u8], on_part: &mut impl FnMut(Part)) -> Result<(), ParseError> {
        while !data.is_empty() && !self.closed {
            match &mut self.state {
                MpState::Body { rest, part } => {
                    let n = (*rest).min(data.len());
                    *rest -= n;
                    data = &data[n..];
                    if *rest == 0 {
                        on_part(*part);
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
                    match self.parse_block()? {
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
            on_part(part);
        }
        self.state = MpState::Block;
    }

    /// Parses `[CRLF...]--boundary[--]<ws>CRLF headers CRLF` from `self.block`.
    fn parse_block(&self) -> Result<Block, ParseError> {
        let b = &self.block[..];
        let mut i = 0;
        while i < b.len() && (b[i] == b'\r' || b[i] == b'\n') {
            i += 1;
        }
        let db = &self.dash_boundary[..];
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
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "frame";

    fn standard_part(payload: &[u8], seq: u64, ts: u64) -> Vec<u8> {
        let mut v = format!(
            "Content-Type: image/jpeg\r\nContent-Length: {}\r\nx-seq: {seq}\r\nX-Ts: {ts}\r\n\r\n",
            payload.len()
        )
        .into_bytes();
        v.extend_from_slice(payload);
        v.extend_from_slice(format!("\r\n--{B}\r\n").as_bytes());
        v
    }

    fn body(parts: &[Vec<u8>], close: bool) -> Vec<u8> {
        let mut v = format!("--{B}\r\n").into_bytes();
        for p in parts {
            v.extend_from_slice(p);
        }
        if close {
            // Close delimiter after an empty part, as the library ends streams.
            v.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
        }
        v
    }

    fn chunk(data: &[u8]) -> Vec<u8> {
        let mut v = format!("{:X}\r\n", data.len()).into_bytes();
        v.extend_from_slice(data);
        v.extend_from_slice(b"\r\n");
        v
    }

    fn head(chunked: bool) -> Vec<u8> {
        let te = if chunked {
            "transfer-encoding: chunked\r\n"
        } else {
            ""
        };
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary={B}\r\n{te}\r\n"
        )
        .into_bytes()
    }

    /// Feeds `wire` split into pieces of `step` bytes.
    fn run(wire: &[u8], step: usize) -> (Vec<Part>, StreamParser) {
        let mut parser = StreamParser::new();
        let mut parts = Vec::new();
        for piece in wire.chunks(step) {
            parser
                .feed(piece, &mut |p| parts.push(p))
                .unwrap_or_else(|e| panic!("step {step}: {e}"));
        }
        (parts, parser)
    }

    fn payload(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    #[test]
    fn identity_body_parts_split_across_reads() {
        let parts = [
            standard_part(&payload(1000, 1), 7, 111),
            standard_part(&payload(5, 2), 8, 222),
            standard_part(&payload(3000, 3), 9, 333),
        ];
        let mut wire = head(false);
        wire.extend(body(&parts, true));
        for step in [1, 2, 3, 7, 64, 999, 1001, wire.len()] {
            let (got, parser) = run(&wire, step);
            let want = [(1000, 7, 111), (5, 8, 222), (3000, 9, 333)]
                .map(|(len, s, t)| Part {
                    len,
                    seq: Some(s),
                    ts: Some(t),
                })
                .to_vec();
            assert_eq!(got, want, "step {step}");
            assert!(parser.is_closed());
        }
    }

    #[test]
    fn chunked_body_as_hyper_writes_it() {
        // hyper sends each body frame as its own chunk: head, payload, tail.
        let mut wire = head(true);
        wire.extend(chunk(format!("--{B}\r\n").as_bytes()));
        for (seq, len) in [(1u64, 2000usize), (2, 10), (3, 70_000)] {
            let p = payload(len, seq as u8);
            let hdr = format!(
                "Content-Type: image/jpeg\r\nContent-Length: {len}\r\nx-seq: {seq}\r\nx-ts: {}\r\n\r\n",
                seq * 1000
            );
            wire.extend(chunk(hdr.as_bytes()));
            wire.extend(chunk(&p));
            wire.extend(chunk(format!("\r\n--{B}\r\n").as_bytes()));
        }
        wire.extend(chunk(format!("\r\n--{B}--\r\n").as_bytes()));
        wire.extend_from_slice(b"0\r\n\r\n");
        for step in [1, 5, 17, 4096, wire.len()] {
            let (got, parser) = run(&wire, step);
            assert_eq!(got.len(), 3, "step {step}");
            assert_eq!(
                got.iter().map(|p| p.len).collect::<Vec<_>>(),
                [2000, 10, 70_000]
            );
            assert_eq!(
                got.iter().map(|p| (p.seq, p.ts)).collect::<Vec<_>>(),
                [
                    (Some(1), Some(1000)),
                    (Some(2), Some(2000)),
                    (Some(3), Some(3000))
                ]
            );
            assert!(parser.is_closed());
        }
    }

    #[test]
    fn parts_without_content_length_are_found_by_delimiter() {
        // AdvanceHeaders-style: headers sent ahead, no Content-Length,
        // and payloads that contain near-miss delimiters.
        let mut wire = head(false);
        wire.extend_from_slice(format!("--{B}\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
        let p1 = b"abc\r\n--framX\r\n--fram".to_vec();
        let p2 = payload(5000, 9);
        for p in [&p1, &p2] {
            wire.extend_from_slice(p);
            wire.extend_from_slice(
                format!("\r\n--{B}\r\nContent-Type: image/jpeg\r\nx-ts: 5\r\n\r\n").as_bytes(),
            );
        }
        wire.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
        for step in [1, 2, 3, 6, 7, 8, 100, wire.len()] {
            let (got, parser) = run(&wire, step);
            assert_eq!(
                got.iter().map(|p| p.len).collect::<Vec<_>>(),
                [p1.len(), p2.len()],
                "step {step}"
            );
            assert_eq!(got[0].ts, None);
            assert_eq!(got[1].ts, Some(5));
            assert!(parser.is_closed(), "step {step}");
        }
    }

    #[test]
    fn every_two_way_split_gives_the_same_parts() {
        let mut chunked = head(true);
        chunked.extend(chunk(format!("--{B}\r\n").as_bytes()));
        let mut identity = head(false);
        identity.extend(body(
            &[
                standard_part(b"0123456789", 1, 10),
                standard_part(b"xy", 2, 20),
            ],
            true,
        ));
        for p in [
            standard_part(b"0123456789", 1, 10),
            standard_part(b"xy", 2, 20),
        ] {
            chunked.extend(chunk(&p));
        }
        chunked.extend(chunk(format!("\r\n--{B}--\r\n").as_bytes()));
        chunked.extend_from_slice(b"0\r\n\r\n");
        for wire in [identity, chunked] {
            let (want, _) = run(&wire, wire.len());
            assert_eq!(want.len(), 2);
            for cut in 0..=wire.len() {
                let mut parser = StreamParser::new();
                let mut got = Vec::new();
                parser.feed(&wire[..cut], &mut |p| got.push(p)).unwrap();
                parser.feed(&wire[cut..], &mut |p| got.push(p)).unwrap();
                assert_eq!(got, want, "cut at {cut}");
                assert!(parser.is_closed());
            }
        }
    }

    #[test]
    fn bad_status_and_garbage_are_errors() {
        let mut p = StreamParser::new();
        let e = p
            .feed(b"HTTP/1.1 503 Service Unavailable\r\n\r\n", &mut |_| {})
            .unwrap_err();
        assert!(e.0.contains("503"), "{e}");

        let mut p = StreamParser::new();
        let mut wire = head(false);
        wire.extend_from_slice(b"not a delimiter at all\r\n\r\n");
        assert!(p.feed(&wire, &mut |_| {}).is_err());

        let mut p = StreamParser::new();
        let mut wire = head(true);
        wire.extend_from_slice(b"zz\r\n");
        assert!(p.feed(&wire, &mut |_| {}).is_err());
    }

    #[test]
    fn quoted_and_dashed_boundaries() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=\"--frame\"\r\n\r\n--frame\r\nContent-Length: 2\r\n\r\nhi\r\n--frame\r\n";
        let (got, _) = run(wire, 3);
        assert_eq!(
            got,
            [Part {
                len: 2,
                seq: None,
                ts: None
            }]
        );
    }
}
