//! Ingest over in-memory bodies; the socket tests are in the axum adapter.

use std::io;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderValue, StatusCode};
use http_body_util::{Full, StreamBody};

use crate::decode::{DecodeError, Limits};
use crate::fanout::hub::FrameHub;
use crate::ingest::{Ingest, IngestError};

const JPEG: &[u8] = b"\xFF\xD8 a picture \xFF\xD9";
const MULTIPART: &str = "multipart/x-mixed-replace; boundary=frame";

fn ct(value: &'static str) -> HeaderValue {
    HeaderValue::from_static(value)
}

fn part(body: &[u8]) -> Vec<u8> {
    let head = format!(
        "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body, b"\r\n"].concat()
}

fn full(data: Vec<u8>) -> Full<Bytes> {
    Full::new(Bytes::from(data))
}

#[tokio::test]
async fn a_multipart_stream_publishes_every_whole_part() {
    let hub = FrameHub::new();
    let two = b"\xFF\xD8 two \xFF\xD9";
    let input = [
        part(JPEG),
        part(b"not a jpeg"),
        part(two),
        b"--frame--\r\n".to_vec(),
    ]
    .concat();
    let summary = Ingest::new()
        .body(Some(&ct(MULTIPART)), full(input), &hub)
        .await
        .unwrap();
    assert_eq!((summary.frames, summary.skipped), (2, 1));
    assert_eq!(summary.bytes, (JPEG.len() + two.len()) as u64);
    assert_eq!(hub.stats().published, 2);
    assert_eq!(hub.latest().unwrap().data().as_ref(), two);
    let res = summary.into_http_response();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.body().as_ref(),
        b"published 2 frames (24 bytes), skipped 1\n"
    );
}

#[tokio::test]
async fn a_single_jpeg_is_one_frame() {
    let hub = FrameHub::new();
    let ingest = Ingest::new();
    let summary = ingest
        .body(Some(&ct("image/jpeg")), full(JPEG.to_vec()), &hub)
        .await
        .unwrap();
    assert_eq!(summary.frames, 1);
    assert_eq!(hub.latest().unwrap().content_type().unwrap(), "image/jpeg");

    let err = ingest
        .body(
            Some(&ct("image/jpeg")),
            full(b"\xFF\xD8 cut".to_vec()),
            &hub,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, IngestError::NotJpeg));
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);

    let small = Limits {
        max_part_size: 8,
        ..Limits::default()
    };
    let err = Ingest::new()
        .limits(small)
        .body(Some(&ct("image/jpeg")), full(JPEG.to_vec()), &hub)
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(hub.stats().published, 1);
}

#[tokio::test]
async fn malformed_streams_are_400_with_the_decoders_reason_and_publish_nothing() {
    let hub = FrameHub::new();
    let strict_small = Limits {
        max_part_size: 10,
        ..Limits::default()
    };
    let cases: [(Ingest, Vec<u8>); 2] = [
        (
            Ingest::new(),
            b"--frame\r\n\xFF\xD8 headers never end".to_vec(),
        ),
        (Ingest::new().limits(strict_small), part(JPEG)),
    ];
    for (ingest, input) in cases {
        let err = ingest
            .body(Some(&ct(MULTIPART)), full(input), &hub)
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{err}");
        let IngestError::Decode(inner) = &err else {
            panic!("{err:?}");
        };
        let inner = inner.to_string();
        let text = err.into_http_response();
        let text = String::from_utf8_lossy(text.body());
        assert!(
            text.starts_with("malformed multipart stream: part 1:"),
            "{text}"
        );
        assert!(text.contains(&inner));
    }
    assert!(matches!(
        Ingest::new()
            .body(Some(&ct("multipart/x-mixed-replace")), full(vec![]), &hub)
            .await,
        Err(IngestError::Decode(DecodeError::MissingBoundary { .. }))
    ));
    assert_eq!(hub.stats().published, 0);
    assert!(hub.latest().is_none());
}

#[tokio::test]
async fn a_body_that_breaks_off_mid_part_publishes_only_whole_parts() {
    let hub = FrameHub::new();
    let whole = part(JPEG);
    let second = part(b"\xFF\xD8 second \xFF\xD9");
    let chunks: Vec<Result<http_body::Frame<Bytes>, io::Error>> = vec![
        Ok(http_body::Frame::data(Bytes::from(whole))),
        // Every byte of the second part but the delimiter after it.
        Ok(http_body::Frame::data(Bytes::from(second))),
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let body = StreamBody::new(stream::iter(chunks));
    let err = Ingest::new()
        .body(Some(&ct(MULTIPART)), body, &hub)
        .await
        .unwrap_err();
    assert!(matches!(err, IngestError::Body(_)), "{err:?}");
    assert!(err.to_string().contains("client went away"));
    // The first part was confirmed by the second's delimiter; the second never was.
    assert_eq!(hub.stats().published, 1);
    assert_eq!(hub.latest().unwrap().data().as_ref(), JPEG);
}

#[tokio::test]
async fn other_content_types_and_a_stopped_hub_are_refused() {
    let hub = FrameHub::new();
    for value in [None, Some(ct("text/plain")), Some(ct("image/png"))] {
        let err = Ingest::new()
            .body(value.as_ref(), Full::new(Bytes::from_static(JPEG)), &hub)
            .await
            .unwrap_err();
        assert_eq!(
            err.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{value:?}"
        );
        assert!(
            err.to_string()
                .contains("expected multipart/x-mixed-replace")
        );
    }
    hub.stop();
    let body: Full<Bytes> = Full::new(Bytes::from_static(JPEG));
    let err = Ingest::new()
        .body(Some(&ct("image/jpeg")), body, &hub)
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
}
