//! Hand-built JPEG byte sequences through the splitter and the source.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, ReadBuf};

use crate::pipe::{JpegSplitter, PipeSource, PipeStats};

/// A marker segment: marker, 2-byte length, payload.
fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap();
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&len.to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// SOI, `segments`, SOS, `scan` (entropy-coded data), EOI.
fn jpeg(segments: &[Vec<u8>], scan: &[u8]) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    for s in segments {
        j.extend_from_slice(s);
    }
    j.extend_from_slice(&segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    j.extend_from_slice(scan);
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

fn plain(scan: &[u8]) -> Vec<u8> {
    jpeg(&[segment(0xE0, b"JFIF\0\x01\x02")], scan)
}

/// An APP1 EXIF segment holding a whole thumbnail JPEG.
fn with_thumbnail() -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&plain(b"thumb"));
    jpeg(
        &[segment(0xE1, &exif), segment(0xDB, &[0; 65])],
        b"main picture",
    )
}

/// Scan data with stuffing, every RSTn and fill bytes before a marker.
fn stuffed() -> Vec<u8> {
    let mut scan = b"a\xFF\x00b".to_vec();
    for n in 0xD0..=0xD7 {
        scan.extend_from_slice(&[0xFF, n, b'x', 0xFF, 0x00]);
    }
    scan.extend_from_slice(b"\xFF\xFF\xD3end\xFF");
    scan.push(0x00);
    plain(&scan)
}

/// Feeds `input` in chunks from `sizes`, then finishes.
fn split_with(
    mut s: JpegSplitter,
    input: &[u8],
    mut sizes: impl FnMut() -> usize,
) -> (Vec<Bytes>, PipeStats, usize) {
    let (mut frames, mut most) = (Vec::new(), 0);
    let mut rest = input;
    while !rest.is_empty() {
        let n = sizes().clamp(1, rest.len());
        s.push(&rest[..n]);
        rest = &rest[n..];
        while let Some(f) = s.next_frame() {
            frames.push(f);
        }
        most = most.max(s.buffered());
    }
    s.finish();
    assert!(s.next_frame().is_none());
    assert_eq!(s.buffered(), 0);
    (frames, s.stats(), most)
}

fn split(input: &[u8]) -> (Vec<Bytes>, PipeStats) {
    let (frames, stats, _) = split_with(JpegSplitter::new(), input, || usize::MAX);
    // The same at every chunk size.
    for size in [1, 2, 3, 7, 64] {
        let (f, s, _) = split_with(JpegSplitter::new(), input, || size);
        assert_eq!(f, frames, "chunks of {size}");
        assert_eq!(s, stats, "chunks of {size}");
    }
    (frames, stats)
}

#[test]
fn a_thumbnail_inside_app1_does_not_split_the_frame() {
    let frame = with_thumbnail();
    let input = [frame.clone(), frame.clone()].concat();
    let (frames, stats) = split(&input);
    assert_eq!(frames, [frame.clone(), frame]);
    assert_eq!((stats.frames, stats.errors()), (2, 0));
    assert_eq!(stats.bytes, input.len() as u64);
}

#[test]
fn stuffing_and_restart_markers_are_scan_data() {
    let frame = stuffed();
    let (frames, stats) = split(&[frame.clone(), plain(b"next")].concat());
    assert_eq!(frames, [frame, plain(b"next")]);
    assert_eq!(stats.errors(), 0);
}

#[test]
fn progressive_scans_and_tables_between_them_are_followed() {
    let mut frame = plain(b"first scan");
    frame.truncate(frame.len() - 2); // drop EOI
    frame.extend_from_slice(&segment(0xC4, &[0xFF, 0xD9, 0xFF, 0xD8]));
    frame.extend_from_slice(&segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    frame.extend_from_slice(b"second scan\xFF\xD9");
    let (frames, stats) = split(&frame);
    assert_eq!(frames, [frame]);
    assert_eq!(stats.errors(), 0);
}

#[test]
fn a_truncated_tail_is_counted_and_not_yielded() {
    let whole = plain(b"whole");
    let mut input = [whole.clone(), with_thumbnail()].concat();
    input.truncate(whole.len() + 30); // inside the second frame's APP1
    let (frames, stats) = split(&input);
    assert_eq!(frames, [whole]);
    assert_eq!((stats.truncated, stats.errors()), (1, 1));
}

#[test]
fn a_frame_cut_short_by_the_next_soi_is_skipped() {
    let first = plain(b"cut short here");
    let cut = &first[..first.len() - 6];
    let second = stuffed();
    let (frames, stats) = split(&[cut, &second].concat());
    assert_eq!(frames, [second]);
    assert_eq!((stats.truncated, stats.errors()), (1, 1));
}

#[test]
fn garbage_between_frames_is_skipped_and_counted() {
    let frame = plain(b"pic");
    let garbage: &[u8] = b"\xFF\xD9 junk \xFF\x00\xFF";
    let input = [garbage, &frame, garbage, garbage, &frame, b"\n"].concat();
    let (frames, stats) = split(&input);
    assert_eq!(frames, [frame.clone(), frame]);
    assert_eq!(stats.garbage, 3);
    assert_eq!(stats.garbage_bytes, 3 * garbage.len() as u64 + 1);
    assert_eq!(stats.frames, 2);
}

#[test]
fn broken_structure_is_skipped_and_counted() {
    let good = plain(b"good");
    // A byte where a marker belongs.
    let no_marker = [&b"\xFF\xD8\x00\x01"[..], b"\xFF\xD9"].concat();
    // A segment length under 2.
    let short_len = b"\xFF\xD8\xFF\xE0\x00\x01\xFF\xD9".to_vec();
    // Tables only, no scan.
    let no_scan = [&b"\xFF\xD8"[..], &segment(0xDB, &[0; 3]), b"\xFF\xD9"].concat();
    let input = [
        no_marker,
        good.clone(),
        short_len,
        good.clone(),
        no_scan,
        good.clone(),
    ]
    .concat();
    let (frames, stats) = split(&input);
    assert_eq!(frames, [good.clone(), good.clone(), good]);
    assert_eq!(stats.corrupt, 3);
    assert_eq!(stats.frames, 3);
}

#[test]
fn oversize_frames_are_skipped_with_bounded_memory() {
    let small = plain(&[7; 50]);
    let big = jpeg(&[segment(0xE1, &[0; 3000])], &[9; 5000]);
    let input = [
        small.clone(),
        big.clone(),
        small.clone(),
        big,
        small.clone(),
    ]
    .concat();
    let limit = 200;
    for size in [1, 13, 64, 1000] {
        let s = JpegSplitter::new().max_frame_size(limit);
        let (frames, stats, most) = split_with(s, &input, || size);
        assert_eq!(frames, [small.clone(), small.clone(), small.clone()]);
        assert_eq!((stats.oversize, stats.errors()), (2, 2), "chunks of {size}");
        assert!(
            most <= limit + size + 4,
            "held {most} bytes with chunks of {size}"
        );
    }
}

/// Yields `data` in one read, then fails.
struct Failing(Option<Vec<u8>>);

impl AsyncRead for Failing {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.0.take() {
            Some(data) => {
                buf.put_slice(&data);
                Poll::Ready(Ok(()))
            }
            None => Poll::Ready(Err(io::Error::other("pipe broke"))),
        }
    }
}

#[tokio::test]
async fn the_source_yields_whole_frames_then_the_read_error() {
    let frame = with_thumbnail();
    let input = [&frame[..], &frame[..10]].concat();
    let mut source = PipeSource::new(Failing(Some(input)));
    let first = source.next().await.unwrap().unwrap();
    assert_eq!(first.data().as_ref(), &frame[..]);
    assert_eq!(first.content_type().unwrap(), "image/jpeg");
    let err = source.next().await.unwrap().unwrap_err();
    assert_eq!(err.to_string(), "pipe broke");
    assert!(source.next().await.is_none());
    assert_eq!((source.stats().frames, source.stats().truncated), (1, 1));
}

#[tokio::test]
async fn the_source_publishes_into_a_hub_until_the_input_ends() {
    let input = [plain(b"1"), stuffed(), with_thumbnail()].concat();
    let hub = crate::fanout::hub::FrameHub::new();
    let stats = PipeSource::new(&input[..]).publish_to(&hub).await.unwrap();
    assert_eq!((stats.frames, stats.errors()), (3, 0));
    assert_eq!(hub.stats().published, 3);
    assert_eq!(hub.latest().unwrap().data().as_ref(), &with_thumbnail()[..]);
}
