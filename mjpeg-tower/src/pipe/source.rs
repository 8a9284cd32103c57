//! [`PipeSource`]: whole JPEG frames from any [`AsyncRead`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, ReadBuf};

use crate::fanout::hub::FrameHub;
use crate::pipe::splitter::JpegSplitter;
use crate::pipe::stats::PipeStats;
use crate::wire::frame::Frame;

/// Bytes read at a time.
const CHUNK: usize = 64 * 1024;

pin_project! {
    /// A stream of whole JPEG frames read from concatenated JPEGs, such as
    /// `ffmpeg -i <input> -f mjpeg -` writes to its stdout.
    ///
    /// Frames are cut by a [`JpegSplitter`]; truncated, broken and oversize
    /// frames and garbage between frames are skipped and counted in
    /// [`stats`](Self::stats), never yielded. A read error ends the stream
    /// after it is yielded; the end of input ends it.
    ///
    /// Feed a [`FrameHub`] with [`publish_to`](Self::publish_to), or stream
    /// it to one viewer with [`Mjpeg::try_new`](crate::Mjpeg::try_new).
    pub struct PipeSource<R> {
        #[pin]
        reader: R,
        splitter: JpegSplitter,
        chunk: Box<[u8]>,
        done: bool,
    }
}

impl<R> PipeSource<R> {
    /// Reads frames from `reader`, with the default maximum frame size
    /// ([`DEFAULT_MAX_FRAME_SIZE`](crate::pipe::DEFAULT_MAX_FRAME_SIZE)).
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            splitter: JpegSplitter::new(),
            chunk: vec![0; CHUNK].into_boxed_slice(),
            done: false,
        }
    }

    /// Sets the largest frame in bytes; larger frames are skipped and counted
    /// in [`PipeStats::oversize`]. Memory stays within about this size plus
    /// 64 KiB.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.splitter = self.splitter.max_frame_size(bytes);
        self
    }

    /// What has been read and skipped so far.
    pub fn stats(&self) -> PipeStats {
        self.splitter.stats()
    }
}

impl<R: AsyncRead> PipeSource<R> {
    /// Publishes every frame into `hub` until the input ends or the hub is
    /// [stopped](FrameHub::stop), and returns the counters.
    ///
    /// # Errors
    /// The reader's error, if reading fails.
    pub async fn publish_to(self, hub: &FrameHub) -> io::Result<PipeStats> {
        let mut this = pin!(self);
        while !hub.is_stopped() {
            match poll_fn(|cx| this.as_mut().poll_next(cx)).await {
                Some(Ok(frame)) => {
                    hub.publish(frame);
                }
                Some(Err(err)) => return Err(err),
                None => break,
            }
        }
        Ok(this.stats())
    }
}

impl<R: AsyncRead> Stream for PipeSource<R> {
    type Item = io::Result<Frame>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            if let Some(frame) = this.splitter.next_frame() {
                return Poll::Ready(Some(Ok(Frame::jpeg(frame))));
            }
            let mut buf = ReadBuf::new(this.chunk);
            match ready!(this.reader.as_mut().poll_read(cx, &mut buf)) {
                Ok(()) if buf.filled().is_empty() => {
                    this.splitter.finish();
                    *this.done = true;
                }
                Ok(()) => this.splitter.push(buf.filled()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    this.splitter.finish();
                    *this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }
}

impl<R> fmt::Debug for PipeSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeSource")
            .field("splitter", &self.splitter)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
