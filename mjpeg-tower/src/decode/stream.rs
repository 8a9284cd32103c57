//! A [`Stream`] adapter that turns a stream of byte chunks into parts.

use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::decode::error::DecodeError;
use crate::decode::parser::Decoder;
use crate::decode::part::Part;

pin_project! {
    /// Decodes a stream of body chunks into a stream of [`Part`]s.
    ///
    /// A transport error is reported as [`DecodeError::Transport`]. At the end of the
    /// input the decoder is [finished](Decoder::finish). The stream ends after the close
    /// delimiter (without reading the epilogue) and after the first error.
    #[derive(Debug)]
    pub struct PartStream<S> {
        decoder: Decoder,
        #[pin]
        inner: S,
        input_done: bool,
        done: bool,
    }
}

impl<S> PartStream<S> {
    /// Wraps `stream`, decoding it with `decoder`.
    pub fn new(decoder: Decoder, stream: S) -> Self {
        Self {
            decoder,
            inner: stream,
            input_done: false,
            done: false,
        }
    }

    /// The decoder, e.g. to read its counters.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }
}

impl<S, E> Stream for PartStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    type Item = Result<Part, DecodeError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            // `Some(item)`: the stream yields `item`, and ends unless it is a part.
            let item = if *this.input_done {
                Some(this.decoder.finish().transpose())
            } else {
                match this.decoder.next_part() {
                    Ok(Some(part)) => return Poll::Ready(Some(Ok(part))),
                    Ok(None) if this.decoder.is_closed() => Some(None),
                    Ok(None) => None,
                    Err(e) => Some(Some(Err(e))),
                }
            };
            if let Some(item) = item {
                if !matches!(item, Some(Ok(_))) {
                    *this.done = true;
                }
                return Poll::Ready(item);
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => this.decoder.push(&chunk),
                Some(Err(e)) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(DecodeError::Transport(e.into()))));
                }
                None => *this.input_done = true,
            }
        }
    }
}

impl<S, E> FusedStream for PartStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream::{self, StreamExt};
    use std::io;

    const INPUT: &[u8] =
        b"--B\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\n\r\nhello\r\n--B\r\n\
        Content-Type: image/jpeg\r\n\r\nworld\r\n--B--\r\n";

    fn chunked(input: &[u8], size: usize) -> Vec<Result<Bytes, io::Error>> {
        input
            .chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect()
    }

    async fn collect<S>(s: PartStream<S>) -> Vec<Result<Part, DecodeError>>
    where
        PartStream<S>: Stream<Item = Result<Part, DecodeError>>,
    {
        s.collect().await
    }

    #[tokio::test]
    async fn yields_parts_from_chunks() {
        for size in [1, 3, 1000] {
            let s = PartStream::new(
                Decoder::new("B").unwrap(),
                stream::iter(chunked(INPUT, size)),
            );
            let parts = collect(s).await;
            let bodies: Vec<_> = parts.into_iter().map(|p| p.unwrap().body).collect();
            assert_eq!(bodies, [&b"hello"[..], b"world"]);
        }
    }

    #[tokio::test]
    async fn maps_transport_error_and_ends() {
        let mut items = chunked(&INPUT[..64], 16);
        items.push(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "reset by peer",
        )));
        items.extend(chunked(&INPUT[64..], 16));
        let mut s = PartStream::new(Decoder::new("B").unwrap(), stream::iter(items));
        assert_eq!(&s.next().await.unwrap().unwrap().body[..], b"hello");
        let err = s.next().await.unwrap().unwrap_err();
        assert!(matches!(err, DecodeError::Transport(_)));
        assert!(err.to_string().contains("reset by peer"));
        assert!(StdError::source(&err).is_some());
        assert!(s.next().await.is_none());
        assert!(s.is_terminated());
    }

    #[tokio::test]
    async fn finishes_at_end_of_input() {
        let s = PartStream::new(
            Decoder::new("B").unwrap(),
            stream::iter(chunked(&INPUT[..70], 7)),
        );
        let parts = collect(s).await;
        assert_eq!(parts.len(), 2);
        assert_eq!(&parts[0].as_ref().unwrap().body[..], b"hello");
        assert!(matches!(
            parts[1],
            Err(DecodeError::Truncated { part: 2, .. })
        ));

        // A complete Content-Length part is returned when the input simply stops.
        let s = PartStream::new(
            Decoder::new("B").unwrap(),
            stream::iter(chunked(&INPUT[..58], 4)),
        );
        let parts = collect(s).await;
        assert_eq!(parts.len(), 1);
        assert_eq!(&parts[0].as_ref().unwrap().body[..], b"hello");
    }

    #[tokio::test]
    async fn stops_reading_after_close() {
        let mut items = chunked(INPUT, 1000);
        items.push(Err(io::Error::other("must not be read")));
        let mut s = PartStream::new(Decoder::new("B").unwrap(), stream::iter(items));
        assert!(s.next().await.unwrap().is_ok());
        assert!(s.next().await.unwrap().is_ok());
        assert!(s.next().await.is_none());
        assert!(s.decoder().is_closed());
        assert_eq!(s.decoder().parts_seen(), 2);
    }
}
