//! `IntoResponse` (feature `axum`) and `warp::Reply` (feature `warp`) for
//! the ingest's summary and error, like the responders have.

#[cfg(feature = "axum")]
mod axum {
    use axum_core::body::Body;
    use axum_core::response::{IntoResponse, Response};

    use crate::ingest::error::IngestError;
    use crate::ingest::summary::IngestSummary;

    impl IntoResponse for IngestSummary {
        fn into_response(self) -> Response {
            self.into_http_response().map(Body::from)
        }
    }

    impl IntoResponse for IngestError {
        fn into_response(self) -> Response {
            self.into_http_response().map(Body::from)
        }
    }
}

#[cfg(feature = "warp")]
mod warp {
    use warp::reply::{Reply, Response};

    use crate::ingest::error::IngestError;
    use crate::ingest::summary::IngestSummary;

    fn into_warp(res: http::Response<bytes::Bytes>) -> Response {
        res.map(Into::into)
    }

    impl Reply for IngestSummary {
        fn into_response(self) -> Response {
            into_warp(self.into_http_response())
        }
    }

    impl Reply for IngestError {
        fn into_response(self) -> Response {
            into_warp(self.into_http_response())
        }
    }
}
