use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::poll_fn;

use http_body::Frame;

use super::*;

/// A body that yields its chunks, all ready; then ends, or with `wait`
/// stays pending. Counts its polls.
struct Chunks {
    chunks: VecDeque<&'static [u8]>,
    wait: bool,
    polls: usize,
}

impl Chunks {
    fn new(chunks: &[&'static [u8]], wait: bool) -> Self {
        Self {
            chunks: chunks.iter().copied().collect(),
            wait,
            polls: 0,
        }
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        this.polls += 1;
        match this.chunks.pop_front() {
            Some(c) => Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(c))))),
            None if this.wait => Poll::Pending,
            None => Poll::Ready(None),
        }
    }
}

#[test]
fn a_waiting_body_is_not_polled_again_until_it_wakes() {
    // Every frame of a stream ends with the body pending: polling it
    // once more after the write costs each viewer a queue lock per frame.
    let mut body = Chunks::new(&[b"frame"], true);
    let mut io = Trickle {
        out: Vec::new(),
        step: usize::MAX,
    };
    let mut send = Outgoing::new(b"HEAD\r\n".to_vec(), Framing::Chunked);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let polled = send.poll_send(Pin::new(&mut body), Pin::new(&mut io), &mut cx);
    assert!(polled.is_pending());
    assert_eq!(io.out, b"HEAD\r\n5\r\nframe\r\n");
    assert_eq!(body.polls, 2, "one chunk, one pending");
}

#[test]
fn a_socket_that_takes_nothing_holds_the_body_to_the_low_water_mark() {
    // What a viewer that stopped reading takes from its queue: frames
    // taken here are out of reach of the layer's overflow policy.
    const FRAME: &[u8] = &[0xAB; 50_000];
    let mut body = Chunks::new(&[FRAME; 20], true);
    let mut send = Outgoing::new(b"HEAD\r\n".to_vec(), Framing::Chunked);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let polled = send.poll_send(Pin::new(&mut body), Pin::new(&mut Stuck), &mut cx);
    assert!(polled.is_pending());
    let frames = LOW_WATER.div_ceil(FRAME.len());
    assert_eq!(body.polls, frames, "{} bytes queued", send.queued);
    assert!(send.queued < LOW_WATER + FRAME.len() + 16);
}

/// A socket whose client reads nothing: every write waits.
struct Stuck;

impl AsyncWrite for Stuck {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Pending
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

/// A writer that takes at most `step` bytes per call.
struct Trickle {
    out: Vec<u8>,
    step: usize,
}

impl AsyncWrite for Trickle {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = buf.len().min(this.step);
        this.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

async fn send(framing: Framing, chunks: &[&'static [u8]], step: usize) -> io::Result<Vec<u8>> {
    let mut body = Chunks::new(chunks, false);
    let mut io = Trickle {
        out: Vec::new(),
        step,
    };
    let mut send = Outgoing::new(b"HEAD\r\n".to_vec(), framing);
    poll_fn(|cx| send.poll_send(Pin::new(&mut body), Pin::new(&mut io), cx)).await?;
    Ok(io.out)
}

#[tokio::test]
async fn ready_chunks_go_out_as_one_chunk_through_partial_writes() {
    for step in [1, 3, 7, 1000] {
        let out = send(Framing::Chunked, &[b"--b\r\n", b"", b"jpeg", b"\r\n"], step)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out, b"HEAD\r\nB\r\n--b\r\njpeg\r\n\r\n0\r\n\r\n",
            "step {step}"
        );
    }
}

#[tokio::test]
async fn a_sized_body_is_sent_as_is_and_held_to_its_length() {
    let out = send(Framing::Length(6), &[b"abc", b"def"], 4)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, b"HEAD\r\nabcdef");
    assert!(
        send(Framing::Length(5), &[b"abc", b"def"], 4)
            .await
            .is_err()
    );
    assert!(
        send(Framing::Length(7), &[b"abc", b"def"], 4)
            .await
            .is_err()
    );
    let out = send(Framing::None, &[b"abc"], 4)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out, b"HEAD\r\n", "no body for 204 or 304");
}
