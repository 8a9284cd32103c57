//! [`Frame`]: one part of a multipart stream.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, header};

/// One image (or any payload) to send as a part of the stream.
///
/// A frame is its payload plus an optional content type and extra part
/// headers. Cloning a frame never copies the payload: [`Bytes`] is shared.
///
/// ```
/// use mjpeg_tower::Frame;
/// use http::{HeaderName, HeaderValue};
///
/// let frame = Frame::jpeg(vec![0xFF, 0xD8, 0xFF, 0xD9])
///     .with_header(HeaderName::from_static("x-timestamp"), HeaderValue::from_static("1.5"));
/// assert_eq!(frame.len(), 4);
/// assert_eq!(frame.content_type().unwrap(), "image/jpeg");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    data: Bytes,
    content_type: Option<HeaderValue>,
    headers: HeaderMap,
}

impl Frame {
    /// A frame with the layer's default part content type (`image/jpeg` unless configured).
    pub fn new(data: impl Into<Bytes>) -> Self {
        Self {
            data: data.into(),
            content_type: None,
            headers: HeaderMap::new(),
        }
    }

    /// A frame that is explicitly `image/jpeg`.
    pub fn jpeg(data: impl Into<Bytes>) -> Self {
        Self::new(data).with_content_type(HeaderValue::from_static("image/jpeg"))
    }

    /// Sets this frame's `Content-Type`, overriding the layer's part default.
    #[must_use]
    pub fn with_content_type(mut self, value: HeaderValue) -> Self {
        self.content_type = Some(value);
        self
    }

    /// Adds (or replaces) a part header for this frame only.
    ///
    /// `Content-Type` sets the content type; `Content-Length` is ignored, since
    /// the real length is always sent.
    ///
    /// # Note
    /// With [`Framing::AdvanceHeaders`](crate::Framing::AdvanceHeaders) the
    /// next part's headers are sent before its frame is known, so a frame with
    /// headers of its own goes out as a `Standard` part with `Content-Length`,
    /// which Chrome draws when the next frame arrives; see
    /// [`Framing`](crate::Framing#frames-with-their-own-headers).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        if name == header::CONTENT_TYPE {
            self.content_type = Some(value);
        } else if name != header::CONTENT_LENGTH {
            self.headers.insert(name, value);
        }
        self
    }

    /// The payload.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// Consumes the frame, returning its payload.
    pub fn into_data(self) -> Bytes {
        self.data
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// This frame's own content type, if it set one.
    pub fn content_type(&self) -> Option<&HeaderValue> {
        self.content_type.as_ref()
    }

    /// This frame's own extra part headers (never `Content-Type` or `Content-Length`).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

impl From<Bytes> for Frame {
    fn from(data: Bytes) -> Self {
        Self::new(data)
    }
}

impl From<Vec<u8>> for Frame {
    fn from(data: Vec<u8>) -> Self {
        Self::new(data)
    }
}

impl From<&'static str> for Frame {
    fn from(data: &'static str) -> Self {
        Self::new(data)
    }
}

impl From<&'static [u8]> for Frame {
    fn from(data: &'static [u8]) -> Self {
        Self::new(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_the_payload() {
        let frame = Frame::new(vec![1u8; 1024]);
        let copy = frame.clone();
        assert_eq!(frame.data().as_ptr(), copy.data().as_ptr());
    }

    #[test]
    fn content_length_header_is_ignored_and_content_type_is_kept_apart() {
        let frame = Frame::new(&b"x"[..])
            .with_header(header::CONTENT_LENGTH, HeaderValue::from_static("99"))
            .with_header(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        assert!(frame.headers().is_empty());
        assert_eq!(frame.content_type().unwrap(), "image/png");
    }
}
