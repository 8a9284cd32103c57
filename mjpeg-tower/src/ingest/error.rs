//! [`IngestError`]: why an ingest stopped, as a status and a reason.

use std::error::Error as StdError;
use std::fmt;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::decode::DecodeError;

/// Why an ingested request failed; frames published before the failure stay
/// published (each was whole).
///
/// [`status`](Self::status) is what to answer; the `Display` text is the
/// reason, sent as the body by [`into_http_response`](Self::into_http_response).
#[derive(Debug)]
#[non_exhaustive]
pub enum IngestError {
    /// The `Content-Type` is neither `multipart/*` with a boundary nor
    /// `image/jpeg` (`415 Unsupported Media Type`).
    UnsupportedMediaType {
        /// The content type received, if any (shortened if very long).
        content_type: Option<String>,
    },
    /// The multipart stream is malformed, or it broke off inside a part
    /// (`400 Bad Request`, with the decoder's reason).
    Decode(DecodeError),
    /// A single `image/jpeg` body is larger than the limit (`413 Payload Too Large`).
    TooLarge {
        /// The limit in bytes (`Limits::max_part_size`).
        limit: usize,
    },
    /// A single `image/jpeg` body is not a whole JPEG (`400 Bad Request`).
    NotJpeg,
    /// Reading the body failed, e.g. the client went away (`400 Bad Request`).
    Body(Box<dyn StdError + Send + Sync>),
    /// The hub was stopped (`503 Service Unavailable`).
    HubStopped,
}

impl IngestError {
    /// The status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Decode(_) | Self::NotJpeg | Self::Body(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::HubStopped => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The status with the reason as a `text/plain` body.
    pub fn into_http_response(self) -> Response<Bytes> {
        let mut res = Response::new(Bytes::from(format!("{self}\n")));
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedMediaType { content_type: None } => f.write_str(
                "no content type, expected multipart/x-mixed-replace with a boundary or image/jpeg",
            ),
            Self::UnsupportedMediaType {
                content_type: Some(ct),
            } => write!(
                f,
                "content type {ct:?} is not accepted, expected multipart/x-mixed-replace \
                 with a boundary or image/jpeg"
            ),
            Self::Decode(err) => write!(f, "malformed multipart stream: {err}"),
            Self::TooLarge { limit } => {
                write!(
                    f,
                    "the image is larger than {limit} bytes, expected at most that"
                )
            }
            Self::NotJpeg => f.write_str(
                "the body is not a whole JPEG, expected FF D8 at the start and FF D9 at the end",
            ),
            Self::Body(err) => write!(f, "reading the request body failed: {err}"),
            Self::HubStopped => f.write_str("the stream has been stopped, expected a live one"),
        }
    }
}

impl StdError for IngestError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Decode(err) => Some(err),
            Self::Body(err) => Some(&**err),
            _ => None,
        }
    }
}

impl From<DecodeError> for IngestError {
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::Transport(err) => Self::Body(err),
            err => Self::Decode(err),
        }
    }
}
