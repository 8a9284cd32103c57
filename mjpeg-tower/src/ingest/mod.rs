//! Push ingest: frames `POST`ed by a client, published into a [`FrameHub`](crate::FrameHub).
//!
//! [`Ingest`] reads a request body, framework-agnostic (any
//! [`http_body::Body`]): a multipart stream (`multipart/x-mixed-replace`, or
//! any `multipart/*` with a boundary, parsed by the
//! [`Decoder`](crate::decode::Decoder) with its [`Limits`](crate::decode::Limits))
//! or a single JPEG (`image/jpeg`). Each whole frame is published as soon as
//! it is complete; nothing from a malformed or unfinished part is published,
//! so a client that disconnects mid-part leaves the hub on its last whole frame.
//!
//! The handler returns the [`IngestSummary`] or the [`IngestError`]: both
//! turn into a response (`200` with the counts, or the error's status with
//! its reason, e.g. `400` with the decoder's message), with
//! `IntoResponse` (feature `axum`) and `warp::Reply` (feature `warp`).
//!
//! ```
//! use bytes::Bytes;
//! use http::Request;
//! use http_body_util::Full;
//! use mjpeg_tower::FrameHub;
//! use mjpeg_tower::ingest::Ingest;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let hub = FrameHub::new();
//! let mut stream = b"--frame\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
//! stream.extend_from_slice(b"\xFF\xD8 one \xFF\xD9\r\n--frame--\r\n");
//! let req = Request::post("/push")
//!     .header("content-type", "multipart/x-mixed-replace; boundary=frame")
//!     .body(Full::new(Bytes::from(stream)))
//!     .unwrap();
//! let summary = Ingest::new().request(req, &hub).await.unwrap();
//! assert_eq!(summary.frames, 1);
//! assert_eq!(hub.latest().unwrap().data().as_ref(), b"\xFF\xD8 one \xFF\xD9");
//!
//! // A malformed stream: 400 with the decoder's reason, nothing published.
//! let req = Request::post("/push")
//!     .header("content-type", "multipart/x-mixed-replace; boundary=frame")
//!     .body(Full::new(Bytes::from_static(b"--frame\r\n\xFF\xD8 no end")))
//!     .unwrap();
//! let err = Ingest::new().request(req, &FrameHub::new()).await.unwrap_err();
//! assert_eq!(err.status(), 400);
//! assert!(err.to_string().contains("input ended inside the"));
//! # }
//! ```

mod error;
mod integrations;
mod push;
mod summary;

#[cfg(test)]
mod tests;

pub use self::error::IngestError;
pub use self::push::Ingest;
pub use self::summary::IngestSummary;
