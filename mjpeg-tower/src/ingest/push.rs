//! [`Ingest`]: reads a pushed request body and publishes its whole frames.

use std::error::Error as StdError;
use std::future::poll_fn;
use std::pin::pin;

use bytes::{Buf, Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request};
use http_body::Body;

use crate::decode::{Decoder, Limits, Part};
use crate::fanout::hub::FrameHub;
use crate::ingest::error::IngestError;
use crate::ingest::summary::IngestSummary;
use crate::wire::frame::Frame;

/// Publishes the frames of a pushed request body into a [`FrameHub`].
///
/// Accepts `multipart/*` with a boundary (an MJPEG stream, parsed by the
/// [`Decoder`] under [`Limits`]) and `image/jpeg` (one frame, at most
/// `Limits::max_part_size` bytes). See the [module docs](crate::ingest).
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Ingest {
    limits: Limits,
}

/// What the body holds, from its content type.
enum Kind {
    Multipart(Box<Decoder>),
    Jpeg,
}

impl Ingest {
    /// An ingest with the decoder's default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the limits: the decoder's for a multipart stream, and
    /// `max_part_size` for a single JPEG.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Reads `req`'s body by its `Content-Type` and publishes each whole
    /// frame into `hub` as soon as it is complete.
    ///
    /// # Errors
    /// An [`IngestError`] with the status to answer: an unsupported content
    /// type, a malformed or unfinished stream, a body that failed to arrive
    /// (the client went away), a too-large or broken single JPEG, or a
    /// stopped hub. Frames published before the error stay published.
    pub async fn request<B>(
        &self,
        req: Request<B>,
        hub: &FrameHub,
    ) -> Result<IngestSummary, IngestError>
    where
        B: Body,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let content_type = req.headers().get(CONTENT_TYPE).cloned();
        self.body(content_type.as_ref(), req.into_body(), hub).await
    }

    /// Like [`request`](Self::request), for a body and its `Content-Type`.
    ///
    /// # Errors
    /// As for [`request`](Self::request).
    pub async fn body<B>(
        &self,
        content_type: Option<&HeaderValue>,
        body: B,
        hub: &FrameHub,
    ) -> Result<IngestSummary, IngestError>
    where
        B: Body,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        if hub.is_stopped() {
            return Err(IngestError::HubStopped);
        }
        match self.kind(content_type)? {
            Kind::Multipart(decoder) => multipart(*decoder, body, hub).await,
            Kind::Jpeg => self.jpeg(body, hub).await,
        }
    }

    fn kind(&self, content_type: Option<&HeaderValue>) -> Result<Kind, IngestError> {
        let unsupported = |ct: Option<&str>| IngestError::UnsupportedMediaType {
            content_type: ct.map(|ct| ct.chars().take(100).collect()),
        };
        let Some(value) = content_type else {
            return Err(unsupported(None));
        };
        let Ok(text) = value.to_str() else {
            return Err(unsupported(Some("(not visible ASCII)")));
        };
        let essence = text.split(';').next().unwrap_or_default().trim();
        if essence.len() > 10 && essence[..10].eq_ignore_ascii_case("multipart/") {
            let decoder = Decoder::from_content_type(text)?.limits(self.limits);
            return Ok(Kind::Multipart(Box::new(decoder)));
        }
        if essence.eq_ignore_ascii_case("image/jpeg") {
            return Ok(Kind::Jpeg);
        }
        Err(unsupported(Some(text)))
    }

    /// One JPEG: the whole body, then one frame.
    async fn jpeg<B>(&self, body: B, hub: &FrameHub) -> Result<IngestSummary, IngestError>
    where
        B: Body,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let limit = self.limits.max_part_size;
        if body.size_hint().lower() > limit as u64 {
            return Err(IngestError::TooLarge { limit });
        }
        let mut buf = BytesMut::new();
        let mut body = pin!(body);
        while let Some(data) = next_data(body.as_mut()).await? {
            if buf.len() + data.len() > limit {
                return Err(IngestError::TooLarge { limit });
            }
            buf.extend_from_slice(&data);
        }
        let data = buf.freeze();
        if !is_whole_jpeg(&data) {
            return Err(IngestError::NotJpeg);
        }
        let mut summary = IngestSummary::default();
        publish(hub, Frame::jpeg(data), &mut summary)?;
        Ok(summary)
    }
}

/// A multipart stream: each part as soon as the decoder confirms it whole.
async fn multipart<B>(
    mut decoder: Decoder,
    body: B,
    hub: &FrameHub,
) -> Result<IngestSummary, IngestError>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut summary = IngestSummary::default();
    let mut body = pin!(body);
    while !decoder.is_closed() {
        let Some(data) = next_data(body.as_mut()).await? else {
            while let Some(part) = decoder.finish()? {
                publish_part(hub, part, &mut summary)?;
            }
            break;
        };
        decoder.push(&data);
        while let Some(part) = decoder.next_part()? {
            publish_part(hub, part, &mut summary)?;
        }
    }
    summary.skipped += decoder.empty_parts_skipped();
    Ok(summary)
}

/// The next data chunk of `body`, `None` at its end.
async fn next_data<B>(mut body: std::pin::Pin<&mut B>) -> Result<Option<Bytes>, IngestError>
where
    B: Body,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    loop {
        match poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            None => return Ok(None),
            Some(Err(err)) => return Err(IngestError::Body(err.into())),
            Some(Ok(frame)) => {
                if let Ok(mut data) = frame.into_data() {
                    return Ok(Some(data.copy_to_bytes(data.remaining())));
                }
            }
        }
    }
}

/// Publishes a part, unless it claims to be a JPEG (or says nothing) and
/// is not a whole one.
fn publish_part(
    hub: &FrameHub,
    part: Part,
    summary: &mut IngestSummary,
) -> Result<(), IngestError> {
    let content_type = part.headers.get(CONTENT_TYPE).cloned();
    let jpeg = content_type
        .as_ref()
        .is_none_or(|ct| ct.as_bytes().eq_ignore_ascii_case(b"image/jpeg"));
    if jpeg && !is_whole_jpeg(&part.body) {
        summary.skipped += 1;
        return Ok(());
    }
    let frame = match content_type {
        Some(ct) => Frame::new(part.body).with_content_type(ct),
        None => Frame::jpeg(part.body),
    };
    publish(hub, frame, summary)
}

fn publish(hub: &FrameHub, frame: Frame, summary: &mut IngestSummary) -> Result<(), IngestError> {
    let len = frame.len() as u64;
    if hub.publish(frame) {
        summary.frames += 1;
        summary.bytes += len;
        return Ok(());
    }
    if hub.is_stopped() {
        return Err(IngestError::HubStopped);
    }
    // A duplicate the hub skips.
    summary.skipped += 1;
    Ok(())
}

fn is_whole_jpeg(data: &[u8]) -> bool {
    data.len() >= 4 && data.starts_with(&[0xFF, 0xD8]) && data.ends_with(&[0xFF, 0xD9])
}
